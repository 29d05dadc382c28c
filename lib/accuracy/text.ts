/** Per-class metrics as plain text lines, for `prompt-release test` and other terminal output. */
import type { ClassMetrics } from '../types';

/** A rate as `87.5%`, or `—` when it cannot be measured. */
export function rateText(x: number | null | undefined): string {
	return x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
}

function padStart(text: string, width: number): string {
	return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

function padEnd(text: string, width: number): string {
	return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** One table per classification field: precision, recall, F1 and support per class, then the confusion matrix. */
export function classLines(classes: Record<string, ClassMetrics> | undefined): string[] {
	const lines: string[] = [];
	for (const [field, m] of Object.entries(classes ?? {})) {
		const w = Math.max(5, ...m.labels.map((l) => l.length));
		lines.push(`classes ${field === 'value' ? '(the answer)' : field}:`);
		lines.push(`  ${padEnd('class', w)}  ${padStart('precision', 9)}  ${padStart('recall', 7)}  ${padStart('F1', 7)}  ${padStart('support', 7)}`);
		for (const label of m.labels) {
			const c = m.classes[label];
			lines.push(`  ${padEnd(label, w)}  ${padStart(rateText(c.precision), 9)}  ${padStart(rateText(c.recall), 7)}  ${padStart(rateText(c.f1), 7)}  ${padStart(String(c.support), 7)}`);
		}
		const cw = Math.max(4, ...m.columns.map((c) => c.length));
		lines.push(`  confusion matrix (rows expected, columns answered):`);
		lines.push(`  ${padEnd('', w)}  ${m.columns.map((c) => padStart(c, cw)).join('  ')}`);
		for (const label of m.labels) lines.push(`  ${padEnd(label, w)}  ${m.columns.map((c) => padStart(String(m.matrix[label]?.[c] ?? 0), cw)).join('  ')}`);
	}
	return lines;
}
