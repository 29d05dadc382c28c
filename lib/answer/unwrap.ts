/**
 * From the extracted JSON value to the user-facing value, before the schema check. Unwraps the wire
 * object (`{"value": …}` for scalar outputs) and refuses the answer shapes that would otherwise pass a
 * schema as the wrong literal (most of all for strings, which accept any text):
 *
 * - a value that is itself the JSON text of the wire object (`"{\"value\":\"PO-4711\"}"`), also inside a code
 *   fence → its inner value; any other JSON object/array text where a scalar belongs, Python-style `{'value': …}`
 *   text, or a cut `{"value": …` text → invalid;
 * - a value in quotes: a JSON string literal (`"\"PO-4711\""`), or single quotes / backticks around the whole
 *   value (`'PO-4711'`) → the text inside;
 * - a placeholder for "not stated" (PLACEHOLDER_WORDS, or a "no/not … mentioned/given/stated/provided/found/
 *   available/specified/known" phrase, or an empty string for a free-text output) → null when the output is
 *   nullable, else invalid (asking again would only push the model to invent a value); a word that is a declared
 *   enum value (any case) is left to the schema;
 * - an object output sent as a JSON string, or wrapped as `{"value": {…}}` → the object.
 * Any other text passes to the schema as it is: a free-text output accepts any other wording.
 */
import type { ObjectSchema, OutputSchema, ScalarSchema } from '../types';

export type Unwrapped = { ok: true; value: unknown; notes: string[] } | { ok: false; reason: string; repairable: boolean };

/** Words that stand for "not stated" (compared lower-case, trimmed, without a final period). */
export const PLACEHOLDER_WORDS = [
	'null', 'none', 'nil', 'undefined', 'n/a', 'n.a', 'na', 'nan', 'unknown', 'unbekannt', 'k.a', 'keine angabe', 'nicht angegeben',
	'not stated', 'not specified', 'not mentioned', 'not given', 'not provided', 'not available', 'not applicable', 'tbd', 'tba',
	'-', '--', '—', '–', '?', '??', '<null>', '(none)', '(null)', '<none>',
];
const PLACEHOLDERS = new Set(PLACEHOLDER_WORDS);
/** "No PO number mentioned", "not found", "none found", "no date given". */
const PLACEHOLDER_PHRASE = /^(no|not|none)\b[\w\s-]{0,40}\b(mentioned|given|stated|provided|found|available|specified|known|applicable|present|included)$/i;
const FENCED = /^```[A-Za-z0-9_+.-]*[ \t]*\n?([\s\S]*?)\n?```$/;
const PYTHON_DICT = /^\{\s*'[^']*'\s*:/;
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

/** Whether `text` stands for "not stated" for this schema (see the module doc); a declared enum word never does. */
export function placeholderWord(s: ScalarSchema, text: string): boolean {
	const word = text.trim().toLowerCase().replace(/\.$/, '').trim();
	if ('enum' in s && s.enum?.some((v) => v.toLowerCase() === word)) return false;
	return PLACEHOLDERS.has(word) || PLACEHOLDER_PHRASE.test(word) || (word === '' && isFreeText(s));
}

/** One scalar (a scalar output's value, or one property of an object output). `where` names it in reasons. */
function scalar(s: ScalarSchema, value: unknown, where: string, notes: string[], depth = 0): Unwrapped {
	if (typeof value !== 'string' || depth > 3) return { ok: true, value, notes };
	const text = value.trim();
	const fenced = FENCED.exec(text);
	if (fenced) {
		notes.push(`${where}: read the value inside a code fence`);
		return scalar(s, fenced[1].trim(), where, notes, depth + 1);
	}
	if (PYTHON_DICT.test(text)) {
		return { ok: false, repairable: true, reason: `${where} is Python-style text ${JSON.stringify(text.slice(0, 80))}, not a ${s.type}: answer with JSON` };
	}
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
	if (text.length >= 2 && /^(['`]).*\1$/s.test(text) && !text.slice(1, -1).includes(text[0])) {
		notes.push(`${where}: removed the quotes around the value`);
		return scalar(s, text.slice(1, -1), where, notes, depth + 1);
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

/**
 * Why an expected value (a fixture's, an import row's, a correction's) can never be matched by a valid answer,
 * because the answer reading reads that text as something else (a placeholder, the wire object's text, a quoted
 * value); undefined when it can. `where` prefixes the reason, e.g. `expected`.
 */
export function expectedProblem(schema: OutputSchema, expected: unknown, where = 'expected'): string | undefined {
	const check = (s: ScalarSchema, v: unknown, name: string): string | undefined => {
		if (typeof v !== 'string') return undefined;
		const read = scalar(s, v, name, []);
		if (!read.ok) return read.reason.replace(`${name}: the model answered `, `${name} `);
		if (read.value === v) return undefined;
		return `${name} ${JSON.stringify(v)} can never be matched: an answer saying that is read as ${JSON.stringify(read.value)}; write ${JSON.stringify(read.value)}`;
	};
	if (schema.type === 'object') {
		if (typeof expected !== 'object' || expected === null) return undefined;
		for (const [name, prop] of Object.entries(schema.properties)) {
			const problem = check(prop, (expected as Record<string, unknown>)[name], `${where}.${name}`);
			if (problem) return problem;
		}
		return undefined;
	}
	return check(schema, expected, where);
}
