/**
 * From the extracted JSON value to the user-facing value, before the schema check. Unwraps the wire
 * object (`{"value": …}` for scalar outputs) and refuses the answer shapes that would otherwise pass a
 * schema as the wrong literal (most of all for strings, which accept any text):
 *
 * - a value that is itself the JSON text of the wire object (`"{\"value\":\"PO-4711\"}"`) → its inner value;
 *   any other JSON object/array text where a scalar belongs, or a cut `{"value": …` text → invalid;
 * - a value that is a JSON string literal (`"\"PO-4711\""`) → the string inside;
 * - a placeholder word for "not stated" (null, None, nil, undefined, N/A, n.a., unknown, not stated,
 *   not specified, not mentioned, not given, "-", or an empty string for a free-text output) → null when the
 *   output is nullable, else invalid (asking again would only push the model to invent a value);
 *   a placeholder that is a declared enum value stays that value;
 * - an object output sent as a JSON string, or wrapped as `{"value": {…}}` → the object.
 */
import type { ObjectSchema, OutputSchema, ScalarSchema } from '../types';

export type Unwrapped = { ok: true; value: unknown; notes: string[] } | { ok: false; reason: string; repairable: boolean };

const PLACEHOLDERS = new Set(['null', 'none', 'nil', 'undefined', 'n/a', 'n.a.', 'unknown', 'not stated', 'not specified', 'not mentioned', 'not given', '-', '—']);
const WIRE_OBJECT_TEXT = /^\s*\{\s*"value"\s*:/;

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
	try {
		return { ok: true, value: JSON.parse(text) as unknown };
	} catch {
		return { ok: false };
	}
}

function isFreeText(s: ScalarSchema): boolean {
	return s.type === 'string' && !('enum' in s && s.enum) && !('format' in s && s.format);
}

function placeholderWord(s: ScalarSchema, text: string): boolean {
	const word = text.trim().toLowerCase();
	if ('enum' in s && s.enum?.includes(text)) return false;
	return PLACEHOLDERS.has(word) || PLACEHOLDERS.has(word.replace(/\.$/, '')) || (word === '' && isFreeText(s));
}

/** One scalar (a scalar output's value, or one property of an object output). `where` names it in reasons. */
function scalar(s: ScalarSchema, value: unknown, where: string, notes: string[], depth = 0): Unwrapped {
	if (typeof value !== 'string' || depth > 3) return { ok: true, value, notes };
	const text = value.trim();
	if (/^[[{]/.test(text)) {
		const parsed = parseJson(text);
		if (parsed.ok && isRecord(parsed.value) && Object.keys(parsed.value).length === 1 && Object.hasOwn(parsed.value, 'value')) {
			notes.push(`${where}: unwrapped the JSON text of {"value": …} inside the value`);
			return scalar(s, parsed.value.value, where, notes, depth + 1);
		}
		if (parsed.ok && typeof parsed.value === 'object' && parsed.value !== null) {
			return { ok: false, repairable: true, reason: `${where} is the JSON text ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}, not a ${s.type}` };
		}
		if (WIRE_OBJECT_TEXT.test(text)) {
			return { ok: false, repairable: true, reason: `${where} is a cut or malformed JSON text of {"value": …}: ${JSON.stringify(text.slice(0, 80))}` };
		}
	}
	if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
		const parsed = parseJson(text);
		if (parsed.ok && typeof parsed.value === 'string') {
			notes.push(`${where}: unwrapped a quoted JSON string`);
			return scalar(s, parsed.value, where, notes, depth + 1);
		}
	}
	if (placeholderWord(s, value)) {
		if (s.nullable) {
			notes.push(`${where}: read ${JSON.stringify(value)} as not stated (null)`);
			return { ok: true, value: null, notes };
		}
		return {
			ok: false,
			repairable: false,
			reason: `${where}: the model answered ${JSON.stringify(value)}, which stands for "not stated", but the output is not nullable: declare it nullable if the text may not say, or correct this item`,
		};
	}
	return { ok: true, value, notes };
}

function objectOutput(schema: ObjectSchema, value: unknown, notes: string[]): Unwrapped {
	let v = value;
	if (typeof v === 'string' && /^\s*\{/.test(v)) {
		const parsed = parseJson(v.trim());
		if (parsed.ok && isRecord(parsed.value)) {
			notes.push('the object came as a JSON string');
			v = parsed.value;
		}
	}
	if (isRecord(v) && !Object.hasOwn(schema.properties, 'value') && Object.keys(v).length === 1 && Object.hasOwn(v, 'value')) {
		const inner = typeof v.value === 'string' ? parseJson(v.value.trim()) : { ok: true as const, value: v.value };
		if (inner.ok && isRecord(inner.value)) {
			notes.push('unwrapped the object from {"value": …}');
			v = inner.value;
		}
	}
	if (!isRecord(v)) {
		return { ok: false, repairable: true, reason: `expected a JSON object with ${Object.keys(schema.properties).join(', ')}, got ${JSON.stringify(v)?.slice(0, 80)}` };
	}
	const out: Record<string, unknown> = { ...v };
	for (const [name, prop] of Object.entries(schema.properties)) {
		if (!Object.hasOwn(out, name)) continue;
		const r = scalar(prop, out[name], `"${name}"`, notes);
		if (!r.ok) return r;
		out[name] = r.value;
	}
	return { ok: true, value: out, notes };
}

/** The user-facing value an extracted JSON value stands for, or why it cannot be one. */
export function unwrapAnswer(schema: OutputSchema, value: unknown): Unwrapped {
	const notes: string[] = [];
	if (schema.type === 'object') return objectOutput(schema, value, notes);
	let inner = value;
	if (isRecord(value)) {
		const keys = Object.keys(value);
		if (keys.length !== 1 || keys[0] !== 'value') {
			return { ok: false, repairable: true, reason: `expected {"value": …}, got an object with keys ${JSON.stringify(keys)}` };
		}
		inner = value.value;
	}
	return scalar(schema, inner, 'value', notes);
}
