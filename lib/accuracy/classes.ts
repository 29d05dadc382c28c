/**
 * Per-class metrics for classification signals: boolean and enum outputs, and every boolean or enum
 * property of an object output. A confusion matrix (expected class × answered class, with an `invalid`
 * column for answers that never became a value) and precision, recall and F1 per class. Built one result
 * at a time, so streamed runs never hold their results.
 */
import type { ClassMetrics, ClassStats, FixtureResult, OutputSchema, OutputValue, ScalarSchema } from '../types';

/** The answered-class column for results without a valid answer. */
export const INVALID_CLASS = 'invalid';

/** The class labels of a scalar schema, or undefined when it is not a classification (boolean or enum). */
function labelsOf(schema: ScalarSchema): string[] | undefined {
	let labels: string[] | undefined;
	if (schema.type === 'boolean') labels = ['true', 'false'];
	else if (schema.type === 'string' && 'enum' in schema && Array.isArray(schema.enum)) labels = [...schema.enum];
	if (!labels) return undefined;
	return schema.nullable ? [...labels, 'null'] : labels;
}

/**
 * The classification fields of an output schema and their class labels: `value` for a boolean or enum
 * output, each boolean or enum property of an object output. Empty for other outputs.
 */
export function classFields(output: OutputSchema | undefined): Record<string, string[]> {
	if (!output) return {};
	if (output.type === 'object') {
		const out: Record<string, string[]> = {};
		for (const [name, prop] of Object.entries(output.properties)) {
			const labels = labelsOf(prop);
			if (labels) out[name] = labels;
		}
		return out;
	}
	const labels = labelsOf(output);
	return labels ? { value: labels } : {};
}

/** The class label of a value as stored in matrices: `true`, `false`, `null`, or the enum string. */
export function classLabel(value: unknown): string {
	if (value === null || value === undefined) return 'null';
	return typeof value === 'string' ? value : JSON.stringify(value);
}

function fieldValue(value: OutputValue | null | undefined, field: string): unknown {
	if (field === 'value' && (value === null || typeof value !== 'object')) return value;
	return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] ?? null : undefined;
}

function ratio(num: number, den: number): number | null {
	return den === 0 ? null : Math.round((num / den) * 10_000) / 10_000;
}

/** Precision, recall and F1 of every class from a confusion matrix (rows expected, columns answered). */
export function classStats(labels: string[], matrix: Record<string, Record<string, number>>): Record<string, ClassStats> {
	const out: Record<string, ClassStats> = {};
	for (const c of labels) {
		const row = matrix[c] ?? {};
		const support = Object.values(row).reduce((a, n) => a + n, 0);
		const predicted = Object.values(matrix).reduce((a, r) => a + (r[c] ?? 0), 0);
		const tp = row[c] ?? 0;
		// Nothing answered c although fixtures expect it: precision 0 (nothing right), not "unknown".
		const precision = predicted === 0 ? (support > 0 ? 0 : null) : ratio(tp, predicted);
		const recall = ratio(tp, support);
		const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : Math.round(((2 * precision * recall) / (precision + recall)) * 10_000) / 10_000;
		out[c] = { support, predicted, truePositives: tp, precision, recall, f1 };
	}
	return out;
}

/** Confusion matrices built one result at a time (see `classFields` for which fields count). */
export class ClassMetricsBuilder {
	private readonly fields: Record<string, string[]>;
	private readonly matrices: Record<string, Record<string, Record<string, number>>> = {};

	constructor(output: OutputSchema | undefined) {
		this.fields = classFields(output);
	}

	/** True when the output has at least one classification field. */
	get applies(): boolean {
		return Object.keys(this.fields).length > 0;
	}

	/** Count one result: its expected class against its answered class (`invalid` without a valid answer). */
	add(r: Pick<FixtureResult, 'expected' | 'actual' | 'valid'>): void {
		for (const field of Object.keys(this.fields)) {
			const expected = classLabel(fieldValue(r.expected, field));
			const answered = r.valid ? classLabel(fieldValue(r.actual, field)) : INVALID_CLASS;
			const row = ((this.matrices[field] ??= {})[expected] ??= {});
			row[answered] = (row[answered] ?? 0) + 1;
		}
	}

	/** The metrics per field; undefined when the output has no classification field. */
	result(): Record<string, ClassMetrics> | undefined {
		if (!this.applies) return undefined;
		const out: Record<string, ClassMetrics> = {};
		for (const [field, declared] of Object.entries(this.fields)) {
			const matrix = this.matrices[field] ?? {};
			// Labels seen but not declared (a schema changed since the fixture was written) still show.
			const seen = new Set([...Object.keys(matrix), ...Object.values(matrix).flatMap((r) => Object.keys(r))]);
			seen.delete(INVALID_CLASS);
			const labels = [...declared, ...[...seen].filter((l) => !declared.includes(l)).sort()];
			const full: Record<string, Record<string, number>> = {};
			const columns = Object.values(matrix).some((r) => r[INVALID_CLASS]) ? [...labels, INVALID_CLASS] : labels;
			for (const e of labels) full[e] = Object.fromEntries(columns.map((a) => [a, matrix[e]?.[a] ?? 0]));
			out[field] = { labels, columns, matrix: full, classes: classStats(labels, full) };
		}
		return out;
	}
}

/** Class metrics of a list of results (the same figures the streamed summary builds). */
export function classMetrics(results: Iterable<Pick<FixtureResult, 'expected' | 'actual' | 'valid'>>, output: OutputSchema | undefined): Record<string, ClassMetrics> | undefined {
	const builder = new ClassMetricsBuilder(output);
	for (const r of results) builder.add(r);
	return builder.result();
}
