/**
 * checkDrift over many fixtures: the released run and the fixtures are read as streams (never a whole run or
 * every fixture at once), every changed answer is counted, and the report lists only the first DRIFT_LISTED
 * changes and fixtures not compared, each change with its whole released answer.
 */
import { checkDrift, DRIFT_LISTED, driftMarkdown, ReleasedAnswers } from '../../lib/drift';
import { commitDraft } from '../../lib/registry/commit';
import { resolvePrompt } from '../../lib/registry/resolve';
import { releaseVersion } from '../../lib/release';
import { fixtureInputsHash, runFixtures } from '../../lib/runner';
import type { RegistryStore } from '../../lib/registry/store';
import { answering, fixture, makeSpec, tempRegistry } from './helpers';

const RELEASED = 250;
const ADDED = 130;

/** A store that refuses the whole-run and whole-list reads: drift must stream. */
function streamingOnly(store: RegistryStore): RegistryStore {
	return new Proxy(store, {
		get(target, key, receiver) {
			if (key === 'readRun' || key === 'listFixtures') return () => Promise.reject(new Error(`drift called ${String(key)}: it must stream`));
			const value = Reflect.get(target, key, receiver) as unknown;
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
}

test(`every changed answer is counted; the report lists the first ${DRIFT_LISTED} with both answers, and reads the released run as a stream`, async () => {
	const { store } = await tempRegistry();
	await store.writeDraft(makeSpec());
	await commitDraft(store, 'price-change');
	for (let i = 0; i < RELEASED; i++) await store.writeFixture('price-change', fixture(`f${String(i).padStart(4, '0')}`, { subject: 's', body: `price up ${i}` }, true));
	const resolved = await resolvePrompt(store, 'price-change', { version: 1 });
	await store.writeRun(await runFixtures({ resolved, fixtures: await store.listFixtures('price-change', resolved.spec), provider: answering(() => true) }));
	await releaseVersion(store, 'price-change', 1, { by: 'ann' });
	for (let i = 0; i < ADDED; i++) await store.writeFixture('price-change', fixture(`new${String(i).padStart(4, '0')}`, { subject: 's', body: `added ${i}` }, true));

	const provider = answering(() => false);
	const report = await checkDrift(streamingOnly(store), 'price-change', { provider, concurrency: 8 });
	expect(provider.requests).toHaveLength(RELEASED); // the added fixtures are not sent
	expect(report).toMatchObject({ changed: true, compared: RELEASED, changedCount: RELEASED, skippedCount: ADDED });
	expect(report.changes).toHaveLength(DRIFT_LISTED);
	expect(report.changes[0]).toMatchObject({ fixtureId: 'f0000', before: { value: true, valid: true, passed: true, rawOutput: '{"value":true}' }, after: { value: false, passed: false } });
	expect(report.skipped).toHaveLength(DRIFT_LISTED);
	expect(report.skipped[0]).toMatchObject({ fixtureId: 'new0000', kind: 'new' });
	expect('results' in report.run).toBe(false);
	expect(report.run.summary).toMatchObject({ total: RELEASED, passed: 0, regressions: expect.arrayContaining(['f0000', 'f0249']) });

	const md = driftMarkdown(report);
	expect(md).toMatch(new RegExp(`⚠️ ${RELEASED} of ${RELEASED} answers changed`));
	expect(md.match(/^\| f\d{4} \|/gm)).toHaveLength(DRIFT_LISTED);
	expect(md).toContain(`…and ${RELEASED - DRIFT_LISTED} more changed answers.`);
	expect(md).toMatch(new RegExp(`\\nNot compared: new0000 \\(not in run .*new0019 \\(.* and ${ADDED - 20} more\\n`));
	expect(md).not.toContain('new0020');
});

test('the compact index of released answers tells inputs as ranWithInputs does: same, changed, cannot tell', () => {
	const released = new ReleasedAnswers();
	const base = { segment: 'default', expected: true, reason: undefined, rawOutput: null, latencyMs: 1, inputTokens: 1, outputTokens: 1, costUsd: 0, repaired: false };
	const same = fixtureInputsHash({ inputs: { subject: 's', body: 'b' } });
	const other = fixtureInputsHash({ inputs: { subject: 's', body: 'edited' } });
	released.add({ ...base, fixtureId: 'hashed', inputsHash: same, passed: true, valid: true, actual: true });
	released.add({ ...base, fixtureId: 'old', passed: false, valid: true, actual: false });
	released.add({ ...base, fixtureId: 'odd', inputsHash: 'md5:abc', passed: false, valid: false, actual: null });
	expect([released.ranWithInputs('hashed', same), released.ranWithInputs('hashed', other)]).toEqual([true, false]);
	expect(released.ranWithInputs('old', same)).toBeUndefined();
	expect(released.ranWithInputs('odd', same)).toBe(false);
	expect([released.recordsInputs('hashed'), released.recordsInputs('old'), released.recordsInputs('odd'), released.has('missing')]).toEqual([true, false, true, false]);
	expect(released.answer('hashed')).toEqual({ valid: true, actual: true, passed: true });
	expect(released.answer('odd')).toEqual({ valid: false, actual: null, passed: false });
	expect([...released.passed]).toEqual(['hashed']);
	// Past the first allocation every slot keeps its digest.
	for (let i = 0; i < 3000; i++) released.add({ ...base, fixtureId: `f${i}`, inputsHash: fixtureInputsHash({ inputs: { i } }), passed: true, valid: true, actual: true });
	expect(released.ranWithInputs('f0', fixtureInputsHash({ inputs: { i: 0 } }))).toBe(true);
	expect(released.ranWithInputs('f2999', fixtureInputsHash({ inputs: { i: 2999 } }))).toBe(true);
	expect(released.ranWithInputs('f2999', fixtureInputsHash({ inputs: { i: 2998 } }))).toBe(false);
	expect(released.ranWithInputs('hashed', same)).toBe(true);
});
