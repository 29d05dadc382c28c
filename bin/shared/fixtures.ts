/** The fixtures a run (`test`, `drift`, `migrate`) goes through, checked first. */
import { ConfigError, ConfigErrors, type Fixture, type RegistryStore, type PromptSpec } from '../../lib';

/**
 * Check every fixture against the spec exactly as `validate` checks it (a bad file, inputs that do not fit the
 * prompt, an `expected` outside the declared schema), one at a time without keeping them; returns how many
 * there are. Every problem is reported (file and line) before any model call; the run then reads the fixtures
 * again as a stream.
 */
export async function checkFixturesForRun(store: RegistryStore, promptId: string, spec: PromptSpec): Promise<number> {
	return (await checkFixturesKeeping(store, promptId, spec, { fixtures: 0, bytes: 0 })).count;
}

/** How many checked fixtures `checkFixturesKeeping` keeps for the run: at most this many, taking at most this many bytes as JSON. */
export interface KeepBudget {
	fixtures: number;
	bytes: number;
}

/**
 * 10,000 fixtures or 16 MB of them as JSON: a run of up to that size parses each fixture file once. Beyond it
 * the check keeps nothing and the run reads the fixtures again (memory stays flat in the fixture count).
 */
export const KEEP_CHECKED: KeepBudget = { fixtures: 10_000, bytes: 16 * 1024 * 1024 };

export interface CheckedFixtures {
	/** How many fixtures there are. */
	count: number;
	/**
	 * What the run should go through, in id order: the fixtures just checked when they fit the budget (each
	 * dropped once the run has taken it), else the store's stream (which checks each fixture again as it reads it).
	 */
	fixtures: Iterable<Fixture> | AsyncIterable<Fixture>;
}

/**
 * `checkFixturesForRun`, keeping the checked fixtures for the run while they fit `budget`: parsing and checking
 * a fixture file costs far more than running a cached answer, so a rerun should not do it twice. The kept
 * fixtures are exactly the ones checked (a file changed in between is read at the next run).
 * Throws ConfigError / ConfigErrors naming every fixture that does not fit the prompt.
 */
export async function checkFixturesKeeping(store: RegistryStore, promptId: string, spec: PromptSpec, budget: KeepBudget = KEEP_CHECKED): Promise<CheckedFixtures> {
	const errors: ConfigError[] = [];
	let count = 0;
	let kept: Fixture[] | undefined = budget.fixtures > 0 ? [] : undefined;
	let bytes = 0;
	for await (const fixture of store.streamFixtures(promptId, spec, (e) => void errors.push(e))) {
		count++;
		if (!kept) continue;
		bytes += JSON.stringify(fixture).length;
		if (kept.length >= budget.fixtures || bytes > budget.bytes) kept = undefined;
		else kept.push(fixture);
	}
	if (errors.length === 1) throw errors[0];
	if (errors.length > 1) throw new ConfigErrors(errors);
	return { count: count + errors.length, fixtures: kept ? handOver(kept) : store.streamFixtures(promptId, spec) };
}

/** The list's items in order, each slot cleared once taken, so the run does not hold fixtures it is done with. */
function* handOver(list: Fixture[]): Generator<Fixture> {
	for (let i = 0; i < list.length; i++) {
		const fixture = list[i];
		(list as Array<Fixture | undefined>)[i] = undefined;
		yield fixture;
	}
}
