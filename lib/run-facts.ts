/**
 * What the release gate's policy needs from a run, gathered one result at a time (docs/adr/0031): counts,
 * sums, a latency histogram and the ids (with reasons) of failing, regressing and stale fixtures — never the
 * results themselves, so a 100,000-fixture run is judged in bounded memory. `checkPolicy` (lib/policy.ts)
 * reads the same facts from a whole `RunReport`, so both paths give the same verdict.
 */
import { LatencyHistogram } from './latency-histogram';
import { passedIn, type BaselineView } from './runner';
import type { FixtureResult, RunHeader, RunReport } from './types';

/** A cached answer fetched longer before the run than the policy allows. */
export interface StaleAnswer {
	fixtureId: string;
	fetchedAt: string;
	ageHours: number;
}

/** The facts of the run being judged. */
export interface RunFacts {
	header: Pick<RunHeader, 'runId' | 'promptId' | 'version' | 'startedAt' | 'model' | 'repeat'>;
	total: number;
	failed: Array<{ fixtureId: string; reason?: string }>;
	/** Fixtures that passed in the baseline and fail here (empty without a baseline). */
	regressions: string[];
	/** Input + output tokens summed over the results. */
	tokens: number;
	/** Cost summed over the results, unrounded. */
	cost: number;
	/** The run's cost as its summary states it (rounded to 1e-8 USD), for the cost per attempt. */
	costUsd: number;
	p95: number;
	/** Cached answers older than `maxEvidenceAgeHours` (see `staleAfterHours`). */
	stale: StaleAnswer[];
	cached: number;
}

/** The facts of the baseline (the run behind the channel): its summary document and which fixtures passed. */
export interface BaselineFacts {
	header: Pick<RunHeader, 'runId' | 'version' | 'model' | 'repeat' | 'summary'>;
	passed: ReadonlySet<string>;
	/** Results, tokens and cost of the baseline (summed over its results, else as its summary states them). */
	total: number;
	tokens: number;
	cost: number;
}

/** Gathers `RunFacts` from results added one at a time. */
export class RunFactsBuilder {
	private readonly facts: RunFacts;
	private readonly latencies = new LatencyHistogram();
	private readonly startedAt: number;

	/** `baselinePassed`: fixture ids that passed in the baseline; `staleAfterHours`: the policy's evidence age. */
	constructor(header: RunFacts['header'], private readonly baselinePassed: ReadonlySet<string> | undefined, private readonly staleAfterHours: number) {
		this.facts = { header, total: 0, failed: [], regressions: [], tokens: 0, cost: 0, costUsd: 0, p95: 0, stale: [], cached: 0 };
		this.startedAt = Date.parse(header.startedAt);
	}

	/** Count one result. */
	add(r: FixtureResult): void {
		const f = this.facts;
		f.total++;
		if (!r.passed) {
			f.failed.push({ fixtureId: r.fixtureId, ...(r.reason !== undefined ? { reason: r.reason } : {}) });
			if (this.baselinePassed?.has(r.fixtureId)) f.regressions.push(r.fixtureId);
		}
		f.tokens += (r.inputTokens ?? 0) + (r.outputTokens ?? 0);
		f.cost += r.costUsd ?? 0;
		this.latencies.add(r.latencyMs ?? 0);
		if (r.cached) f.cached++;
		if (r.cached && r.fetchedAt && !Number.isNaN(this.startedAt)) {
			const fetched = Date.parse(r.fetchedAt);
			const ageHours = (this.startedAt - fetched) / 3_600_000;
			if (!Number.isNaN(fetched) && ageHours > this.staleAfterHours) f.stale.push({ fixtureId: r.fixtureId, fetchedAt: r.fetchedAt, ageHours: Math.round(ageHours * 10) / 10 });
		}
	}

	/** The facts of every result added. */
	done(): RunFacts {
		return { ...this.facts, costUsd: Math.round(this.facts.cost * 1e8) / 1e8, p95: this.latencies.percentile(95) };
	}
}

/** The facts of a whole run in memory; cost and p95 as its summary states them. */
export function factsOf(run: RunReport, baseline: BaselineFacts | undefined, staleAfterHours: number): RunFacts {
	const builder = new RunFactsBuilder(run, baseline?.passed, staleAfterHours);
	for (const r of run.results) builder.add(r);
	return { ...builder.done(), costUsd: run.summary.costUsd, p95: run.summary.latencyMs.p95 };
}

/** The baseline's facts from a whole run, or from its summary document and the fixtures that passed (`baselineView`). */
export function baselineFactsOf(baseline: RunReport | (RunHeader & { passed: ReadonlySet<string> })): BaselineFacts {
	if ('results' in baseline) {
		const tokens = baseline.results.reduce((t, r) => t + (r.inputTokens ?? 0) + (r.outputTokens ?? 0), 0);
		const cost = baseline.results.reduce((t, r) => t + (r.costUsd ?? 0), 0);
		return { header: baseline, passed: passedIn(baseline), total: baseline.results.length, tokens, cost };
	}
	const s = baseline.summary;
	return { header: baseline, passed: passedIn(baseline as BaselineView), total: s.total, tokens: (s.tokens?.input ?? 0) + (s.tokens?.output ?? 0), cost: s.costUsd ?? 0 };
}
