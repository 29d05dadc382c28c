/** The gate's policy over streamed facts gives the same verdict as over a whole run in memory. */
import { checkPolicy, checkPolicyFacts, DEFAULT_POLICY, type Policy } from '../../lib/policy';
import { baselineFactsOf, RunFactsBuilder } from '../../lib/run-facts';
import { summarize } from '../../lib/runner';
import type { FixtureResult, RunReport } from '../../lib/types';

function result(i: number, passed: boolean, extra: Partial<FixtureResult> = {}): FixtureResult {
	return { fixtureId: `f${i}`, segment: 'default', passed, expected: true, actual: passed, valid: true, rawOutput: '', latencyMs: 100 + ((i * 37) % 400), inputTokens: 50, outputTokens: 5, costUsd: 0.0001 * (1 + (i % 3)), repaired: false, ...(passed ? {} : { reason: `wrong ${i}` }), ...extra } as FixtureResult;
}

function run(runId: string, results: FixtureResult[], baseline?: RunReport): RunReport {
	return { runId, promptId: 'p', version: 2, contentHash: 'sha256:x', model: { provider: 'openai', name: 'gpt-4o-mini' }, startedAt: '2026-03-02T00:00:00.000Z', finishedAt: '2026-03-02T00:01:00.000Z', repeat: 1, results, summary: summarize(runId, results, baseline) };
}

test('streamed facts and whole-run reading agree on every rule (failures, regressions, cost, latency, stale cache)', () => {
	const baseline = run('base', Array.from({ length: 60 }, (_, i) => result(i, i % 10 !== 0, { costUsd: 0.0001, latencyMs: 90 })));
	const results = Array.from({ length: 60 }, (_, i) =>
		result(i, i % 7 !== 0, i % 11 === 0 ? { cached: true, fetchedAt: i % 2 ? '2026-02-01T00:00:00.000Z' : '2026-03-01T23:00:00.000Z' } : {}),
	);
	const current = run('now', results, baseline);
	const policies: Policy[] = [
		DEFAULT_POLICY,
		{ ...DEFAULT_POLICY, minPassRate: 0.5, maxRegressions: 3, maxCostIncreasePct: 10, maxP95LatencyIncreasePct: 50, maxEvidenceAgeHours: 24 },
		{ ...DEFAULT_POLICY, minPassRate: 0, maxRegressions: 100, maxCostIncreasePct: 1000, maxP95LatencyIncreasePct: 1000, maxEvidenceAgeHours: 24 * 90 },
	];
	for (const policy of policies) {
		const whole = checkPolicy(current, baseline, policy, { channel: 'production' });
		const base = baselineFactsOf({ ...baseline, passed: new Set(baseline.results.filter((r) => r.passed).map((r) => r.fixtureId)) });
		const builder = new RunFactsBuilder(current, base.passed, policy.maxEvidenceAgeHours ?? 24);
		for (const r of current.results) builder.add(r);
		const streamed = checkPolicyFacts(builder.done(), base, policy, { channel: 'production' });
		expect(streamed).toEqual(whole);
	}
	expect(checkPolicy(current, baseline, policies[1]).violations.map((v) => v.rule)).toEqual(['maxRegressions', 'maxCostIncreasePct', 'maxP95LatencyIncreasePct', 'maxEvidenceAgeHours']);
});

test('streamed facts and whole-run reading agree on per-class rules, requireTags and minAgreement', () => {
	const output = { type: 'boolean' as const };
	const results = Array.from({ length: 40 }, (_, i) => {
		const expected = i % 2 === 0;
		const actual = i % 5 === 0 ? !expected : expected;
		return result(i, actual === expected, {
			expected,
			actual,
			valid: i % 13 !== 7,
			...(i % 4 === 0 ? { tags: ['ambiguous'] } : i % 9 === 0 ? { tags: ['adversarial'] } : {}),
			consensus: { voters: 3, agreed: i % 6 === 0 ? 1 : 2, reached: i % 6 !== 0 },
		});
	});
	const current: RunReport = { ...run('now', results), summary: summarize('now', results, undefined, output) };
	const policies: Policy[] = [
		{ ...DEFAULT_POLICY, minPassRate: 0, requireTags: ['ambiguous', 'adversarial', 'long-context'], minAgreement: 0.9, minRecall: { true: 1 }, minPrecision: { false: 0.5, maybe: 1 }, minF1: { true: 0.99 } },
		{ ...DEFAULT_POLICY, minPassRate: 0, requireTags: ['ambiguous'], minAgreement: 0.5, minRecall: { true: 0.1 }, minPrecision: { false: 0.1 }, minF1: { false: 0.1 } },
	];
	for (const policy of policies) {
		const whole = checkPolicy(current, undefined, policy);
		const builder = new RunFactsBuilder(current, undefined, 24, output);
		for (const r of current.results) builder.add(r);
		expect(checkPolicyFacts(builder.done(), undefined, policy)).toEqual(whole);
	}
	const refused = checkPolicy(current, undefined, policies[0]).violations.map((v) => v.rule);
	expect(refused).toEqual(['requireTags', 'minAgreement', 'minRecall', 'minPrecision', 'minF1']);
	expect(checkPolicy(current, undefined, policies[1]).ok).toBe(true);
});

test('a result only partly answered from the cache (repeat: attempt 1 cached, 2 and 3 fresh) is still judged by the age of its cached answer', () => {
	const results = [
		result(1, true, { calls: 3, cachedCalls: 1, fetchedAt: '2026-02-01T00:00:00.000Z' }),
		result(2, true, { calls: 3, fetchedAt: '2026-03-02T00:00:30.000Z' }),
	];
	const current = run('now', results);
	const verdict = checkPolicy(current, undefined, DEFAULT_POLICY);
	const age = verdict.violations.find((v) => v.rule === 'maxEvidenceAgeHours');
	expect(age?.fixtures).toEqual(['f1']);
	expect(age?.message).toContain('f1 (fetched 2026-02-01T00:00:00.000Z, 696 h before the run)');
	const fresh = run('now', [result(1, true, { calls: 3, cachedCalls: 1, fetchedAt: '2026-03-01T23:00:00.000Z' })]);
	expect(checkPolicy(fresh, undefined, DEFAULT_POLICY).checks.find((c) => c.rule === 'maxEvidenceAgeHours')?.message).toMatch(/^1 cached answer\(s\), none fetched more than 24 h before run now/);
});

test('a cached answer fetched after the run (a wrong clock, an edited entry) is refused, not taken as young evidence; one fetched during the run is fine', () => {
	// The run started 2026-03-02T00:00:00Z and finished a minute later (see `run`).
	const future = run('now', [
		result(1, true, { calls: 1, cachedCalls: 1, cached: true, fetchedAt: '2099-01-01T00:00:00.000Z' }),
		result(2, true, { calls: 1, cachedCalls: 1, cached: true, fetchedAt: '2026-03-02T00:00:30.000Z' }), // a duplicate request answered earlier in the same run
		result(3, true, { calls: 1, cachedCalls: 1, cached: true, fetchedAt: '2026-03-02T00:04:00.000Z' }), // within the clock-skew allowance
		result(4, true, { calls: 1, fetchedAt: '2099-01-01T00:00:00.000Z' }), // fresh: judged by the run's own clock, not here
	]);
	const whole = checkPolicy(future, undefined, DEFAULT_POLICY);
	const age = whole.violations.find((v) => v.rule === 'maxEvidenceAgeHours');
	expect(age?.fixtures).toEqual(['f1']);
	expect(age?.message).toMatch(/^run now used cached answers fetched after the run, so their age is unknown \(a clock set wrong, or an edited cache entry\): f1 \(fetched 2099-01-01T00:00:00.000Z, \d+ h after the run\)\. .*--no-cache/);
	// The streamed facts (gate, migrate) say the same, with the run's end given when it is known only at the end.
	const builder = new RunFactsBuilder({ ...future, finishedAt: undefined } as never, undefined, 24);
	for (const r of future.results) builder.add(r);
	expect(checkPolicyFacts(builder.done(future.finishedAt), undefined, DEFAULT_POLICY)).toEqual(whole);

	const both = run('now', [result(1, true, { calls: 1, cachedCalls: 1, cached: true, fetchedAt: '2099-01-01T00:00:00.000Z' }), result(2, true, { calls: 1, cachedCalls: 1, cached: true, fetchedAt: '2026-02-01T00:00:00.000Z' })]);
	const violation = checkPolicy(both, undefined, DEFAULT_POLICY).violations.find((v) => v.rule === 'maxEvidenceAgeHours');
	expect(violation?.fixtures).toEqual(['f2', 'f1']);
	expect(violation?.message).toMatch(/used cached answers older than maxEvidenceAgeHours 24: f2 .*; and cached answers fetched after the run, so their age is unknown .*: f1 /);
});
