/**
 * Corrections made by people become fixtures. A correction of inputs that a fixture already covers
 * (corrected before, written by hand or imported) updates that fixture.
 */
import { ConfigError, InputError } from './errors';
import { expectedProblem } from './answer/unwrap';
import { coercionHint, coerceToSchema } from './coerce';
import { validateValue } from './schema';
import { checkVariables } from './template';
import { derivedFixtureId, inputsKey } from './registry/inputs-index';
import { verifiedVersions } from './registry/version-cache';
import type { RegistryStore, VersionGuard } from './registry/store';
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

/** The id of the fixture a correction of new inputs creates: derived from the inputs (lib/registry/inputs-index.ts). */
export function correctionFixtureId(inputs: Record<string, unknown>): string {
	return derivedFixtureId(inputsKey(inputs));
}

/** What a correction is checked against: the prompt and which text of it (`draft` or a version number). */
interface CorrectionTarget {
	spec: PromptSpec;
	version: number | 'draft';
}

/**
 * The prompt a correction is checked against: the draft (read each time; its content hash is not needed,
 * nothing guards a draft), or a frozen version (verified per process, guarded by its hash).
 */
async function target(store: RegistryStore, promptId: string, version: number | 'draft'): Promise<{ resolved: CorrectionTarget; guard?: VersionGuard }> {
	if (version === 'draft') return { resolved: { spec: await store.readDraft(promptId), version } };
	const frozen = await verifiedVersions.get(store, promptId, version);
	return { resolved: { spec: frozen.prompt, version }, guard: { version, contentHash: frozen.contentHash } };
}

/**
 * Record a correction as a fixture. The fixture that already covers exactly these inputs, whatever its source
 * (manual, import, correction), is updated rather than a second one added that contradicts it; an earlier
 * correction of these inputs (its id is derived from them) wins over other matches. Lookup and write are one
 * step of the store (`recordFixtureForInputs`), guarded by the version's content hash; `created` comes from
 * that write itself: of several workers correcting the same new inputs at once, exactly one creates.
 */
export async function recordCorrection(store: RegistryStore, input: CorrectionInput): Promise<{ fixture: Fixture; created: boolean }> {
	const version = input.version ?? 'draft';
	for (let attempt = 0; attempt < 2; attempt++) {
		const { resolved, guard } = await target(store, input.promptId, version);
		let fixture: Fixture;
		try {
			fixture = correctionFixture(resolved, input);
		} catch (error) {
			// Checked against this process's copy of the version: check once more against storage's before refusing.
			if (attempt > 0 || typeof version !== 'number') throw error;
			verifiedVersions.forget(store, input.promptId, version);
			continue;
		}
		const written = await store.recordFixtureForInputs(input.promptId, fixture, guard);
		if (written) return written;
		// The version no longer has the hash this process verified: read it again (and check it) once.
		if (typeof version === 'number') verifiedVersions.forget(store, input.promptId, version);
	}
	throw new ConfigError(`correction for "${input.promptId}": version ${String(version)} changed in the registry while the correction was written; try again`);
}

/** The fixture a correction writes (id derived from the inputs), checked against the prompt it corrects. */
function correctionFixture(resolved: CorrectionTarget, input: CorrectionInput): Fixture {
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
	return {
		id: correctionFixtureId(inputs),
		inputs,
		expected: check.value as OutputValue,
		...(input.segment ? { segment: input.segment } : {}),
		source: 'correction',
		...(input.note ? { note: input.note } : {}),
		recorded: { version: resolved.version, modelOutput: input.modelOutput ?? null, at: (input.now ?? new Date()).toISOString() },
	};
}
