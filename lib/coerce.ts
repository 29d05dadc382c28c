/**
 * Conversion of human-entered text (an analyst's form field, a CSV cell) into a value of the
 * declared type. Only for people's input — model answers are never coerced.
 */
import { placeholderWord } from './answer/unwrap';
import type { InputType, OutputSchema, ScalarSchema } from './types';

const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);

function coerceScalar(schema: ScalarSchema, value: unknown): unknown {
	if (typeof value !== 'string') return value;
	const t = value.trim();
	// The same words the answer reading takes for "not stated" (lib/answer/unwrap.ts), so fixtures and answers agree.
	if (schema.nullable && (t === '' || placeholderWord(schema, t))) return null;
	switch (schema.type) {
		case 'boolean':
			if (TRUE.has(t.toLowerCase())) return true;
			if (FALSE.has(t.toLowerCase())) return false;
			return value;
		case 'integer':
		case 'number': {
			if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return value;
			return Number(t);
		}
		default:
			return t;
	}
}

/** Coerce a string (or an object of strings, or a JSON text of one) towards the declared output schema. */
export function coerceToSchema(schema: OutputSchema, value: unknown): unknown {
	if (schema.type === 'object') {
		let v = value;
		if (typeof v === 'string') {
			try {
				v = JSON.parse(v);
			} catch {
				return value;
			}
		}
		if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
		const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
		for (const [k, prop] of Object.entries(schema.properties)) if (Object.hasOwn(out, k)) out[k] = coerceScalar(prop, out[k]);
		return out;
	}
	return coerceScalar(schema, value);
}

/** Coerce a CSV cell to a declared input type. */
export function coerceInput(type: InputType, value: string): unknown {
	if (type === 'string') return value;
	if (type === 'boolean') return coerceScalar({ type: 'boolean' }, value);
	return coerceScalar({ type: 'number' }, value);
}

/**
 * A hint for a person's text that does not convert to the declared type, or undefined: a decimal comma
 * (`968,5`, `1.234,50`), thousands separators, or a yes/no word in another language for a boolean.
 */
export function coercionHint(schema: ScalarSchema, raw: unknown): string | undefined {
	if (typeof raw !== 'string') return undefined;
	const t = raw.trim();
	if (schema.type === 'number' || schema.type === 'integer') {
		if (/^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$/.test(t) || /^[-+]?\d+,\d+$/.test(t) || /^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) {
			return `write numbers with a decimal point and no thousands separators (e.g. 1234.5), not ${JSON.stringify(t)}`;
		}
		return `write a number such as 14 or 968.5`;
	}
	if (schema.type === 'boolean') return `write true or false (also read: yes/no, y/n, 1/0), not ${JSON.stringify(t)}`;
	return undefined;
}
