/**
 * Per-field comparison of an expected value with a model's answer: exact (default), numeric
 * tolerance (absolute and/or relative), case-insensitive text, or one of several accepted values.
 */
import { validateValue, valuesEqual } from './schema';
import type { CompareRule, OutputSchema, OutputValue, ScalarValue } from './types';

function isRecord(v: unknown): v is Record<string, ScalarValue> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Compare one scalar under one rule. */
export function compareScalar(expected: ScalarValue | undefined, actual: ScalarValue | undefined, rule: CompareRule = 'exact'): boolean {
	const e = expected ?? null;
	const a = actual ?? null;
	if (valuesEqual(e, a)) return true;
	if (rule === 'exact') return false;
	if (rule === 'caseInsensitive') return typeof e === 'string' && typeof a === 'string' && e.toLocaleLowerCase() === a.toLocaleLowerCase();
	if ('tolerance' in rule) {
		if (typeof e !== 'number' || typeof a !== 'number') return false;
		const diff = Math.abs(a - e);
		const { absolute, relative } = rule.tolerance;
		// Tiny epsilon so that e.g. 0.1 + 0.2 vs 0.3 within absolute 0 tolerance still reads as equal.
		const eps = 1e-12 * Math.max(1, Math.abs(e));
		return (absolute !== undefined && diff <= absolute + eps) || (relative !== undefined && diff <= relative * Math.abs(e) + eps);
	}
	if ('oneOf' in rule) return rule.oneOf.some((v) => valuesEqual(v, a));
	return false;
}

/**
 * Compare an answer with the expected value field by field (key "value" for scalar outputs).
 * An expected object may leave out nullable properties (they read as null).
 */
export function compareValues(expected: OutputValue, actual: OutputValue, schema: OutputSchema, rules: Record<string, CompareRule> = {}): { passed: boolean; fields: Record<string, boolean> } {
	const fields: Record<string, boolean> = {};
	if (schema.type === 'object') {
		const normalised = validateValue(schema, expected);
		const exp = normalised.ok && isRecord(normalised.value) ? normalised.value : isRecord(expected) ? expected : {};
		const act = isRecord(actual) ? actual : {};
		for (const key of Object.keys(schema.properties)) fields[key] = compareScalar(exp[key], act[key], rules[key]);
	} else {
		fields.value = !isRecord(expected) && !isRecord(actual) && compareScalar(expected, actual, rules.value);
	}
	return { passed: Object.values(fields).every(Boolean), fields };
}
