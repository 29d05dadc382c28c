/**
 * What the release gate's policy needs from a run, gathered one result at a time (docs/adr/0031): counts,
 * sums, a latency histogram and the ids (with reasons) of failing, regressing and stale fixtures — never the
 * results themselves, so a 100,000-fixture run is judged in bounded memory. `checkPolicy` (lib/policy.ts)
 * reads the same facts from a whole `RunReport`, so both paths give the same verdict.
 */
import { LatencyHistogram } from './latency-histogram';
import { callsOf, FUTURE_FETCH_SKEW_MS } from './provenance';
import { passedIn, type BaselineView } from './runner';
import { AgreementFactsBuilder } from './accuracy/agreement';
import { ClassCulpritsBuilder, type ClassCulprits } from './accuracy/class-rules';
import { classFields, ClassMetricsBuilder } from './accuracy/classes';
import { TagCoverageBuilder, type TagCoverage } from './accuracy/tags';
import type { AgreementSummary, ClassMetrics, FixtureResult, OutputSchema, RunHeader, RunReport } from './types';

/** A cached answer fetched longer before the run than the policy allows. */
export interface StaleAnswer {
	fixtureId: string;
	fetchedAt: string;
	ageHours: number;
}

/** The facts of the run being judged. */
export interface RunFacts {
	/** `finishedAt` is absent while the run is still going (migrate judges as results come): `done` is then told it. */
	header: Pick<RunHeader, 'runId' | 'promptId' | 'version' | 'startedAt' | 'model' | 'repeat'> & { finishedAt?: string };
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
	/**
	 * Cached answers fetched after the run ended (beyond FUTURE_FETCH_SKEW_MS): a clock set wrong or an edited
	 * entry, so their age is unknown. `ageHours` is how many hours after the run's end.
	 */
	future: StaleAnswer[];
	/** Calls answered from the response cache (per result in runs stored before calls were counted). */
	cached: number;
	/** Pass counts per tag, with the failing fixtures of tags that have no passing one (`requireTags`). */
	tags: ReadonlyMap<string, TagCoverage>;
	/** Agreement of consensus prompts and the fixtures without consensus (`minAgreement`). */
	agreement: { summary: AgreementSummary | undefined; without: string[] };
	/** Per-class metrics of classification outputs (minRecall, minPrecision, minF1); undefined for other outputs. */
	classes?: Record<string, ClassMetrics>;
	/** The fixtures a per-class shortfall names. */
	classCulprits: ClassCulprits;
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
	private readonly tags = new TagCoverageBuilder();
	private readonly agreement = new AgreementFactsBuilder();
	private readonly classes: ClassMetricsBuilder;
	private readonly culprits: ClassCulpritsBuilder;
	/** Cached answers fetched after the run started (beyond the skew): fetched after it ended, once its end is known? */
	private readonly afterStart: Array<{ fixtureId: string; fetchedAt: string; fetched: number }> = [];

	/**
	 * `baselinePassed`: fixture ids that passed in the baseline; `staleAfterHours`: the policy's evidence age;
	 * `output`: the prompt's declared output, for the per-class metrics of classification outputs.
	 */
	constructor(header: RunFacts['header'], private readonly baselinePassed: ReadonlySet<string> | undefined, private readonly staleAfterHours: number, output?: OutputSchema) {
		this.facts = { header, total: 0, failed: [], regressions: [], tokens: 0, cost: 0, costUsd: 0, p95: 0, stale: [], future: [], cached: 0, tags: new Map(), agreement: { summary: undefined, without: [] }, classCulprits: () => [] };
		this.startedAt = Date.parse(header.startedAt);
		this.classes = new ClassMetricsBuilder(output);
		this.culprits = new ClassCulpritsBuilder(Object.keys(classFields(output)));
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
		// A result partly answered from the cache (repeat attempt 1 cached, the others fresh) is as old as its oldest answer.
		const cachedCalls = callsOf(r).cached;
		f.cached += cachedCalls;
		if (cachedCalls > 0 && r.fetchedAt && !Number.isNaN(this.startedAt)) {
			const fetched = Date.parse(r.fetchedAt);
			const ageHours = (this.startedAt - fetched) / 3_600_000;
			if (!Number.isNaN(fetched) && ageHours > this.staleAfterHours) f.stale.push({ fixtureId: r.fixtureId, fetchedAt: r.fetchedAt, ageHours: Math.round(ageHours * 10) / 10 });
			// Fetched during the run is possible (a duplicate request answered earlier in it, a concurrent run); after it is not.
			if (fetched > this.startedAt + FUTURE_FETCH_SKEW_MS) this.afterStart.push({ fixtureId: r.fixtureId, fetchedAt: r.fetchedAt, fetched });
		}
		this.tags.add(r);
		this.agreement.add(r);
		this.classes.add(r);
		this.culprits.add(r);
	}

	/**
	 * The facts of every result added. `finishedAt`: the run's end when the header did not have it (a run judged
	 * as it ran); without either, the run is taken to end now.
	 */
	done(finishedAt?: string): RunFacts {
		const classes = this.classes.result();
		const parsedEnd = Date.parse(finishedAt ?? this.facts.header.finishedAt ?? '');
		const end = Number.isNaN(parsedEnd) ? Date.now() : parsedEnd;
		const future = this.afterStart
			.filter((a) => a.fetched > end + FUTURE_FETCH_SKEW_MS)
			.map((a) => ({ fixtureId: a.fixtureId, fetchedAt: a.fetchedAt, ageHours: Math.round(((a.fetched - end) / 3_600_000) * 10) / 10 }));
		return {
			...this.facts,
			future,
			costUsd: Math.round(this.facts.cost * 1e8) / 1e8,
			p95: this.latencies.percentile(95),
			tags: this.tags.result(),
			agreement: this.agreement.result(),
			...(classes ? { classes } : {}),
			classCulprits: this.culprits.result(),
		};
	}
}

/**
 * The facts of a whole run in memory; cost, p95 and per-class metrics as its summary states them (the
 * culprits of per-class rules for the classification fields of that summary).
 */
export function factsOf(run: RunReport, baseline: BaselineFacts | undefined, staleAfterHours: number): RunFacts {
	const builder = new RunFactsBuilder(run, baseline?.passed, staleAfterHours);
	const culprits = new ClassCulpritsBuilder(Object.keys(run.summary.classes ?? {}));
	for (const r of run.results) {
		builder.add(r);
		culprits.add(r);
	}
	const { classes: _none, ...facts } = builder.done();
	void _none;
	return { ...facts, costUsd: run.summary.costUsd, p95: run.summary.latencyMs.p95, ...(run.summary.classes ? { classes: run.summary.classes } : {}), classCulprits: culprits.result() };
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
