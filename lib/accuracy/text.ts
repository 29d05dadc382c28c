/** Per-class metrics as plain text lines, for `prompt-release test` and other terminal output. */
import type { ClassMetrics, RunSummary } from '../types';

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

/** Agreement of a consensus run (overall, per segment when there are several) and pass rates per tag. */
export function agreementAndTagLines(s: Pick<RunSummary, 'agreement' | 'tags'>): string[] {
	const lines: string[] = [];
	if (s.agreement) {
		const a = s.agreement;
		lines.push(`agreement: ${a.agreed}/${a.total} fixtures reached consensus (${rateText(a.rate)}); mean vote share ${rateText(a.meanVoteShare)}`);
		const segs = Object.entries(a.segments);
		const w = Math.max(0, ...segs.map(([name]) => name.length));
		if (segs.length > 1) for (const [name, g] of segs) lines.push(`  agreement ${padEnd(name, w)}  ${g.agreed}/${g.total}  ${rateText(g.rate)}`);
	}
	const tags = Object.entries(s.tags ?? {});
	const w = Math.max(0, ...tags.map(([name]) => name.length));
	for (const [name, t] of tags) lines.push(`  tag ${padEnd(name, w)}  ${t.passed}/${t.total}  ${rateText(t.passRate)}`);
	return lines;
}
