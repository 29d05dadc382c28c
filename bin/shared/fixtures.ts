/** The fixtures a `test` run uses. */
import { ConfigError, ConfigErrors, type Fixture, type FileRegistryStore, type PromptSpec } from '../../lib';

function aboutInputs(error: ConfigError): boolean {
	const field = error.location.field;
	return field === 'inputs' || (field?.startsWith('inputs.') ?? false);
}

/**
 * Every fixture, checked against the spec. A fixture whose inputs do not fit the prompt (a missing or
 * wrong-typed variable) is kept: running it fails that one fixture with a message naming the variable,
 * as the runner does for any input error. Every other problem (a bad file, an `expected` outside the
 * declared schema) stops the run with the file and line.
 */
export async function loadFixturesForRun(store: FileRegistryStore, promptId: string, spec: PromptSpec): Promise<Fixture[]> {
	const fixtures = await store.listFixtures(promptId);
	const errors: ConfigError[] = [];
	for (const fixture of fixtures) {
		try {
			await store.readFixture(promptId, fixture.id, spec);
		} catch (error) {
			const list = error instanceof ConfigErrors ? error.errors : error instanceof ConfigError ? [error] : undefined;
			if (!list) throw error;
			errors.push(...list.filter((e) => !aboutInputs(e)));
		}
	}
	if (errors.length === 1) throw errors[0];
	if (errors.length > 1) throw new ConfigErrors(errors);
	return fixtures;
}
