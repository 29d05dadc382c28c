/**
 * The answers of the project's deterministic test model (see model-server.ts). Not an LLM.
 *
 * Rules file format (YAML):
 *
 * ```yaml
 * models: [test-model]            # optional: model names accepted; any other → 404 model_not_found
 * rules:
 *   - prompt: price-change        # the schema / tool name on the wire (the prompt id)
 *     when: "price (increase|change|adjust)"   # optional regex, tested against the FIRST user message
 *     flags: i                    # optional regex flags, default "i"
 *     value: true                 # answer {"value": true}
 *   - prompt: new-unit-price
 *     capture: "new (?:unit )?price[^0-9]*([0-9]+(?:\\.[0-9]+)?)"   # first group is the answer
 *     as: number                  # number | integer | string (default string)
 *   - prompt: delivery-delay-days
 *     when: "two weeks"
 *     raw: "two weeks"            # this text verbatim (to demonstrate invalid outputs)
 *   - prompt: some-object-prompt
 *     object: {a: 1, b: "x"}      # this object as-is (object outputs)
 *   - prompt: price-change
 *     model: claude-haiku-4-5     # optional: only calls for this model name
 *     cycle: [true, true, false]  # these values in turn, counted per first user message (consensus samples)
 * ```
 *
 * The first rule whose `prompt` matches, whose `when` (if any) matches and whose `capture` (if any) matches wins.
 * No rule → `{"value": null}`. Only the first user message is read, so a repair turn gets the same answer.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';
import type { ScalarValue } from '../types';
import { fieldName, parseYaml, type FieldPath } from '../yaml-io';

export type CaptureType = 'number' | 'integer' | 'string';

export interface Rule {
	prompt: string;
	when?: string;
	flags?: string;
	/** Exactly one of `value`, `capture`, `raw`, `object`. */
	value?: ScalarValue;
	capture?: string;
	as?: CaptureType;
	raw?: string;
	object?: Record<string, unknown>;
	/** Only calls for this model name (absent: every model). */
	model?: string;
	/** These values in turn, one per call with the same first user message (to make samples disagree). */
	cycle?: ScalarValue[];
}

export interface RulesFile {
	models?: string[];
	rules: Rule[];
}

const ANSWER_KEYS = ['value', 'capture', 'raw', 'object', 'cycle'] as const;
const RULE_KEYS = new Set<string>(['prompt', 'when', 'flags', 'as', 'model', ...ANSWER_KEYS]);
const CAPTURE_TYPES: readonly CaptureType[] = ['number', 'integer', 'string'];

type LineOf = (field: FieldPath) => number | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function compile(source: string, flags: string | undefined): RegExp {
	// `g` and `y` would make `test` stateful.
	return new RegExp(source, (flags ?? 'i').replace(/[gy]/g, ''));
}

/** Check a rules object (parsed YAML or built in code) and return it typed. Errors name the file and the rule. */
export function validateRules(data: unknown, file: string, lineOf: LineOf = () => undefined): RulesFile {
	const fail = (message: string, field: FieldPath): never => {
		throw new ConfigError(message, { file, field: fieldName(field), line: lineOf(field) });
	};
	if (!isRecord(data)) return fail('a rules file is a mapping with a "rules" list', []);
	for (const key of Object.keys(data)) {
		if (key !== 'models' && key !== 'rules') fail(`unknown key "${key}": only "models" and "rules" are allowed`, [key]);
	}
	let models: string[] | undefined;
	if (data.models !== undefined) {
		if (!Array.isArray(data.models) || data.models.some((m) => typeof m !== 'string' || !m)) {
			fail('"models" must be a list of model names', ['models']);
		}
		models = data.models as string[];
	}
	if (!Array.isArray(data.rules)) return fail('"rules" must be a list of rules', ['rules']);
	const rules = data.rules.map((raw: unknown, index: number): Rule => validateRule(raw, ['rules', index], fail));
	return models ? { models, rules } : { rules };
}

function validateRule(raw: unknown, at: FieldPath, fail: (message: string, field: FieldPath) => never): Rule {
	if (!isRecord(raw)) return fail(`rule ${at[1]} must be a mapping with "prompt" and one of value, capture, raw, object, cycle`, at);
	for (const key of Object.keys(raw)) {
		if (!RULE_KEYS.has(key)) fail(`unknown key "${key}" in rule ${at[1]}`, [...at, key]);
	}
	if (typeof raw.prompt !== 'string' || !raw.prompt) fail(`rule ${at[1]} needs "prompt": the prompt id`, [...at, 'prompt']);
	const answers = ANSWER_KEYS.filter((key) => key in raw);
	if (answers.length !== 1) {
		fail(`rule ${at[1]} needs exactly one of value, capture, raw, object, cycle (found ${answers.length ? answers.join(', ') : 'none'})`, at);
	}
	if (raw.flags !== undefined && (typeof raw.flags !== 'string' || !/^[dgimsuvy]*$/.test(raw.flags))) {
		fail(`rule ${at[1]}: "flags" must be regex flags such as "i" or "is"`, [...at, 'flags']);
	}
	const flags = raw.flags as string | undefined;
	for (const key of ['when', 'capture'] as const) {
		if (raw[key] === undefined) continue;
		if (typeof raw[key] !== 'string') fail(`rule ${at[1]}: "${key}" must be a regular expression (a string)`, [...at, key]);
		try {
			compile(raw[key] as string, flags);
		} catch (error) {
			fail(`rule ${at[1]}: "${key}" is not a valid regular expression: ${(error as Error).message}`, [...at, key]);
		}
	}
	if (typeof raw.capture === 'string' && compile(`${raw.capture}|`, flags).exec('')!.length < 2) {
		fail(`rule ${at[1]}: "capture" needs a (group) whose text is the answer`, [...at, 'capture']);
	}
	if (raw.as !== undefined) {
		if (raw.capture === undefined) fail(`rule ${at[1]}: "as" only goes with "capture"`, [...at, 'as']);
		if (!CAPTURE_TYPES.includes(raw.as as CaptureType)) fail(`rule ${at[1]}: "as" must be number, integer or string`, [...at, 'as']);
	}
	if ('value' in raw && raw.value !== null && !['boolean', 'number', 'string'].includes(typeof raw.value)) {
		fail(`rule ${at[1]}: "value" must be a boolean, number, string or null (use "object" for objects)`, [...at, 'value']);
	}
	if (raw.model !== undefined && (typeof raw.model !== 'string' || !raw.model)) fail(`rule ${at[1]}: "model" must be a model name`, [...at, 'model']);
	if ('cycle' in raw && (!Array.isArray(raw.cycle) || raw.cycle.length === 0 || raw.cycle.some((v) => v !== null && !['boolean', 'number', 'string'].includes(typeof v)))) {
		fail(`rule ${at[1]}: "cycle" must be a non-empty list of booleans, numbers, strings or null`, [...at, 'cycle']);
	}
	if ('raw' in raw && typeof raw.raw !== 'string') fail(`rule ${at[1]}: "raw" must be a string`, [...at, 'raw']);
	if ('object' in raw && !isRecord(raw.object)) fail(`rule ${at[1]}: "object" must be a mapping`, [...at, 'object']);
	return raw as unknown as Rule;
}

/** Read and check a rules YAML file. Throws ConfigError naming the file, the rule index and the line. */
export function loadRules(path: string): RulesFile {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new ConfigError(`cannot read rules file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { file: path });
	}
	const loaded = parseYaml(text, path);
	return validateRules(loaded.data, path, (field) => loaded.lineOf(field));
}

interface CompiledRule {
	rule: Rule;
	when?: RegExp;
	capture?: RegExp;
}

function convert(text: string, as: CaptureType | undefined): ScalarValue | undefined {
	if (as === 'number' || as === 'integer') {
		const n = as === 'integer' ? Number.parseInt(text, 10) : Number(text.trim());
		return Number.isFinite(n) ? n : undefined;
	}
	return text;
}

/** Compiled rules: which models they accept and what they answer. */
export class ModelRules {
	readonly models?: string[];
	private readonly rules: CompiledRule[];
	/** Calls seen per cycling rule and first user message. */
	private readonly turns = new Map<string, number>();

	constructor(file: RulesFile = { rules: [] }, source = '<rules>') {
		const checked = validateRules(file, source);
		this.models = checked.models;
		this.rules = checked.rules.map((rule) => ({
			rule,
			when: rule.when !== undefined ? compile(rule.when, rule.flags) : undefined,
			capture: rule.capture !== undefined ? compile(rule.capture, rule.flags) : undefined,
		}));
	}

	accepts(model: string): boolean {
		return !this.models || this.models.includes(model);
	}

	/** The answer text for a prompt id, the conversation's first user message and (optionally) the model name. */
	answer(prompt: string, firstUserMessage: string, model?: string): string {
		for (const [index, { rule, when, capture }] of this.rules.entries()) {
			if (rule.prompt !== prompt) continue;
			if (rule.model !== undefined && rule.model !== model) continue;
			if (when && !when.test(firstUserMessage)) continue;
			if (capture) {
				const group = capture.exec(firstUserMessage)?.[1];
				if (group === undefined) continue;
				const value = convert(group, rule.as);
				if (value === undefined) continue;
				return JSON.stringify({ value });
			}
			if (rule.cycle !== undefined) {
				const key = `${index}\u0000${firstUserMessage}`;
				const turn = this.turns.get(key) ?? 0;
				this.turns.set(key, turn + 1);
				return JSON.stringify({ value: rule.cycle[turn % rule.cycle.length] });
			}
			if (rule.raw !== undefined) return rule.raw;
			if (rule.object !== undefined) return JSON.stringify(rule.object);
			return JSON.stringify({ value: rule.value ?? null });
		}
		return JSON.stringify({ value: null });
	}
}
