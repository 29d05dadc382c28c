/** The audit sample (lib/review/audit.ts): sticky per prompt and routing key, its share near the percentage. */
import { auditBucket, inAuditSample } from '../../lib/review/audit';
import { routingBucket } from '../../lib/routing';

const keys = Array.from({ length: 20_000 }, (_, n) => `supplier-${n}.example`);

describe('audit sample', () => {
	test.each([1, 10, 25, 50])('%i %% of keys are drawn (within 1 point over 20 000 keys)', (percent) => {
		const share = (keys.filter((k) => inAuditSample('price-change', k, percent)).length / keys.length) * 100;
		expect(Math.abs(share - percent)).toBeLessThan(1);
	});

	test('0 draws nothing, 100 draws everything; a key gets the same answer every time', () => {
		expect(keys.some((k) => inAuditSample('p', k, 0))).toBe(false);
		expect(keys.every((k) => inAuditSample('p', k, 100))).toBe(true);
		const first = keys.slice(0, 500).map((k) => inAuditSample('p', k, 30));
		expect(keys.slice(0, 500).map((k) => inAuditSample('p', k, 30))).toEqual(first);
	});

	test('a larger sample keeps every key of a smaller one (raising the percentage only adds keys)', () => {
		const at10 = keys.filter((k) => inAuditSample('p', k, 10));
		expect(at10.every((k) => inAuditSample('p', k, 20))).toBe(true);
	});

	test('salted by prompt: two prompts draw different keys, independent of canary routing', () => {
		const a = new Set(keys.filter((k) => inAuditSample('price-change', k, 20)));
		const b = keys.filter((k) => inAuditSample('new-unit-price', k, 20));
		const overlap = b.filter((k) => a.has(k)).length / b.length;
		expect(overlap).toBeGreaterThan(0.1);
		expect(overlap).toBeLessThan(0.3);
		expect(auditBucket('price-change', 'k')).not.toBe(routingBucket('price-change', 'production', 'c1', 'k'));
	});
});
