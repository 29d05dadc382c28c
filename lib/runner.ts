/**
 * Runs every fixture of a prompt against one resolved version and builds the run report.
 */
import { randomBytes } from 'node:crypto';
import { InputError, ProviderError } from './errors';
import { canonicalJson, sha256 } from './hash';
import { runPrompt } from './run-prompt';
import { CallCounter, callProvenance } from './provenance';
import { compareValues } from './compare';
import { valuesEqual } from './schema';
import type { Provider } from './providers/types';
import type { PriceTable } from './registry/store';
import { classMetrics } from './accuracy/classes';
import { tagRates } from './accuracy/tags';
import { agreementOf } from './accuracy/agreement';
import type { CompareRule, Fixture, FixtureResult, OutputSchema, ResolvedPrompt, RunReport, RunSummary, SegmentSummary } from './types';

export const DEFAULT_SEGMENT = 'default';

export function newRunId(now: Date = new Date()): string {
	return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** Identifies the inputs a fixture was run with (stored in each result; compared by the release gate). */
export function fixtureInputsHash(fixture: Pick<Fixture, 'inputs'>): string {
	return `sha256:${sha256(canonicalJson(fixture.inputs))}`;
}

/**
 * Whether a stored result was run with these inputs (`fixtureInputsHash` of the fixture as it is now): true
 * or false when the result records its inputs hash, undefined when it cannot tell — results stored before
 * inputs hashes were recorded (early runs of format 1) carry nothing else that identifies their inputs.
 */
export function ranWithInputs(result: Pick<FixtureResult, 'inputsHash'>, inputsHash: string): boolean | undefined {
	return result.inputsHash === undefined ? undefined : result.inputsHash === inputsHash;
}

/** The comparison rules in effect for a fixture: the policy's, overridden field by field by the fixture's own. */
export function effectiveCompare(policyCompare: Record<string, CompareRule> | undefined, fixture: Pick<Fixture, 'compare'>): Record<string, CompareRule> {
	return { ...(policyCompare ?? {}), ...(fixture.compare ?? {}) };
}

/** fixtureCompareHash of a fixture judged with no rule but `exact`. */
const NO_RULES_HASH = `sha256:${sha256(canonicalJson({}))}`;

/**
 * Identifies the comparison rules a fixture was judged with (stored in each result; the release gate
 * treats a run judged with other rules as out of date). `exact` is the default and hashes like no rule.
 */
export function fixtureCompareHash(policyCompare: Record<string, CompareRule> | undefined, fixture: Pick<Fixture, 'compare'>): string {
	// No rules at all (the usual case): the hash of no rules, computed once.
	if (fixture.compare === undefined && (policyCompare === undefined || Object.keys(policyCompare).length === 0)) return NO_RULES_HASH;
	const rules = Object.fromEntries(Object.entries(effectiveCompare(policyCompare, fixture)).filter(([, rule]) => rule !== 'exact'));
	return `sha256:${sha256(canonicalJson(rules))}`;
}

/** Nearest-rank percentile; 0 for an empty list. */
export function percentile(values: number[], p: number): number {
	if (values.length === 0) return 0;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.ceil((p * sorted.length) / 100); // not (p / 100) * n: 0.07 * 100 is 7.000000000000001
	return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function rate(passed: number, total: number): number {
	return total === 0 ? 0 : Math.round((passed / total) * 10_000) / 10_000;
}

/**
 * What regressions are judged against: the baseline run's id and the fixtures that passed in it. Built
 * from a whole run (`RunReport`) or, for large runs, by `baselineView` reading results one at a time.
 */
export interface BaselineView {
	runId: string;
	passed: ReadonlySet<string>;
}

/** The fixture ids that passed in the baseline. */
export function passedIn(baseline: RunReport | BaselineView): ReadonlySet<string> {
	return 'passed' in baseline && baseline.passed instanceof Set ? baseline.passed : new Set((baseline as RunReport).results.filter((r) => r.passed).map((r) => r.fixtureId));
}

/** Fixtures that passed in the baseline run and fail in this one. */
export function findRegressions(results: Iterable<Pick<FixtureResult, 'fixtureId' | 'passed'>>, baseline?: RunReport | BaselineView): string[] {
	if (!baseline) return [];
	const passedBefore = passedIn(baseline);
	const out: string[] = [];
	for (const r of results) if (!r.passed && passedBefore.has(r.fixtureId)) out.push(r.fixtureId);
	return out;
}

/**
 * The summary of a list of results. With `output` (the prompt's declared output), classification outputs
 * also get their confusion matrices and per-class metrics (`classes`).
 */
export function summarize(runId: string, results: FixtureResult[], baseline?: RunReport | BaselineView, output?: OutputSchema): RunSummary {
	const classes = classMetrics(results, output);
	const tags = tagRates(results);
	const agreement = agreementOf(results);
	const segments: Record<string, SegmentSummary> = {};
	for (const r of results) {
		const s = (segments[r.segment] ??= { total: 0, passed: 0, failed: 0, passRate: 0 });
		s.total++;
		if (r.passed) s.passed++;
		else s.failed++;
	}
	for (const s of Object.values(segments)) s.passRate = rate(s.passed, s.total);
	let fields: Record<string, SegmentSummary> | undefined;
	for (const r of results) {
		for (const [name, ok] of Object.entries(r.fields ?? {})) {
			const f = ((fields ??= {})[name] ??= { total: 0, passed: 0, failed: 0, passRate: 0 });
			f.total++;
			if (ok) f.passed++;
			else f.failed++;
		}
	}
	for (const f of Object.values(fields ?? {})) f.passRate = rate(f.passed, f.total);
	const passed = results.filter((r) => r.passed).length;
	const latencies = results.map((r) => r.latencyMs);
	const counter = new CallCounter();
	for (const r of results) counter.add(r);
	const callCounts = counter.result();
	return {
		total: results.length,
		passed,
		failed: results.length - passed,
		passRate: rate(passed, results.length),
		segments,
		...(fields ? { fields } : {}),
		...(agreement ? { agreement } : {}),
		...(tags ? { tags } : {}),
		...(classes ? { classes } : {}),
		regressions: findRegressions(results, baseline),
		latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
		tokens: {
			input: results.reduce((a, r) => a + r.inputTokens, 0),
			output: results.reduce((a, r) => a + r.outputTokens, 0),
		},
		costUsd: Math.round(results.reduce((a, r) => a + r.costUsd, 0) * 1e8) / 1e8,
		runId,
		cached: results.filter((r) => r.cached).length,
		...(results.some((r) => r.batch) ? { batched: results.filter((r) => r.batch).length } : {}),
		...(callCounts ? { calls: callCounts } : {}),
	};
}

export interface RunFixturesOptions {
	resolved: ResolvedPrompt;
	fixtures: Fixture[];
	provider: Provider;
	concurrency?: number;
	pricing?: PriceTable;
	baseline?: RunReport | BaselineView;
	/** Run each fixture this many times (policy `repeat`); it passes only if all attempts pass and agree. Default 1. */
	repeat?: number;
	/** Per-field comparison rules (the policy's); a fixture's own `compare` overrides them field by field. */
	compare?: Record<string, CompareRule>;
	now?: () => Date;
	onResult?: (result: FixtureResult) => void;
	/**
	 * Stops the run when aborted (Ctrl-C in the CLI): no further fixture is started, calls in flight are aborted,
	 * and the run rejects with RunInterrupted (the signal's reason names what stopped it).
	 */
	signal?: AbortSignal;
}

/** What running one fixture needs: everything but the fixture list. */
export type RunCallOptions = Omit<RunFixturesOptions, 'fixtures'>;

/** A provider error that retrying cannot fix (no key, model not found, …): it ends the whole run. */
export function isFatalProviderError(error: unknown): error is ProviderError {
	return error instanceof ProviderError && error.fatal === true;
}

/** An answer that is not valid (or no answer) fails every output field. */
function failedFields(options: RunCallOptions): Record<string, boolean> {
	const output = options.resolved.spec.output;
	const names = output.type === 'object' ? Object.keys(output.properties) : ['value'];
	return Object.fromEntries(names.map((n) => [n, false]));
}

/** Where a result's answers came from (lib/provenance.ts): its calls, how many the response cache answered, how many went through the batch API, and when they were fetched. */
function provenance(meta: { calls?: number; cachedCalls?: number; batchedCalls?: number; fetchedAt?: string } | undefined): Pick<FixtureResult, 'calls' | 'cached' | 'cachedCalls' | 'fetchedAt' | 'batch' | 'batchedCalls'> {
	const calls = meta?.calls ?? 0;
	return {
		calls,
		...(meta?.cachedCalls ? { cachedCalls: meta.cachedCalls } : {}),
		...(meta?.batchedCalls ? { batchedCalls: meta.batchedCalls } : {}),
		...callProvenance({ calls, ...(meta?.cachedCalls ? { cachedCalls: meta.cachedCalls } : {}), ...(meta?.batchedCalls ? { batchedCalls: meta.batchedCalls } : {}) }),
		...(meta?.fetchedAt ? { fetchedAt: meta.fetchedAt } : {}),
	};
}

async function runAttempt(fixture: Fixture, options: RunCallOptions, signal?: AbortSignal, attempt?: number): Promise<FixtureResult> {
	const base = { fixtureId: fixture.id, inputsHash: fixtureInputsHash(fixture), compareHash: fixtureCompareHash(options.compare, fixture), segment: fixture.segment ?? DEFAULT_SEGMENT, ...(fixture.tags?.length ? { tags: fixture.tags } : {}), expected: fixture.expected };
	try {
		const result = await runPrompt(options.resolved, fixture.inputs, options.provider, { pricing: options.pricing, signal, ...(attempt !== undefined ? { attempt } : {}) });
		const { meta } = result;
		const usage = {
			latencyMs: meta.latencyMs,
			inputTokens: meta.inputTokens,
			outputTokens: meta.outputTokens,
			costUsd: meta.costUsd,
			repaired: meta.repaired,
			finishReasons: meta.finishReasons,
			...(meta.tolerated ? { tolerated: meta.tolerated } : {}),
			...provenance(meta),
			...(meta.consensus ? { consensus: { voters: meta.consensus.voters, agreed: meta.consensus.agreed, reached: meta.consensus.reached } } : {}),
		};
		if (!result.valid) {
			const flags = { ...(result.refused ? { refused: true } : {}), ...(result.retryable ? { retryable: true } : {}) };
			return { ...base, passed: false, fields: failedFields(options), actual: null, valid: false, reason: result.reason, rawOutput: result.rawOutput, ...flags, ...usage };
		}
		// Compare like with like: an expected object may leave out nullable properties (they are null).
		const rules = effectiveCompare(options.compare, fixture);
		const { passed, fields } = compareValues(fixture.expected, result.value, options.resolved.spec.output, rules);
		return {
			...base,
			passed,
			fields,
			actual: result.value,
			valid: true,
			...(passed ? {} : { reason: `expected ${JSON.stringify(fixture.expected)}, got ${JSON.stringify(result.value)}` }),
			rawOutput: result.rawOutput,
			...usage,
		};
	} catch (error) {
		// Fatal provider errors end the run (see runFixtures); runPrompt turns the others into invalid results.
		if (isFatalProviderError(error)) throw error;
		if (!(error instanceof ProviderError) && !(error instanceof InputError)) throw error;
		const meta = error instanceof ProviderError ? error.meta : undefined;
		const kind = error instanceof ProviderError ? 'provider error' : 'input error';
		return {
			...base,
			passed: false,
			fields: failedFields(options),
			actual: null,
			valid: false,
			reason: `${kind}: ${error.message}`,
			rawOutput: null,
			latencyMs: meta?.latencyMs ?? 0,
			inputTokens: meta?.inputTokens ?? 0,
			outputTokens: meta?.outputTokens ?? 0,
			costUsd: meta?.costUsd ?? 0,
			repaired: false,
			...(meta ? { finishReasons: meta.finishReasons } : {}),
			...provenance(meta),
		};
	}
}

/** Over repeat attempts, the consensus of the weakest attempt: agreement must hold every time. */
function weakestConsensus(attempts: FixtureResult[]): Pick<FixtureResult, 'consensus'> {
	const voted = attempts.map((a) => a.consensus).filter((c): c is NonNullable<FixtureResult['consensus']> => c !== undefined);
	if (!voted.length) return {};
	const weakest = voted.reduce((a, c) => (c.agreed < a.agreed || (!c.reached && a.reached) ? c : a));
	return { consensus: { ...weakest, reached: voted.every((c) => c.reached) } };
}

/**
 * Run a fixture `repeat` times (one after the other). It passes only if every attempt passed and all
 * answers agree. Tokens and cost are summed over the attempts; latency is the mean of the attempts.
 */
export async function runOne(fixture: Fixture, options: RunCallOptions, signal?: AbortSignal): Promise<FixtureResult> {
	const repeat = Math.max(1, Math.floor(options.repeat ?? 1));
	if (repeat === 1) return runAttempt(fixture, options, signal);
	const attempts: FixtureResult[] = [];
	// Each attempt is its own call: the response cache keys attempts 2…N apart (see lib/cache/key.ts).
	for (let i = 0; i < repeat; i++) attempts.push(await runAttempt(fixture, options, signal, i + 1));
	const first = attempts[0];
	const attemptsPassed = attempts.filter((a) => a.passed).length;
	const agree = attempts.every((a) => a.valid === first.valid && valuesEqual(a.actual, first.actual));
	const passed = attemptsPassed === repeat && agree;
	const shownFailure = attempts.find((a) => !a.passed);
	const answers = attempts.map((a) => (a.valid ? JSON.stringify(a.actual) : 'invalid')).join(', ');
	const fields: Record<string, boolean> = {};
	for (const a of attempts) for (const [k, ok] of Object.entries(a.fields ?? {})) fields[k] = (fields[k] ?? true) && ok;
	let reason: string | undefined;
	if (!passed) {
		reason = `flaky or failing: ${attemptsPassed} of ${repeat} attempts passed (answers: ${answers})${shownFailure?.reason ? `; first failure: ${shownFailure.reason}` : ''}`;
	}
	// The first attempt's reason and provenance are not the fixture's: both are made over every attempt below.
	const { reason: _firstReason, calls: _c, cached: _cached, cachedCalls: _cc, batch: _b, batchedCalls: _bc, fetchedAt: _f, ...rest } = first;
	void [_firstReason, _c, _cached, _cc, _b, _bc, _f];
	return {
		...rest,
		passed,
		actual: (shownFailure ?? first).actual,
		valid: attempts.every((a) => a.valid),
		...(reason ? { reason } : {}),
		rawOutput: (shownFailure ?? first).rawOutput,
		latencyMs: Math.round(attempts.reduce((t, a) => t + a.latencyMs, 0) / repeat),
		inputTokens: attempts.reduce((t, a) => t + a.inputTokens, 0),
		outputTokens: attempts.reduce((t, a) => t + a.outputTokens, 0),
		costUsd: attempts.reduce((t, a) => t + a.costUsd, 0),
		repaired: attempts.some((a) => a.repaired),
		finishReasons: attempts.flatMap((a) => a.finishReasons ?? []),
		...(attempts.some((a) => a.refused) ? { refused: true } : {}),
		...(attempts.some((a) => a.retryable) ? { retryable: true } : {}),
		...(Object.keys(fields).length ? { fields } : {}),
		...weakestConsensus(attempts),
		...provenance({
			calls: attempts.reduce((t, a) => t + (a.calls ?? 0), 0),
			cachedCalls: attempts.reduce((t, a) => t + (a.cachedCalls ?? 0), 0),
			batchedCalls: attempts.reduce((t, a) => t + (a.batchedCalls ?? 0), 0),
			fetchedAt: attempts.map((a) => a.fetchedAt).filter((t): t is string => t !== undefined).sort()[0],
		}),
		attempts: repeat,
		attemptsPassed,
	};
}

/**
 * Run all fixtures with bounded concurrency; results keep the fixtures' order, all in memory. For large
 * fixture sets use `streamFixtureRun` (lib/streamed-run.ts), which this wraps.
 * A fatal ProviderError (`fatal === true`: retrying cannot help) stops the run: fixtures not started
 * yet are skipped, calls in flight are aborted, and the error is thrown, so no report exists.
 */
export async function runFixtures(options: RunFixturesOptions): Promise<RunReport> {
	const { streamFixtureRun } = await import('./streamed-run');
	const results: FixtureResult[] = [];
	const header = await streamFixtureRun({ ...options, sink: (r) => void results.push(r) });
	return { ...header, results };
}
