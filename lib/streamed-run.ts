/**
 * Runs fixtures as a stream (design: docs/adr/0031): fixtures are pulled from an iterator by as many
 * workers as the concurrency allows, each result goes to a sink in fixture order as soon as the results
 * before it are done, and only the summary's running totals stay in memory (latency percentiles from a
 * bounded histogram, lib/latency-histogram.ts). Memory is flat in the number of fixtures.
 */
import { setMaxListeners } from 'node:events';
import { LatencyHistogram } from './latency-histogram';
import { DEFAULT_SEGMENT, newRunId, passedIn, runOne, type BaselineView, type RunFixturesOptions } from './runner';
import { ClassMetricsBuilder } from './accuracy/classes';
import { countTags, finishTagRates } from './accuracy/tags';
import { AgreementBuilder } from './accuracy/agreement';
import { CallCounter } from './provenance';
import { RunInterrupted } from './errors';
import type { Fixture, FixtureResult, OutputSchema, RunHeader, RunReport, RunSummary, SegmentSummary } from './types';

function rate(passed: number, total: number): number {
	return total === 0 ? 0 : Math.round((passed / total) * 10_000) / 10_000;
}

/** The run summary built one result at a time (the same figures `summarize` computes over a list). */
export class SummaryBuilder {
	private total = 0;
	private passed = 0;
	private readonly segments: Record<string, SegmentSummary> = {};
	private fields: Record<string, SegmentSummary> | undefined;
	private readonly latencies = new LatencyHistogram();
	private inputTokens = 0;
	private outputTokens = 0;
	private cost = 0;
	private cached = 0;
	private batched = 0;
	private readonly calls = new CallCounter();
	private readonly regressions: string[] = [];
	private readonly classes: ClassMetricsBuilder;
	private readonly tags: Record<string, SegmentSummary> = {};
	private readonly agreement = new AgreementBuilder();

	/** Fixture ids that passed in the baseline, computed once (not once per result). */
	private readonly passedBefore: ReadonlySet<string> | undefined;

	/** `output`: the prompt's declared output, for per-class metrics of classification outputs. */
	constructor(baseline?: RunReport | BaselineView, output?: OutputSchema) {
		this.passedBefore = baseline ? passedIn(baseline) : undefined;
		this.classes = new ClassMetricsBuilder(output);
	}

	/** Count one result (results arrive in fixture order). */
	add(r: FixtureResult): void {
		this.total++;
		if (r.passed) this.passed++;
		const s = (this.segments[r.segment ?? DEFAULT_SEGMENT] ??= { total: 0, passed: 0, failed: 0, passRate: 0 });
		s.total++;
		if (r.passed) s.passed++;
		else s.failed++;
		for (const [name, ok] of Object.entries(r.fields ?? {})) {
			const f = ((this.fields ??= {})[name] ??= { total: 0, passed: 0, failed: 0, passRate: 0 });
			f.total++;
			if (ok) f.passed++;
			else f.failed++;
		}
		this.latencies.add(r.latencyMs ?? 0);
		this.inputTokens += r.inputTokens ?? 0;
		this.outputTokens += r.outputTokens ?? 0;
		this.cost += r.costUsd ?? 0;
		if (r.cached) this.cached++;
		if (r.batch) this.batched++;
		this.calls.add(r);
		if (!r.passed && this.passedBefore?.has(r.fixtureId)) this.regressions.push(r.fixtureId);
		this.classes.add(r);
		countTags(this.tags, r);
		this.agreement.add({ consensus: r.consensus, segment: r.segment ?? DEFAULT_SEGMENT });
	}

	/** The summary of every result added so far. */
	summary(runId: string): RunSummary {
		for (const s of Object.values(this.segments)) s.passRate = rate(s.passed, s.total);
		for (const f of Object.values(this.fields ?? {})) f.passRate = rate(f.passed, f.total);
		const classes = this.classes.result();
		const tags = finishTagRates(this.tags);
		const agreement = this.agreement.result();
		const calls = this.calls.result();
		return {
			total: this.total,
			passed: this.passed,
			failed: this.total - this.passed,
			passRate: rate(this.passed, this.total),
			segments: this.segments,
			...(this.fields ? { fields: this.fields } : {}),
			...(agreement ? { agreement } : {}),
			...(tags ? { tags } : {}),
			...(classes ? { classes } : {}),
			regressions: this.regressions,
			latencyMs: { p50: this.latencies.percentile(50), p95: this.latencies.percentile(95) },
			tokens: { input: this.inputTokens, output: this.outputTokens },
			costUsd: Math.round(this.cost * 1e8) / 1e8,
			runId,
			cached: this.cached,
			...(this.batched ? { batched: this.batched } : {}),
			...(calls ? { calls } : {}),
		};
	}
}

export interface StreamRunOptions extends Omit<RunFixturesOptions, 'fixtures'> {
	/** Fixtures as a list or pulled one at a time (e.g. `store.streamFixtures(id, spec)`). */
	fixtures: Iterable<Fixture> | AsyncIterable<Fixture>;
	/** Receives every result in fixture order (e.g. `RunWriter.append`); awaited one at a time. */
	sink: (result: FixtureResult) => void | Promise<void>;
	/** The run id to use (default: a new one). */
	runId?: string;
}

/**
 * Run every fixture, streaming results to `sink` in fixture order; returns the run without results.
 * `onResult` (progress) is called as each fixture finishes, in completion order. A fatal ProviderError
 * aborts calls in flight, stops pulling fixtures and is thrown (the caller discards what it wrote); so does
 * `signal` when aborted, with RunInterrupted.
 */
export async function streamFixtureRun(options: StreamRunOptions): Promise<RunHeader> {
	const now = options.now ?? (() => new Date());
	const started = now();
	const runId = options.runId ?? newRunId(started);
	const abort = new AbortController();
	// Every call in flight listens on this one signal (the SDK request, a wait for the limiter), each removing its
	// listener when it ends: at --concurrency 32 that is far more than Node's default of 10 before it warns of a leak.
	setMaxListeners(0, abort.signal);
	const builder = new SummaryBuilder(options.baseline, options.resolved.spec.output);
	const source = Symbol.asyncIterator in options.fixtures ? (options.fixtures as AsyncIterable<Fixture>)[Symbol.asyncIterator]() : (function* () {
		yield* options.fixtures as Iterable<Fixture>;
	})();
	let failure: unknown;
	let nextIndex = 0;
	let nextToSink = 0;
	const done = new Map<number, FixtureResult>();
	let sinking: Promise<void> = Promise.resolve();
	const drain = (): void => {
		while (done.has(nextToSink)) {
			const r = done.get(nextToSink)!;
			done.delete(nextToSink);
			nextToSink++;
			builder.add(r);
			sinking = sinking.then(() => options.sink(r));
		}
	};
	// Workers start one at a time, each once the one before it has pulled a fixture, up to the concurrency:
	// never more workers than fixtures. A batch run asks for every fixture at once (concurrency 100,000), and
	// that many workers all waiting on the fixture iterator would cost time quadratic in their number.
	const limit = Math.max(1, options.concurrency ?? 4);
	const workers: Promise<void>[] = [];
	let exhausted = false;
	const fail = (error: unknown): void => {
		if (failure === undefined) failure = error;
		abort.abort();
	};
	// Stopped from outside: the same as a fatal error, except for what is thrown.
	const stop = (): void => fail(new RunInterrupted(typeof options.signal?.reason === 'string' ? options.signal.reason : 'aborted'));
	if (options.signal?.aborted) stop();
	else options.signal?.addEventListener('abort', stop, { once: true });
	const worker = async (): Promise<void> => {
		while (failure === undefined) {
			let next: IteratorResult<Fixture>;
			try {
				next = await source.next();
			} catch (error) {
				fail(error); // a fixture that cannot be read ends the run
				return;
			}
			if (next.done) exhausted = true;
			if (next.done || failure !== undefined) return;
			if (!exhausted && workers.length < limit) workers.push(worker());
			const index = nextIndex++;
			try {
				const r = await runOne(next.value, options, abort.signal);
				if (failure !== undefined) return;
				options.onResult?.(r);
				done.set(index, r);
				drain();
				await sinking; // back-pressure: a slow sink slows the workers, memory stays bounded
			} catch (error) {
				fail(error);
				return;
			}
		}
	};
	workers.push(worker());
	try {
		// Workers never reject (failures go to `failure`); the list grows while they start each other.
		for (let i = 0; i < workers.length; i++) await workers[i];
		await sinking.catch((error: unknown) => {
			failure ??= error;
		});
	} finally {
		options.signal?.removeEventListener('abort', stop);
	}
	// A fatal provider error (isFatalProviderError) or anything unexpected: no run exists.
	if (failure !== undefined) throw failure;
	const { resolved } = options;
	return {
		runId,
		promptId: resolved.promptId,
		version: resolved.version,
		contentHash: resolved.contentHash,
		model: { provider: resolved.spec.model.provider, name: resolved.spec.model.name },
		startedAt: started.toISOString(),
		finishedAt: now().toISOString(),
		...(options.baseline ? { baselineRunId: options.baseline.runId } : {}),
		repeat: Math.max(1, Math.floor(options.repeat ?? 1)),
		summary: builder.summary(runId),
	};
}
