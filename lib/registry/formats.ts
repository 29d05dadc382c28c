/**
 * The registry's file formats (a public contract, documented in README.md) and their checks.
 * Every problem becomes a ConfigError naming file, field and line.
 */
import { z } from 'zod';
import { classThresholdsSchema, consensusSchema } from './formats-accuracy';
import { ConfigError, ConfigErrors } from '../errors';
import { contentHash } from '../hash';
import { parseOutputSchema, validateValue, type SchemaIssue } from '../schema';
import { templateIssues, isVariableName } from '../template';
import { fieldName, type FieldPath, type LoadedFile } from '../yaml-io';
import type { Fixture, FrozenVersion, OutputSchema, PromptSpec, ReleasesState, RunReport } from '../types';
import type { PolicyFile, PriceTable } from './store';

export const PROMPT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
/** A fixture tag (and a `requireTags` entry): letters, digits, "-" and "_". */
export const TAG = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/** Throws a ConfigError for ids that could escape the registry folder or are not portable file names. */
export function assertPromptId(id: string, what = 'prompt id'): void {
	if (typeof id !== 'string' || !PROMPT_ID.test(id)) {
		throw new ConfigError(
			`${what} ${JSON.stringify(id)} is invalid: use letters, digits, "-" and "_" only (no "/", "." or ".."), starting with a letter or digit, at most 64 characters`,
		);
	}
}

const modelSchema = z
	.object({
		provider: z.enum(['openai', 'anthropic', 'openai-compatible'], {
			errorMap: () => ({ message: 'must be one of openai, anthropic, openai-compatible' }),
		}),
		name: z.string().min(1, 'must name the model, e.g. gpt-4o-mini'),
		temperature: z.number().min(0).max(2).default(0),
		maxTokens: z.number().int().positive().default(256),
		baseUrl: z.string().url('must be a URL such as http://127.0.0.1:11434/v1').optional(),
		api: z.enum(['chat', 'responses']).optional(),
	})
	.strict();

const inputSchema = z
	.object({
		type: z.enum(['string', 'number', 'boolean'], { errorMap: () => ({ message: 'must be string, number or boolean' }) }),
		required: z.boolean().default(true),
		description: z.string().optional(),
	})
	.strict();

const promptFileSchema = z
	.object({
		id: z.string(),
		description: z.string().default(''),
		model: modelSchema,
		inputs: z.record(inputSchema).default({}),
		instructions: z.string().min(1, 'must not be empty: the system text of the prompt'),
		template: z.string().min(1, 'must not be empty: the user message with {{variables}}'),
		output: z.unknown(),
		limitations: z.string().default(''),
		consensus: consensusSchema(modelSchema).optional(),
		tools: z.unknown().optional(),
		retrieval: z.unknown().optional(),
	})
	.strict();

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A per-field comparison rule (fixtures' and policies' `compare:`). */
export const compareRuleSchema = z.union([
	z.literal('exact'),
	z.literal('caseInsensitive'),
	z
		.object({
			tolerance: z
				.object({ absolute: z.number().nonnegative().optional(), relative: z.number().nonnegative().optional() })
				.strict()
				.refine((t) => t.absolute !== undefined || t.relative !== undefined, { message: 'give absolute and/or relative' }),
		})
		.strict(),
	z.object({ oneOf: z.array(scalar).min(1) }).strict(),
]);

const fixtureFileSchema = z
	.object({
		id: z.string(),
		inputs: z.record(z.unknown()),
		expected: z.unknown(),
		segment: z.string().optional(),
		tags: z
			.array(z.string().regex(TAG, 'must be a tag of letters, digits, "-" and "_" (at most 64 characters), e.g. quoted-thread'), {
				invalid_type_error: 'must be a list of tags, e.g. [ambiguous, quoted-thread]',
			})
			.refine((t) => new Set(t).size === t.length, { message: 'lists a tag twice' })
			.optional(),
		source: z.enum(['manual', 'correction', 'import']).default('manual'),
		note: z.string().optional(),
		recorded: z
			.object({
				version: z.union([z.number().int().positive(), z.literal('draft')]),
				modelOutput: z.unknown(),
				at: z.string(),
			})
			.strict()
			.optional(),
		compare: z.record(compareRuleSchema).optional(),
	})
	.strict();

const freezeRuleSchema = z
	.object({
		minItems: z.number().int().positive(),
		maxInvalidRatePointsAbove: z.number().nonnegative().optional(),
		maxCorrectionRatePointsAbove: z.number().nonnegative().optional(),
	})
	.strict()
	.refine((f) => f.maxInvalidRatePointsAbove !== undefined || f.maxCorrectionRatePointsAbove !== undefined, {
		message: 'give maxInvalidRatePointsAbove and/or maxCorrectionRatePointsAbove: a freeze rule without a limit never freezes',
	});

/** `policy.yaml` (registry-wide, or per prompt: the prompt's file wins key by key). */
const policyFileSchema = z
	.object({
		maxRegressions: z.number().int().nonnegative().optional(),
		minPassRate: z.number().min(0).max(1).optional(),
		maxCostIncreasePct: z.number().nonnegative().optional(),
		maxP95LatencyIncreasePct: z.number().nonnegative().optional(),
		repeat: z.number().int().min(1).max(100).optional(),
		compare: z.record(compareRuleSchema).optional(),
		freeze: freezeRuleSchema.optional(),
		maxEvidenceAgeHours: z.number().positive().optional(),
		requireTags: z
			.array(z.string().regex(TAG, 'must be a tag of letters, digits, "-" and "_", e.g. adversarial'), { invalid_type_error: 'must be a list of tags, e.g. [ambiguous, adversarial]' })
			.optional(),
		approvals: z.number({ invalid_type_error: 'must be a whole number of people, e.g. 1' }).int('must be a whole number of people').min(0).max(10).optional(),
		minAgreement: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1 (a share, not a percentage)').optional(),
		minRecall: classThresholdsSchema.optional(),
		minPrecision: classThresholdsSchema.optional(),
		minF1: classThresholdsSchema.optional(),
	})
	.strict();

const historySchema = z
	.object({
		at: z.string(),
		action: z.enum(['release', 'rollback', 'canary', 'promote', 'freeze', 'approve']),
		channel: z.string(),
		version: z.number().int().positive(),
		from: z.number().int().positive().optional(),
		by: z.string(),
		reason: z.string().optional(),
		runId: z.string().optional(),
		contentHash: z.string().optional(),
		forced: z.boolean().optional(),
		percent: z.number().gt(0).lt(100).optional(),
		segments: z.array(z.string().min(1)).min(1).optional(),
		canaryId: z.string().optional(),
	})
	.strict();

const canarySchema = z
	.object({
		// "served-…" names the outcome log of a channel served without a canary (lib/outcomes servedLogId).
		id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/).refine((id) => !id.startsWith('served-'), { message: 'canary ids starting with "served-" are reserved for served outcome logs' }),
		version: z.number().int().positive(),
		contentHash: z.string(),
		since: z.string(),
		runId: z.string().optional(),
		percent: z.number().gt(0).lt(100).optional(),
		segments: z.array(z.string().min(1)).min(1).optional(),
		frozen: z.object({ at: z.string(), reason: z.string() }).strict().optional(),
	})
	.strict()
	.refine((c) => (c.percent === undefined) !== (c.segments === undefined), { message: 'a canary has either percent or segments' });

const releasesFileSchema = z
	.object({
		channels: z
			.record(
				z
					.object({
						version: z.number().int().positive(),
						contentHash: z.string(),
						since: z.string(),
						runId: z.string().optional(),
						forced: z.boolean().optional(),
						canary: canarySchema.optional(),
					})
					.strict(),
			)
			.default({}),
		history: z.array(historySchema).default([]),
	})
	.strict();

const versionFileSchema = z
	.object({
		version: z.number().int().positive(),
		contentHash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>'),
		createdAt: z.string(),
		author: z.string().optional(),
		message: z.string().optional(),
		prompt: z.unknown(),
	})
	.strict();

function issueError(loaded: LoadedFile, path: FieldPath, message: string): ConfigError {
	return new ConfigError(message, {
		file: loaded.file,
		field: path.length ? fieldName(path) : undefined,
		line: loaded.lineOf(path),
	});
}

function zodMessage(issue: z.ZodIssue): string {
	if (issue.code === 'invalid_type' && issue.received === 'undefined') return 'is required';
	return issue.message;
}

/** One error per zod issue; an unknown key is reported at its own field and line, one error per key. */
function issueErrors(loaded: LoadedFile, prefix: FieldPath, issue: z.ZodIssue): ConfigError[] {
	const at = [...prefix, ...issue.path];
	if (issue.code === 'unrecognized_keys') {
		return issue.keys.map((key) => issueError(loaded, [...at, key], `unknown field "${key}": remove or rename it`));
	}
	return [issueError(loaded, at, zodMessage(issue))];
}

function parseWith<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, loaded: LoadedFile, prefix: FieldPath = [], data: unknown = loaded.data): { value?: T; errors: ConfigError[] } {
	const result = schema.safeParse(data);
	if (result.success) return { value: result.data, errors: [] };
	return { errors: result.error.issues.flatMap((i) => issueErrors(loaded, prefix, i)) };
}

function throwIfAny(errors: ConfigError[]): void {
	if (errors.length === 1) throw errors[0];
	if (errors.length > 1) throw new ConfigErrors(errors);
}

/** Check a prompt spec (the draft file, or the `prompt:` of a frozen version at `prefix`). */
export function checkPromptSpec(loaded: LoadedFile, expectedId: string, prefix: FieldPath = [], data: unknown = loaded.data): PromptSpec {
	if (typeof data !== 'object' || data === null || Array.isArray(data)) {
		throw issueError(loaded, prefix, 'must be a mapping with id, model, inputs, instructions, template, output');
	}
	const { value, errors } = parseWith(promptFileSchema, loaded, prefix, data);
	const raw = data as Record<string, unknown>;
	const schemaIssues: SchemaIssue[] = [];
	const output = 'output' in raw ? parseOutputSchema(raw.output, [...prefix, 'output'], schemaIssues) : undefined;
	if (!('output' in raw)) schemaIssues.push({ path: [...prefix, 'output'], message: 'is required: the declared schema, e.g. {type: boolean}' });
	errors.push(...schemaIssues.map((i) => issueError(loaded, i.path, i.message)));
	if (value) {
		if (value.id !== expectedId) {
			errors.push(issueError(loaded, [...prefix, 'id'], `is "${value.id}" but the folder is "${expectedId}": they must be equal`));
		}
		for (const name of Object.keys(value.inputs)) {
			if (!isVariableName(name)) errors.push(issueError(loaded, [...prefix, 'inputs', name], `"${name}" is not a variable name (letters, digits, "_")`));
		}
		for (const t of templateIssues(value)) errors.push(issueError(loaded, [...prefix, t.field], t.message));
	}
	throwIfAny(errors);
	const spec = { ...value!, output: output as OutputSchema };
	// Drop absent optional keys so the content hash does not depend on them.
	if (spec.tools === undefined) delete spec.tools;
	if (spec.retrieval === undefined) delete spec.retrieval;
	if (spec.model.baseUrl === undefined) delete spec.model.baseUrl;
	if (spec.model.api === undefined) delete spec.model.api;
	if (spec.consensus === undefined) delete spec.consensus;
	else {
		const c = spec.consensus;
		if (c.samples === undefined) delete c.samples;
		for (const m of c.models ?? []) {
			if (m.baseUrl === undefined) delete m.baseUrl;
			if (m.api === undefined) delete m.api;
		}
		if (c.models === undefined) delete c.models;
	}
	return spec as PromptSpec;
}

/**
 * Check a frozen version file, including that its content still hashes to the recorded hash. `repair` is the advice
 * for a mismatch where the version is not a file in git (the database store names its repair command).
 */
export function checkVersionFile(loaded: LoadedFile, promptId: string, expectedVersion: number, repair?: string): FrozenVersion {
	const { value, errors } = parseWith(versionFileSchema, loaded);
	throwIfAny(errors);
	const v = value!;
	if (v.version !== expectedVersion) {
		throw issueError(loaded, ['version'], `is ${v.version} but the file is named ${expectedVersion}.yaml`);
	}
	const prompt = checkPromptSpec(loaded, promptId, ['prompt'], v.prompt);
	const actual = contentHash(prompt);
	if (actual !== v.contentHash) {
		throw issueError(
			loaded,
			['contentHash'],
			repair
				? `content hash mismatch: the stored version records ${v.contentHash} but its content hashes to ${actual}. Frozen versions are immutable: ${repair}`
				: `content hash mismatch: the file records ${v.contentHash} but its content hashes to ${actual}. Frozen versions are immutable: restore the file from git (git checkout -- ${loaded.file}) and put changes in prompt.yaml, then commit a new version.`,
		);
	}
	return { ...v, prompt } as FrozenVersion;
}

/** Check a fixture file; `spec` (when known) checks inputs and expected against the prompt. */
export function checkFixture(loaded: LoadedFile, expectedId: string | undefined, spec?: PromptSpec, data: unknown = loaded.data, prefix: FieldPath = []): Fixture {
	if (typeof data !== 'object' || data === null || Array.isArray(data)) {
		throw issueError(loaded, prefix, 'a fixture must be a mapping with id, inputs, expected');
	}
	const raw = data as Record<string, unknown>;
	const { value, errors } = parseWith(fixtureFileSchema, loaded, prefix, data);
	if (!('expected' in raw)) {
		errors.push(issueError(loaded, [...prefix, 'expected'], 'is required: the value the prompt must return for these inputs (use null for "not stated" when the output is nullable)'));
	}
	if (value && 'expected' in raw) {
		try {
			assertPromptId(value.id, 'fixture id');
		} catch (e) {
			errors.push(issueError(loaded, [...prefix, 'id'], (e as Error).message));
		}
		if (expectedId !== undefined && value.id !== expectedId) {
			errors.push(issueError(loaded, [...prefix, 'id'], `is "${value.id}" but the file is named ${expectedId}.yaml: they must be equal`));
		}
		if (spec) {
			for (const name of Object.keys(value.inputs)) {
				if (!Object.hasOwn(spec.inputs, name)) errors.push(issueError(loaded, [...prefix, 'inputs', name], `"${name}" is not an input of prompt "${spec.id}" (declared: ${Object.keys(spec.inputs).join(', ') || 'none'})`));
			}
			for (const [name, input] of Object.entries(spec.inputs)) {
				const v = Object.hasOwn(value.inputs, name) ? value.inputs[name] : undefined;
				// The same rules as checkVariables at run time: an empty required string is missing.
				if (v === undefined || v === null || (v === '' && input.type === 'string' && input.required)) {
					if (input.required) errors.push(issueError(loaded, [...prefix, 'inputs'], `required input "${name}" is missing${v === '' ? ' (empty)' : ''}`));
				} else if (typeof v !== input.type || (input.type === 'number' && !Number.isFinite(v))) {
					errors.push(issueError(loaded, [...prefix, 'inputs', name], `must be a ${input.type}`));
				}
			}
			const check = validateValue(spec.output, value.expected);
			if (!check.ok) errors.push(issueError(loaded, [...prefix, 'expected'], `${check.reason} (the prompt's output schema)`));
		}
	}
	throwIfAny(errors);
	const f = value! as Fixture;
	return f;
}

export function checkReleases(loaded: LoadedFile): ReleasesState {
	const data = loaded.data ?? {};
	const { value, errors } = parseWith(releasesFileSchema, loaded, [], data);
	throwIfAny(errors);
	return value as ReleasesState;
}

const runFileSchema = z
	.object({
		runId: z.string(),
		promptId: z.string(),
		version: z.union([z.number().int().positive(), z.literal('draft')]),
		contentHash: z.string(),
		summary: z.object({ total: z.number(), passed: z.number(), passRate: z.number(), regressions: z.array(z.string()) }).passthrough(),
		results: z.array(z.object({ fixtureId: z.string(), passed: z.boolean() }).passthrough()),
	})
	.passthrough();

/** Check the fields of a stored run (`runs/<id>.json`) that the gate and status rely on. */
export function checkRun(data: unknown, file: string, expected: { promptId: string; runId: string }): RunReport {
	const loaded: LoadedFile = { file, data, lineOf: () => undefined };
	const { value, errors } = parseWith(runFileSchema, loaded);
	if (value) {
		if (value.runId !== expected.runId) errors.push(issueError(loaded, ['runId'], `is "${value.runId}" but the file is named ${expected.runId}.json`));
		if (value.promptId !== expected.promptId) errors.push(issueError(loaded, ['promptId'], `is "${value.promptId}" but the run is stored under prompt "${expected.promptId}"`));
	}
	throwIfAny(errors);
	return value as unknown as RunReport;
}

/** Check a `policy.yaml` (registry-wide or per prompt); an empty file is an empty policy. */
export function checkPolicyFile(loaded: LoadedFile): PolicyFile {
	const data = loaded.data ?? {};
	if (typeof data !== 'object' || Array.isArray(data)) {
		throw issueError(loaded, [], 'a policy must be a mapping, e.g. {maxRegressions: 0, minPassRate: 1, repeat: 3}');
	}
	const { value, errors } = parseWith(policyFileSchema, loaded, [], data);
	throwIfAny(errors);
	return JSON.parse(JSON.stringify(value)) as PolicyFile;
}

/** Check a `pricing.yaml` (`models: {key: {input, output}}`, USD per million tokens); empty when absent. */
export function checkPricing(loaded: LoadedFile): PriceTable {
	const data = loaded.data as { models?: Record<string, { input?: unknown; output?: unknown }> } | null;
	const out: PriceTable = {};
	for (const [key, price] of Object.entries(data?.models ?? {})) {
		if (typeof price?.input !== 'number' || typeof price?.output !== 'number') {
			throw new ConfigError('each model needs numeric input and output prices (USD per million tokens)', { file: loaded.file, field: `models.${key}`, line: loaded.lineOf(['models', key]) });
		}
		out[key] = { input: price.input, output: price.output };
	}
	return out;
}
