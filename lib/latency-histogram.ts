/**
 * Latency percentiles in bounded memory (docs/adr/0031): a histogram of counts per bucket instead of one
 * number per fixture. Latencies are whole milliseconds; up to 10,000 ms every millisecond is its own
 * bucket, so p50/p95 are exactly the nearest-rank percentiles of the recorded values. Above that, buckets
 * keep three significant digits (relative error under 0.5 %). At most ~10,000 + 900 buckets per further
 * decade exist however many fixtures a run has.
 */
const EXACT_UP_TO_MS = 10_000;

function bucketOf(ms: number): number {
	const v = Math.max(0, Math.round(ms));
	if (v <= EXACT_UP_TO_MS) return v;
	const scale = 10 ** (Math.floor(Math.log10(v)) - 2);
	return Math.round(v / scale) * scale;
}

export class LatencyHistogram {
	private readonly counts = new Map<number, number>();
	private n = 0;

	/** Record one latency in milliseconds (negative or non-finite values count as 0). */
	add(ms: number): void {
		const b = bucketOf(Number.isFinite(ms) ? ms : 0);
		this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
		this.n++;
	}

	/** How many latencies were recorded. */
	get count(): number {
		return this.n;
	}

	/** Nearest-rank percentile (as `percentile` in lib/runner.ts computes over a list); 0 when empty. */
	percentile(p: number): number {
		if (this.n === 0) return 0;
		const rank = Math.min(this.n, Math.max(1, Math.ceil((p * this.n) / 100)));
		let seen = 0;
		for (const b of [...this.counts.keys()].sort((a, c) => a - c)) {
			seen += this.counts.get(b)!;
			if (seen >= rank) return b;
		}
		return 0;
	}
}
