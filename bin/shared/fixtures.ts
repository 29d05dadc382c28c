/** The fixtures a `test` run uses. */
import { ConfigError, ConfigErrors, type Fixture, type RegistryStore, type PromptSpec } from '../../lib';

/**
 * Every fixture, checked against the spec exactly as `validate` checks it: a bad file, inputs that do
 * not fit the prompt (a missing, undeclared or wrong-typed variable) or an `expected` outside the
 * declared schema stops the run before any model call, naming file and line. Every problem is reported.
 */
export async function loadFixturesForRun(store: RegistryStore, promptId: string, spec: PromptSpec): Promise<Fixture[]> {
	// The usual case reads every fixture once; only when one does not fit is each read again to name every problem.
	try {
		return await store.listFixtures(promptId, spec);
	} catch (error) {
		if (!(error instanceof ConfigError) && !(error instanceof ConfigErrors)) throw error;
	}
	const fixtures = await store.listFixtures(promptId);
	const errors: ConfigError[] = [];
	for (const fixture of fixtures) {
		try {
			await store.readFixture(promptId, fixture.id, spec);
		} catch (error) {
			if (error instanceof ConfigErrors) errors.push(...error.errors);
			else if (error instanceof ConfigError) errors.push(error);
			else throw error;
		}
	}
	if (errors.length === 1) throw errors[0];
	if (errors.length > 1) throw new ConfigErrors(errors);
	return fixtures;
}

/**
 * Check every fixture as `loadFixturesForRun` does, one at a time without keeping them; returns how many
 * there are. Every problem is reported (file and line); the run then reads the fixtures again as a stream.
 */
export async function checkFixturesForRun(store: RegistryStore, promptId: string, spec: PromptSpec): Promise<number> {
	const errors: ConfigError[] = [];
	let count = 0;
	for await (const fixture of store.streamFixtures(promptId, spec, (e) => void errors.push(e))) {
		void fixture;
		count++;
	}
	if (errors.length === 1) throw errors[0];
	if (errors.length > 1) throw new ConfigErrors(errors);
	return count + errors.length;
}
