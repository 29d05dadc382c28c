/**
 * Corrections made by people become fixtures. A correction of inputs that a fixture already covers
 * (corrected before, written by hand or imported) updates that fixture.
 */
import { InputError } from './errors';
import { canonicalJson, sha256 } from './hash';
import { expectedProblem } from './answer/unwrap';
import { coercionHint, coerceToSchema } from './coerce';
import { validateValue } from './schema';
import { checkVariables } from './template';
import { resolvePrompt } from './registry/resolve';
import type { RegistryStore } from './registry/store';
import type { Fixture, OutputValue, PromptSpec } from './types';

export interface CorrectionInput {
	promptId: string;
	/** The version that produced the answer (from the item's trace); 'draft' or undefined reads the draft. */
	version?: number | 'draft';
	variables: Record<string, unknown>;
	/** What the model answered (value or raw text), kept as evidence. */
	modelOutput: unknown;
	/** The right answer; strings from forms are converted to the declared type. */
	corrected: unknown;
	segment?: string;
	note?: string;
	now?: Date;
}

/** Keep only the prompt's declared inputs, so extra item fields do not split one case into many. */
export function declaredInputs(spec: PromptSpec, variables: Record<string, unknown>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const name of Object.keys(spec.inputs)) if (Object.hasOwn(variables, name) && variables[name] !== undefined) out[name] = variables[name];
	return out;
}

export function correctionFixtureId(inputs: Record<string, unknown>): string {
	return `correction-${sha256(canonicalJson(inputs)).slice(0, 16)}`;
}

/**
 * The fixture that already covers exactly these inputs, whatever its source (manual, import,
 * correction): a correction updates it rather than adding a second fixture that contradicts it.
 * An earlier correction of these inputs (its id is derived from them) wins over other matches.
 */
async function fixtureWithInputs(store: RegistryStore, promptId: string, inputs: Record<string, unknown>): Promise<Fixture | undefined> {
	const own = await store.readFixture(promptId, correctionFixtureId(inputs));
	if (own) return own;
	return store.findFixtureByInputs(promptId, inputs);
}

/** Record a person's correction as a fixture (created, or updating the one with the same inputs); `created` is atomic. */
export async function recordCorrection(store: RegistryStore, input: CorrectionInput): Promise<{ fixture: Fixture; created: boolean }> {
	const resolved = await resolvePrompt(store, input.promptId, { version: input.version ?? 'draft' });
	const spec = resolved.spec;
	const inputs = declaredInputs(spec, input.variables);
	for (const [name, decl] of Object.entries(spec.inputs)) {
		if (decl.required && !Object.hasOwn(inputs, name)) {
			throw new InputError(`correction for "${input.promptId}": the trace has no value for required input "${name}". Pass the item's variables (the trace from Extract Signal / Run Prompt Release).`);
		}
	}
	// The fixture must load and run later: a wrong-typed input would break every test of the prompt.
	try {
		checkVariables(input.promptId, spec.inputs, inputs);
	} catch (error) {
		if (error instanceof InputError) throw new InputError(`correction for "${input.promptId}": ${error.message.replace(/^prompt "[^"]*": /, '')}`);
		throw error;
	}
	const expected = coerceToSchema(spec.output, input.corrected);
	const check = validateValue(spec.output, expected);
	if (!check.ok) {
		const unconverted = typeof expected === 'string' && spec.output.type !== 'object' && spec.output.type !== 'string';
		const hint = unconverted && spec.output.type !== 'object' ? coercionHint(spec.output, input.corrected) : undefined;
		throw new InputError(`correction for "${input.promptId}": corrected value ${JSON.stringify(input.corrected)} ${check.reason}. Enter a value of the declared type${hint ? ` (${hint})` : ''}.`);
	}
	const problem = expectedProblem(spec.output, check.value, 'the corrected value');
	if (problem) throw new InputError(`correction for "${input.promptId}": ${problem}`);
	const existing = await fixtureWithInputs(store, input.promptId, inputs);
	const fixture: Fixture = {
		id: existing?.id ?? correctionFixtureId(inputs),
		inputs,
		expected: check.value as OutputValue,
		...((input.segment ?? existing?.segment) ? { segment: input.segment ?? existing?.segment } : {}),
		...(existing?.tags?.length ? { tags: existing.tags } : {}),
		source: 'correction',
		...((input.note ?? existing?.note) ? { note: input.note ?? existing?.note } : {}),
		recorded: { version: resolved.version, modelOutput: input.modelOutput ?? null, at: (input.now ?? new Date()).toISOString() },
	};
	// `created` comes from the write itself: of two workers correcting the same new inputs at once, one creates.
	const created = await store.writeFixture(input.promptId, fixture);
	return { fixture, created };
}
