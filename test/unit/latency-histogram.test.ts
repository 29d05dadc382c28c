import { LatencyHistogram } from '../../lib/latency-histogram';
import { percentile } from '../../lib/runner';

describe('LatencyHistogram', () => {
	it('gives exactly the nearest-rank percentiles of whole-millisecond latencies up to 10 s', () => {
		let seed = 7;
		const next = () => (seed = (seed * 48271) % 2147483647);
		for (const n of [1, 2, 10, 99, 1000, 5000]) {
			const values = Array.from({ length: n }, () => next() % 10_001);
			const h = new LatencyHistogram();
			values.forEach((v) => h.add(v));
			for (const p of [50, 95, 99, 100]) expect(h.percentile(p)).toBe(percentile(values, p));
		}
	});

	it('is 0 when empty and keeps long latencies within 0.5 %', () => {
		const h = new LatencyHistogram();
		expect(h.percentile(50)).toBe(0);
		h.add(123_456);
		expect(Math.abs(h.percentile(50) - 123_456) / 123_456).toBeLessThan(0.005);
	});

	it('keeps a bounded number of buckets however many latencies it records', () => {
		const h = new LatencyHistogram();
		for (let i = 0; i < 200_000; i++) h.add(i % 60_000);
		expect(h.count).toBe(200_000);
		expect((h as unknown as { counts: Map<number, number> }).counts.size).toBeLessThan(12_000);
	});
});
