/**
 * Checks of one prompt's fixture set that no single fixture file shows, shared by `validate` on a folder
 * (lib/validate-registry.ts) and on PostgreSQL (./validate-store.ts): an expected value the prompt's answers
 * can never match, and two fixtures with the same inputs (never both passing when their expected values
 * differ; a duplicate when they agree).
 */
import { ConfigError, type ErrorLocation } from '../errors';
import { expectedProblem } from '../answer/unwrap';
import { fixtureInputsHash } from '../runner';
import { valuesEqual } from '../schema';
import type { Fixture, PromptSpec } from '../types';

/** Feed a prompt's fixtures one at a time (any order; ids name the earlier one); each call returns the problems of that fixture. */
export class FixtureSetCheck {
	/** Inputs hash → the first fixture seen with those inputs. */
	private readonly byInputs = new Map<string, { id: string; expected: unknown }>();

	constructor(private readonly spec: PromptSpec) {}

	/**
	 * The problems of `fixture` against the prompt and the fixtures fed before it, located at `where`
	 * (its file on a folder; on PostgreSQL a description naming prompt and fixture).
	 */
	check(fixture: Fixture, where: ErrorLocation): ConfigError[] {
		return this.checkWithKey(fixture, where).errors;
	}

	/**
	 * `check`, also saying whether `fixture` is the first fed with its inputs (the one the fixture index must
	 * name) and the sha256 hex of its inputs (`inputsKey`, the index key).
	 */
	checkWithKey(fixture: Fixture, where: ErrorLocation): { errors: ConfigError[]; first: boolean; key: string } {
		const errors: ConfigError[] = [];
		const problem = expectedProblem(this.spec.output, fixture.expected);
		if (problem) errors.push(new ConfigError(problem, { ...where, field: 'expected' }));
		const key = fixtureInputsHash(fixture);
		const first = this.byInputs.get(key);
		if (first && !valuesEqual(first.expected, fixture.expected)) {
			errors.push(new ConfigError(`same inputs as fixture "${first.id}" but expected ${JSON.stringify(fixture.expected)} instead of ${JSON.stringify(first.expected)}: the prompt can never pass both; keep one`, { ...where, field: 'inputs' }));
		} else if (first) {
			errors.push(new ConfigError(`same inputs and expected value as fixture "${first.id}": remove the duplicate`, { ...where, field: 'inputs' }));
		} else {
			this.byInputs.set(key, { id: fixture.id, expected: fixture.expected });
		}
		return { errors, first: first === undefined, key: key.slice('sha256:'.length) };
	}
}
