/**
 * Conversion of human-entered text (an analyst's form field, a CSV cell) into a value of the
 * declared type. Only for people's input — model answers are never coerced.
 */
import type { InputType, OutputSchema, ScalarSchema } from './types';

const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);

function coerceScalar(schema: ScalarSchema, value: unknown): unknown {
	if (typeof value !== 'string') return value;
	const t = value.trim();
	if (schema.nullable && (t === '' || t.toLowerCase() === 'null')) return null;
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
