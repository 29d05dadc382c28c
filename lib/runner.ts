/**
 * Runs every fixture of a prompt against one resolved version and builds the run report.
 */
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { InputError, ProviderError } from './errors';
import { canonicalJson, sha256 } from './hash';
import { runPrompt } from './run-prompt';
import { validateValue, valuesEqual } from './schema';
import type { Provider } from './providers/types';
import type { PriceTable } from './registry/store';
import type { Fixture, FixtureResult, ResolvedPrompt, RunReport, RunSummary, SegmentSummary } from './types';

export const DEFAULT_SEGMENT = 'default';

export function newRunId(now: Date = new Date()): string {
	return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** Identifies the inputs a fixture was run with (stored in each result; compared by the release gate). */
export function fixtureInputsHash(fixture: Pick<Fixture, 'inputs'>): string {
	return `sha256:${sha256(canonicalJson(fixture.inputs))}`;
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

/** Fixtures that passed in the baseline run and fail in this one. */
export function findRegressions(results: FixtureResult[], baseline?: RunReport): string[] {
	if (!baseline) return [];
	const passedBefore = new Set(baseline.results.filter((r) => r.passed).map((r) => r.fixtureId));
	return results.filter((r) => !r.passed && passedBefore.has(r.fixtureId)).map((r) => r.fixtureId);
}

export function summarize(runId: string, results: FixtureResult[], baseline?: RunReport): RunSummary {
	const segments: Record<string, SegmentSummary> = {};
	for (const r of results) {
		const s = (segments[r.segment] ??= { total: 0, passed: 0, failed: 0, passRate: 0 });
		s.total++;
		if (r.passed) s.passed++;
		else s.failed++;
	}
	for (const s of Object.values(segments)) s.passRate = rate(s.passed, s.total);
	const passed = results.filter((r) => r.passed).length;
	const latencies = results.map((r) => r.latencyMs);
	return {
		total: results.length,
		passed,
		failed: results.length - passed,
		passRate: rate(passed, results.length),
		segments,
		regressions: findRegressions(results, baseline),
		latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
		tokens: {
			input: results.reduce((a, r) => a + r.inputTokens, 0),
			output: results.reduce((a, r) => a + r.outputTokens, 0),
		},
		costUsd: Math.round(results.reduce((a, r) => a + r.costUsd, 0) * 1e8) / 1e8,
		runId,
	};
}

export interface RunFixturesOptions {
	resolved: ResolvedPrompt;
	fixtures: Fixture[];
	provider: Provider;
	concurrency?: number;
	pricing?: PriceTable;
	baseline?: RunReport;
	now?: () => Date;
	onResult?: (result: FixtureResult) => void;
}

/** A provider error that retrying cannot fix (no key, model not found, …): it ends the whole run. */
export function isFatalProviderError(error: unknown): error is ProviderError {
	return error instanceof ProviderError && error.fatal === true;
}

async function runOne(fixture: Fixture, options: RunFixturesOptions, signal?: AbortSignal): Promise<FixtureResult> {
	const base = { fixtureId: fixture.id, inputsHash: fixtureInputsHash(fixture), segment: fixture.segment ?? DEFAULT_SEGMENT, expected: fixture.expected };
	try {
		const result = await runPrompt(options.resolved, fixture.inputs, options.provider, { pricing: options.pricing, signal });
		const { meta } = result;
		const usage = { latencyMs: meta.latencyMs, inputTokens: meta.inputTokens, outputTokens: meta.outputTokens, costUsd: meta.costUsd, repaired: meta.repaired };
		if (!result.valid) {
			return { ...base, passed: false, actual: null, valid: false, reason: result.reason, rawOutput: result.rawOutput, ...usage };
		}
		// Compare like with like: an expected object may leave out nullable properties (they are null).
		const normalised = validateValue(options.resolved.spec.output, fixture.expected);
		const passed = valuesEqual(normalised.ok ? normalised.value : fixture.expected, result.value);
		return {
			...base,
			passed,
			actual: result.value,
			valid: true,
			...(passed ? {} : { reason: `expected ${JSON.stringify(fixture.expected)}, got ${JSON.stringify(result.value)}` }),
			rawOutput: result.rawOutput,
			...usage,
		};
	} catch (error) {
		// Fatal provider errors end the run (see runFixtures); transient ones (429 after retries, 5xx,
		// timeouts, malformed answers) fail only this fixture.
		if (isFatalProviderError(error)) throw error;
		if (!(error instanceof ProviderError) && !(error instanceof InputError)) throw error;
		const meta = error instanceof ProviderError ? error.meta : undefined;
		const kind = error instanceof ProviderError ? 'provider error' : 'input error';
		return {
			...base,
			passed: false,
			actual: null,
			valid: false,
			reason: `${kind}: ${error.message}`,
			rawOutput: null,
			latencyMs: meta?.latencyMs ?? 0,
			inputTokens: meta?.inputTokens ?? 0,
			outputTokens: meta?.outputTokens ?? 0,
			costUsd: meta?.costUsd ?? 0,
			repaired: false,
		};
	}
}

/**
 * Run all fixtures with bounded concurrency; results keep the fixtures' order.
 * A fatal ProviderError (`fatal === true`: retrying cannot help) stops the run: fixtures not started
 * yet are skipped, calls in flight are aborted, and the error is thrown, so no report exists.
 */
export async function runFixtures(options: RunFixturesOptions): Promise<RunReport> {
	const now = options.now ?? (() => new Date());
	const started = now();
	const runId = newRunId(started);
	const limit = pLimit(Math.max(1, options.concurrency ?? 4));
	const abort = new AbortController();
	let fatal: ProviderError | undefined;
	const settled = await Promise.allSettled(
		options.fixtures.map((f) =>
			limit(async () => {
				if (fatal) return undefined;
				try {
					const r = await runOne(f, options, abort.signal);
					if (!fatal) options.onResult?.(r);
					return r;
				} catch (error) {
					if (isFatalProviderError(error) && !fatal) {
						fatal = error;
						abort.abort();
					}
					throw error;
				}
			}),
		),
	);
	if (fatal) throw fatal;
	const results: FixtureResult[] = [];
	for (const s of settled) {
		if (s.status === 'rejected') throw s.reason;
		results.push(s.value!);
	}
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
		summary: summarize(runId, results, options.baseline),
		results,
	};
}
