/**
 * What the gate names, at any size: fixtures that only had stale evidence or were not covered by the run are not
 * called failing, and every list in a message is capped with a count (the CLI's own lists: test/cli/response-cache.test.ts).
 */
import { evaluateGate } from '../../lib/release';
import { checkPolicy, DEFAULT_POLICY } from '../../lib/policy';
import { commitDraft } from '../../lib/registry/commit';
import { NAMED_UP_TO, namedList } from '../../lib/listing';
import type { FileRegistryStore } from '../../lib/registry/file-store';
import { fixture, makeSpec, runReport, tempRegistry } from './helpers';

const N = 130;
const ids = Array.from({ length: N }, (_, i) => `f${String(i).padStart(3, '0')}`);

/** A registry with N fixtures and version 1 committed. */
async function registry(): Promise<{ store: FileRegistryStore; contentHash: string }> {
	const { store } = await tempRegistry();
	await store.writeDraft(makeSpec());
	const { contentHash } = await commitDraft(store, 'price-change');
	for (const id of ids) await store.writeFixture('price-change', fixture(id, { subject: 's', body: id }, true));
	return { store, contentHash };
}

test('namedList: the first 20, then how many more; a shortened list with its total', () => {
	expect(namedList(['a', 'b'])).toBe('a, b');
	expect(namedList(ids)).toBe(`${ids.slice(0, NAMED_UP_TO).join(', ')} and ${N - NAMED_UP_TO} more`);
	expect(namedList(['x (why)', 'y (why)'], { total: 5, separator: '; ' })).toBe('x (why); y (why) and 3 more');
});

test('fixtures that passed on cached answers older than maxEvidenceAgeHours are stale evidence, not failing; the message names 20', async () => {
	const { store, contentHash } = await registry();
	const startedAt = new Date().toISOString();
	const fetchedAt = new Date(Date.now() - 72 * 3_600_000).toISOString();
	await store.writeRun(runReport({ contentHash, startedAt, results: ids.map((fixtureId) => ({ fixtureId, passed: true, expected: true, cached: true, fetchedAt })) }));
	const verdict = await evaluateGate(store, 'price-change', 1);
	expect(verdict.ok).toBe(false);
	expect(verdict.violations.map((v) => v.rule)).toEqual(['maxEvidenceAgeHours']);
	expect(verdict.violations[0].fixtures).toHaveLength(N);
	expect(verdict.violations[0].message).toContain(`f019 (fetched ${fetchedAt}, 72 h before the run) and ${N - NAMED_UP_TO} more.`);
	expect(verdict.violations[0].message).not.toContain('f020');
	expect(verdict.failingFixtures).toEqual([]);
});

test('many failing fixtures: every one is failing and counted, each message and list names at most 20', async () => {
	const { store, contentHash } = await registry();
	await store.writeRun(runReport({ contentHash, results: ids.map((fixtureId) => ({ fixtureId, passed: false, expected: true, reason: `expected true, got false (${fixtureId})` })) }));
	const verdict = await evaluateGate(store, 'price-change', 1);
	expect(verdict.failingFixtures).toEqual(ids);
	const minPassRate = verdict.violations.find((v) => v.rule === 'minPassRate')!;
	expect(minPassRate.message).toContain(`failed ${N} of ${N} fixtures: f000 (expected true, got false (f000)); f001`);
	expect(minPassRate.message).toContain(`f019 (expected true, got false (f019)) and ${N - NAMED_UP_TO} more — pass rate 0%`);
	expect(minPassRate.message).not.toContain('f020');
	expect(verdict.reasons.every((r) => r.length < 2_000)).toBe(true);
});

test('regressions and fixtures not covered by the run are named 20 at a time too', async () => {
	const { store, contentHash } = await registry();
	// The run covers none of the current fixtures' inputs: every one changed since.
	await store.writeRun(runReport({ contentHash, results: ids.map((fixtureId) => ({ fixtureId, passed: true, expected: true, inputsHash: 'sha256:' + '1'.repeat(64) })) }));
	const verdict = await evaluateGate(store, 'price-change', 1);
	const evidence = verdict.violations.find((v) => v.rule === 'evidence')!;
	expect(evidence.fixtures).toHaveLength(N);
	expect(evidence.message).toContain(`since: ${ids.slice(0, NAMED_UP_TO).join(', ')} and ${N - NAMED_UP_TO} more. Run`);
	expect(verdict.failingFixtures).toEqual([]);

	const baseline = runReport({ runId: 'base', results: ids.map((fixtureId) => ({ fixtureId, passed: true, expected: true })) });
	const now = runReport({ runId: 'now', results: ids.map((fixtureId) => ({ fixtureId, passed: false, expected: true })) });
	const regressions = checkPolicy(now, baseline, { ...DEFAULT_POLICY, minPassRate: 0 }).violations.find((v) => v.rule === 'maxRegressions')!;
	expect(regressions.fixtures).toHaveLength(N);
	expect(regressions.message).toBe(`regressions against baseline run base: ${namedList(ids)} — ${N} > maxRegressions 0`);
});
