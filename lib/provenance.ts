/**
 * Where a result's answers came from, counted per model call: read from the response cache, or asked of the
 * model by this run — directly or through the provider's batch API. A repeat attempt, a repair call and a
 * consensus voter are each a call, so a result can be partly cached (`repeat` 3 after a single run: attempt 1
 * from the cache, attempts 2 and 3 fresh). The flags follow from the counts.
 */
import type { CallCounts, FixtureResult } from './types';

/**
 * How far in the future a `fetchedAt` may be before it is not believed: 5 minutes of clock skew between machines
 * sharing a cache folder. Later than that (a clock set wrong, an edited entry), the response cache treats the
 * entry as invalid and the gate refuses a cached answer fetched after its run.
 */
export const FUTURE_FETCH_SKEW_MS = 5 * 60 * 1000;

/**
 * The `cached` and `batch` flags from the call counts: `cached` when every call was answered from the response
 * cache (the model was asked nothing), `batch` when a call was sent through the batch API. Absent when false.
 */
export function callProvenance(counts: { calls: number; cachedCalls?: number; batchedCalls?: number }): { cached?: true; batch?: true } {
	return {
		...(counts.calls > 0 && counts.cachedCalls === counts.calls ? { cached: true as const } : {}),
		...(counts.batchedCalls ? { batch: true as const } : {}),
	};
}

/**
 * A result's calls: how many, how many answered from the cache, how many sent through the batch API. Results
 * stored before the counts were recorded count as one call, cached or sent through the batch API as their flags say.
 */
export function callsOf(r: Pick<FixtureResult, 'calls' | 'cached' | 'cachedCalls' | 'batch' | 'batchedCalls'>): { calls: number; cached: number; batched: number } {
	if (r.calls === undefined) return { calls: 1, cached: r.cached ? 1 : 0, batched: r.batch ? 1 : 0 };
	return { calls: r.calls, cached: r.cachedCalls ?? 0, batched: r.batchedCalls ?? 0 };
}

/** Sums the calls of results added one at a time (RunSummary.calls). */
export class CallCounter {
	private readonly counts: CallCounts = { total: 0, cached: 0, fresh: 0, batched: 0 };
	/** A result without call counts (stored before they were recorded) was added: the sums would be guesses. */
	private uncounted = false;

	add(r: Pick<FixtureResult, 'calls' | 'cached' | 'cachedCalls' | 'batch' | 'batchedCalls'>): void {
		if (r.calls === undefined) this.uncounted = true;
		const c = callsOf(r);
		this.counts.total += c.calls;
		this.counts.cached += c.cached;
		this.counts.fresh += c.calls - c.cached;
		this.counts.batched += c.batched;
	}

	/** The sums; undefined when a result had no call counts. */
	result(): CallCounts | undefined {
		return this.uncounted ? undefined : { ...this.counts };
	}
}
