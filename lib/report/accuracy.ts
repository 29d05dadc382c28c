/** The accuracy parts of the evaluation bundle: agreement of consensus runs and per-class metrics. */
import { agreementOf } from '../accuracy/agreement';
import { classMetrics } from '../accuracy/classes';
import type { ClassMetrics, PromptSpec, RunReport } from '../types';
import type { EvaluationBundle, RateRow } from './bundle';

function rate(n: number, total: number): number {
	return total === 0 ? 0 : Math.round((n / total) * 10_000) / 10_000;
}

/** Agreement of a consensus run as rate rows (overall and per segment), against the baseline's when it voted. */
export function agreementRows(run: RunReport, baseline?: RunReport): Pick<EvaluationBundle, 'agreement'> {
	const now = agreementOf(run.results);
	if (!now) return {};
	const before = baseline ? agreementOf(baseline.results) : undefined;
	const row = (name: string, g: { total: number; agreed: number }, b?: { total: number; agreed: number }): RateRow => {
		const r: RateRow = { name, total: g.total, passed: g.agreed, passRate: rate(g.agreed, g.total) };
		if (b) {
			r.baselinePassRate = rate(b.agreed, b.total);
			r.delta = Math.round((r.passRate - r.baselinePassRate) * 10_000) / 10_000;
		}
		return r;
	};
	return {
		agreement: {
			overall: row('overall', now, before),
			segments: Object.entries(now.segments).map(([name, g]) => row(name, g, before?.segments[name])),
			meanVoteShare: now.meanVoteShare,
		},
	};
}

/** Per-class metrics of a run: from its results under the prompt's declared output, else as its summary stored them. */
export function classesOf<K extends 'classes' | 'baselineClasses'>(run: RunReport, spec: PromptSpec | undefined, key: K): Partial<Record<K, Record<string, ClassMetrics>>> {
	const classes = (spec ? classMetrics(run.results, spec.output) : undefined) ?? run.summary.classes;
	return classes ? ({ [key]: classes } as Partial<Record<K, Record<string, ClassMetrics>>>) : {};
}
