/**
 * The one schema module: a declared output schema (from prompt.yaml) becomes
 * - a zod validator (run-time check of every model answer),
 * - the JSON Schema sent to the provider as structured output (wire form),
 * and the helpers that validate and compare values (model answers are read in lib/answer/).
 */
import { z } from 'zod';
import type { FieldPath } from './yaml-io';
import type { ObjectSchema, OutputSchema, OutputValue, ScalarSchema } from './types';

export interface SchemaIssue {
	path: FieldPath;
	message: string;
}

const SCALAR_TYPES = ['boolean', 'integer', 'number', 'string'] as const;
const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Names that would clash with JavaScript object internals (`__proto__` would even vanish silently). */
const RESERVED_PROPERTY_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function allowedKeys(raw: Record<string, unknown>, allowed: string[], at: FieldPath, issues: SchemaIssue[]) {
	for (const key of Object.keys(raw)) {
		if (!allowed.includes(key)) {
			issues.push({ path: [...at, key], message: `unknown key "${key}" here: allowed are ${allowed.join(', ')}` });
		}
	}
}

function parseScalar(raw: unknown, at: FieldPath, issues: SchemaIssue[], topLevel = false): ScalarSchema | undefined {
	if (!isRecord(raw)) {
		issues.push({ path: at, message: 'must be a mapping such as {type: boolean}' });
		return undefined;
	}
	const rawType = raw.type;
	const nullable = raw.nullable;
	if (nullable !== undefined && typeof nullable !== 'boolean') {
		issues.push({ path: [...at, 'nullable'], message: 'must be true or false' });
	}
	const description = typeof raw.description === 'string' ? raw.description : undefined;
	const common = { ...(nullable === true ? { nullable: true } : {}), ...(description ? { description } : {}) };
	const base = ['type', 'nullable', 'description'];
	if (typeof rawType !== 'string' || !(SCALAR_TYPES as readonly string[]).includes(rawType)) {
		const hint = rawType === 'object' ? ' (objects may only appear at the top level)' : '';
		issues.push({
			path: [...at, 'type'],
			message: `unknown schema type ${JSON.stringify(rawType)}${hint}: use boolean, integer, number, string${topLevel ? ' or object' : ''}`,
		});
		return undefined;
	}
	const type = rawType as (typeof SCALAR_TYPES)[number];
	if (type === 'boolean') {
		allowedKeys(raw, base, at, issues);
		return { type, ...common };
	}
	if (type === 'integer' || type === 'number') {
		allowedKeys(raw, [...base, 'minimum', 'maximum'], at, issues);
		const out: ScalarSchema = { type, ...common };
		for (const bound of ['minimum', 'maximum'] as const) {
			const v = raw[bound];
			if (v === undefined) continue;
			if (typeof v !== 'number' || !Number.isFinite(v)) issues.push({ path: [...at, bound], message: 'must be a number' });
			else out[bound] = v;
		}
		if (out.minimum !== undefined && out.maximum !== undefined && out.minimum > out.maximum) {
			issues.push({ path: [...at, 'minimum'], message: `minimum ${out.minimum} is greater than maximum ${out.maximum}` });
		}
		return out;
	}
	// string
	if (raw.enum !== undefined) {
		allowedKeys(raw, [...base, 'enum'], at, issues);
		const values = raw.enum;
		if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string' && v.length > 0)) {
			issues.push({ path: [...at, 'enum'], message: 'must be a non-empty list of non-empty strings' });
			return undefined;
		}
		if (new Set(values).size !== values.length) issues.push({ path: [...at, 'enum'], message: 'has duplicate values' });
		return { type, enum: values as string[], ...common };
	}
	if (raw.format !== undefined) {
		allowedKeys(raw, [...base, 'format'], at, issues);
		if (raw.format !== 'date') {
			issues.push({ path: [...at, 'format'], message: `unknown format ${JSON.stringify(raw.format)}: the only format is "date" (YYYY-MM-DD)` });
			return undefined;
		}
		return { type, format: 'date', ...common };
	}
	allowedKeys(raw, [...base, 'maxLength', 'enum', 'format'], at, issues);
	const maxLength = raw.maxLength;
	if (maxLength !== undefined && (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 1)) {
		issues.push({ path: [...at, 'maxLength'], message: 'must be a whole number ≥ 1' });
		return { type, ...common };
	}
	return { type, ...(maxLength !== undefined ? { maxLength: maxLength as number } : {}), ...common };
}

/** Check a declared output schema; returns it typed, or undefined with issues filled in. */
export function parseOutputSchema(raw: unknown, at: FieldPath, issues: SchemaIssue[]): OutputSchema | undefined {
	if (isRecord(raw) && raw.type === 'object') {
		allowedKeys(raw, ['type', 'properties', 'description'], at, issues);
		const props = raw.properties;
		if (!isRecord(props) || Object.keys(props).length === 0) {
			issues.push({ path: [...at, 'properties'], message: 'an object output needs at least one property, e.g. {price: {type: number}}' });
			return undefined;
		}
		const properties: Record<string, ScalarSchema> = {};
		const before = issues.length;
		for (const [name, propRaw] of Object.entries(props)) {
			if (!PROPERTY_NAME.test(name)) {
				issues.push({ path: [...at, 'properties', name], message: `property name "${name}" must start with a letter or "_" and contain only letters, digits and "_"` });
				continue;
			}
			if (RESERVED_PROPERTY_NAMES.has(name)) {
				issues.push({ path: [...at, 'properties', name], message: `property name "${name}" is reserved (__proto__, constructor and prototype clash with JavaScript objects): choose another name` });
				continue;
			}
			const prop = parseScalar(propRaw, [...at, 'properties', name], issues);
			if (prop) properties[name] = prop;
		}
		if (issues.length > before) return undefined;
		const out: ObjectSchema = { type: 'object', properties };
		if (typeof raw.description === 'string') out.description = raw.description;
		return out;
	}
	return parseScalar(raw, at, issues, true);
}

function isValidDate(s: string): boolean {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
	if (!m) return false;
	const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
	const date = new Date(0);
	date.setUTCFullYear(y, mo - 1, d); // not Date.UTC: it maps years 0–99 to 1900–1999
	return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function scalarZod(s: ScalarSchema): z.ZodTypeAny {
	let t: z.ZodTypeAny;
	switch (s.type) {
		case 'boolean':
			t = z.boolean();
			break;
		case 'integer':
		case 'number': {
			let n = s.type === 'integer' ? z.number().int().safe() : z.number().finite();
			if (s.minimum !== undefined) n = n.gte(s.minimum);
			if (s.maximum !== undefined) n = n.lte(s.maximum);
			t = n;
			break;
		}
		case 'string':
			if ('enum' in s && s.enum) t = z.enum(s.enum as [string, ...string[]]);
			else if ('format' in s && s.format === 'date')
				t = z.string().refine(isValidDate, { message: 'must be a calendar date written YYYY-MM-DD' });
			else t = 'maxLength' in s && s.maxLength !== undefined ? z.string().max(s.maxLength) : z.string();
			break;
	}
	return s.nullable ? t.nullable() : t;
}

const validators = new WeakMap<OutputSchema, z.ZodTypeAny>();
/** The same, by the schema's JSON text: a draft is read (and copied) afresh for each correction. At most 256. */
const validatorsByText = new Map<string, z.ZodTypeAny>();

/**
 * toZod, built once per schema object (schemas of resolved prompts are long-lived) and reused for an equal
 * schema written the same way (zod schemas are immutable; building one costs more than the check itself).
 */
function validatorOf(schema: OutputSchema): z.ZodTypeAny {
	let v = validators.get(schema);
	if (!v) {
		const text = JSON.stringify(schema);
		v = validatorsByText.get(text);
		if (!v) {
			v = toZod(schema);
			if (validatorsByText.size >= 256) validatorsByText.delete(validatorsByText.keys().next().value as string);
			validatorsByText.set(text, v);
		}
		validators.set(schema, v);
	}
	return v;
}

/**
 * The run-time validator of a user-facing value (unwrapped). Never coerces: "12" is not an integer.
 * Object properties are all required unless nullable; a missing nullable property becomes null.
 */
export function toZod(schema: OutputSchema): z.ZodTypeAny {
	if (schema.type === 'object') {
		const shape: Record<string, z.ZodTypeAny> = {};
		for (const [k, v] of Object.entries(schema.properties)) shape[k] = v.nullable ? scalarZod(v).default(null) : scalarZod(v);
		return z.object(shape).strict();
	}
	return scalarZod(schema);
}

function scalarJsonSchema(s: ScalarSchema): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	const type: string = s.type;
	out.type = s.nullable ? [type, 'null'] : type;
	const notes: string[] = [];
	if (s.description) notes.push(s.description);
	if (s.type === 'integer' || s.type === 'number') {
		if (s.minimum !== undefined) out.minimum = s.minimum;
		if (s.maximum !== undefined) out.maximum = s.maximum;
	} else if (s.type === 'string') {
		if ('enum' in s && s.enum) out.enum = s.nullable ? [...s.enum, null] : [...s.enum];
		if ('format' in s && s.format === 'date') {
			out.format = 'date';
			notes.push('A date written YYYY-MM-DD.');
		}
		if ('maxLength' in s && s.maxLength !== undefined) notes.push(`At most ${s.maxLength} characters.`);
	}
	if (s.nullable) notes.push('null when the text does not say.');
	if (notes.length) out.description = notes.join(' ');
	return out;
}

/**
 * JSON Schema of the wire object sent as structured output. Always an object with every property
 * required and no others (what OpenAI strict mode demands; a nullable property is typed [t, "null"]);
 * a scalar travels as `{"value": …}`.
 */
export function toWireJsonSchema(schema: OutputSchema): Record<string, unknown> {
	const properties: Record<string, unknown> = {};
	if (schema.type === 'object') {
		for (const [k, v] of Object.entries(schema.properties)) properties[k] = scalarJsonSchema(v);
	} else {
		properties.value = scalarJsonSchema(schema);
	}
	const out: Record<string, unknown> = {
		type: 'object',
		properties,
		required: Object.keys(properties),
		additionalProperties: false,
	};
	if (schema.description) out.description = schema.description;
	return out;
}

/** Human-readable one-liner of a schema, for repair prompts and error messages. */
export function describeSchema(schema: OutputSchema): string {
	return JSON.stringify(toWireJsonSchema(schema));
}

export type ParseResult = { ok: true; value: OutputValue } | { ok: false; reason: string };

function formatZodIssues(error: z.ZodError): string {
	return error.issues
		.map((issue) => `${issue.path.length ? `"${issue.path.join('.')}"` : 'value'}: ${issue.message}`)
		.join('; ');
}

/** Check a user-facing value against the declared schema. */
export function validateValue(schema: OutputSchema, value: unknown): ParseResult {
	const result = validatorOf(schema).safeParse(value);
	if (result.success) return { ok: true, value: result.data as OutputValue };
	return { ok: false, reason: `does not match the declared schema: ${formatZodIssues(result.error)}` };
}

/** Exact comparison of an expected and an actual value (numbers by value, objects key by key). */
export function valuesEqual(expected: unknown, actual: unknown): boolean {
	if (isRecord(expected) && isRecord(actual)) {
		const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
		for (const k of keys) if (!valuesEqual(expected[k], actual[k])) return false;
		return true;
	}
	return Object.is(expected, actual) || (expected === 0 && actual === 0);
}
