/** --force past the gate, the canary lifecycle (start, promote, rollback, freeze) and what status shows. */
import { GateRefusal } from '../../lib/errors';
import { commitDraft } from '../../lib/registry/commit';
import type { FileRegistryStore } from '../../lib/registry/file-store';
import { resolvePrompt } from '../../lib/registry/resolve';
import { baselineRun, channelStack, freezeCanary, promoteCanary, releaseVersion, rollbackChannel, startCanary } from '../../lib/release';
import { runFixtures } from '../../lib/runner';
import { promptStatus } from '../../lib/status';
import { answering, fixture, makeSpec, tempRegistry } from './helpers';

let clock = Date.parse('2026-06-01T00:00:00.000Z');
const tick = () => new Date((clock += 1000));

async function setup(): Promise<FileRegistryStore> {
	const { store } = await tempRegistry();
	for (const d of ['v1', 'v2', 'v3']) {
		await store.writeDraft(makeSpec({ description: d }));
		await commitDraft(store, 'price-change');
	}
	await store.writeFixture('price-change', fixture('up', { subject: 's', body: 'price up' }, true));
	await store.writeFixture('price-change', fixture('none', { subject: 's', body: 'hello' }, false));
	return store;
}

async function testVersion(store: FileRegistryStore, version: number, good = true): Promise<void> {
	const resolved = await resolvePrompt(store, 'price-change', { version });
	const provider = answering((t) => (good ? /price/.test(t) : true));
	await store.writeRun(await runFixtures({ resolved, fixtures: await store.listFixtures('price-change'), provider, baseline: await baselineRun(store, 'price-change'), now: tick }));
}

describe('--force', () => {
	test('needs a reason; a forced release is recorded in history, pointer and status', async () => {
		const store = await setup();
		await testVersion(store, 1, false);
		await expect(releaseVersion(store, 'price-change', 1, { by: 'ann' })).rejects.toBeInstanceOf(GateRefusal);
		await expect(releaseVersion(store, 'price-change', 1, { by: 'ann', force: true })).rejects.toThrow(/--force needs --reason/);
		const out = await releaseVersion(store, 'price-change', 1, { by: 'ann', force: true, reason: 'hotfix, fixtures updated tomorrow' });
		expect(out.forced).toBe(true);
		expect(out.entry).toMatchObject({ action: 'release', forced: true, reason: 'hotfix, fixtures updated tomorrow' });
		expect(out.state.channels.production).toMatchObject({ version: 1, forced: true });
		const status = await promptStatus(store, 'price-change');
		expect(status.forced).toEqual([expect.objectContaining({ channel: 'production', version: 1, reason: 'hotfix, fixtures updated tomorrow', by: 'ann' })]);
	});

	test('without any run a forced release has no runId; a passing gate is never marked forced', async () => {
		const store = await setup();
		const out = await releaseVersion(store, 'price-change', 1, { by: 'ann', force: true, reason: 'bootstrap' });
		expect(out.state.channels.production.runId).toBeUndefined();
		await testVersion(store, 2);
		const ok = await releaseVersion(store, 'price-change', 2, { by: 'ann', force: true, reason: 'not needed' });
		expect(ok.forced).toBe(false);
		expect(ok.state.channels.production.forced).toBeUndefined();
	});
});

describe('canary lifecycle', () => {
	async function released(): Promise<FileRegistryStore> {
		const store = await setup();
		await testVersion(store, 1);
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		return store;
	}

	test('needs a stable version; is gated like a release; --force works with a reason', async () => {
		const store = await setup();
		await testVersion(store, 2);
		await expect(startCanary(store, 'price-change', 2, { percent: 10 })).rejects.toThrow(/no stable version on channel "production"/);
		await testVersion(store, 1);
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		await testVersion(store, 3, false);
		await expect(startCanary(store, 'price-change', 3, { percent: 10 })).rejects.toThrow(/canary of "price-change" version 3 on "production" refused:\n {2}- \[minPassRate\]/);
		const forced = await startCanary(store, 'price-change', 3, { percent: 10, force: true, reason: 'try on 10%', by: 'bob' });
		expect(forced.entry).toMatchObject({ action: 'canary', forced: true, percent: 10, version: 3, from: 1 });
		const status = await promptStatus(store, 'price-change');
		expect(status.forced).toEqual([expect.objectContaining({ channel: 'production', version: 3, canary: true, reason: 'try on 10%' })]);
	});

	test('start with a percentage; promote takes it to 100 % and counts as a release in the stack', async () => {
		const store = await released();
		await testVersion(store, 2);
		const { canary, entry, state } = await startCanary(store, 'price-change', 2, { percent: 20, by: 'ann', reason: 'try v2' });
		expect(canary).toMatchObject({ version: 2, percent: 20 });
		expect(canary.id).toMatch(/^canary-[A-Za-z0-9_-]+$/);
		expect(state.channels.production).toMatchObject({ version: 1, canary: { id: canary.id, version: 2, percent: 20, runId: expect.any(String) } });
		expect(entry).toMatchObject({ action: 'canary', version: 2, from: 1, percent: 20, canaryId: canary.id, reason: 'try v2' });
		// A full release while the canary runs is refused.
		await expect(releaseVersion(store, 'price-change', 2)).rejects.toThrow(/a canary of version 2 is running on "price-change" channel "production": promote it .* or end it .* first/);
		await expect(startCanary(store, 'price-change', 3, { percent: 5 })).rejects.toThrow(/a canary of version 2 is running/);
		const promoted = await promoteCanary(store, 'price-change', { by: 'ann' });
		expect(promoted.entry).toMatchObject({ action: 'promote', version: 2, from: 1, canaryId: canary.id });
		expect(promoted.state.channels.production).toEqual({ version: 2, contentHash: canary.contentHash, since: promoted.entry.at, runId: canary.runId });
		expect(channelStack(promoted.state, 'production').map((e) => e.version)).toEqual([1, 2]);
		const back = await rollbackChannel(store, 'price-change', { by: 'ann' });
		expect(back.entry).toMatchObject({ action: 'rollback', version: 1, from: 2 });
	});

	test('segments; rollback ends the canary and stable stays; the stack is unchanged', async () => {
		const store = await released();
		await testVersion(store, 2);
		const { canary } = await startCanary(store, 'price-change', 2, { segments: ['internal', 'acme-metals'] });
		expect(canary.segments).toEqual(['internal', 'acme-metals']);
		const ended = await rollbackChannel(store, 'price-change', { by: 'ann', reason: 'enough' });
		expect(ended.entry).toMatchObject({ action: 'rollback', version: 1, from: 2, canaryId: canary.id });
		expect(ended.state.channels.production.canary).toBeUndefined();
		expect(ended.state.channels.production.version).toBe(1);
		expect(channelStack(ended.state, 'production').map((e) => e.version)).toEqual([1]);
		await expect(promoteCanary(store, 'price-change')).rejects.toThrow(/no canary is running/);
	});

	test('bad canary options are refused', async () => {
		const store = await released();
		await testVersion(store, 2);
		await expect(startCanary(store, 'price-change', 2, {})).rejects.toThrow(/either a percentage/);
		await expect(startCanary(store, 'price-change', 2, { percent: 100 })).rejects.toThrow(/above 0 and below 100/);
		await expect(startCanary(store, 'price-change', 1, { percent: 10 })).rejects.toThrow(/already the stable version/);
	});

	test('freeze is idempotent, recorded with its reason, shown by status; rollback still ends a frozen canary', async () => {
		const store = await released();
		await testVersion(store, 2);
		const { canary } = await startCanary(store, 'price-change', 2, { percent: 50 });
		await store.appendOutcomes('price-change', canary.id, [
			{ at: '2026-06-01T00:00:00.000Z', arm: 'stable', version: 1, outcome: 'valid' },
			{ at: '2026-06-01T00:00:00.000Z', arm: 'stable', version: 1, outcome: 'valid' },
			{ at: '2026-06-01T00:00:00.000Z', arm: 'canary', version: 2, outcome: 'valid' },
			{ at: '2026-06-01T00:00:00.000Z', arm: 'canary', version: 2, outcome: 'invalid' },
			{ at: '2026-06-01T00:00:00.000Z', arm: 'canary', version: 2, outcome: 'corrected' },
			{ at: '2026-06-01T00:00:00.000Z', arm: 'canary', version: 2, outcome: 'invalid' },
		]);
		expect(await freezeCanary(store, 'price-change', 'production', 'other-id', 'x')).toBe(false);
		const at = new Date('2026-06-02T00:00:00.000Z');
		expect(await freezeCanary(store, 'price-change', 'production', canary.id, 'invalid rate 50% is 50 points above stable 0%', { now: at })).toBe(true);
		expect(await freezeCanary(store, 'price-change', 'production', canary.id, 'again')).toBe(false);
		const state = await store.readReleases('price-change');
		expect(state.channels.production.canary?.frozen).toEqual({ at: at.toISOString(), reason: 'invalid rate 50% is 50 points above stable 0%' });
		expect(state.history.filter((e) => e.action === 'freeze')).toEqual([expect.objectContaining({ canaryId: canary.id, version: 1, from: 2, reason: 'invalid rate 50% is 50 points above stable 0%' })]);
		const status = await promptStatus(store, 'price-change');
		expect(status.canaries).toEqual([
			expect.objectContaining({
				id: canary.id,
				channel: 'production',
				stableVersion: 1,
				version: 2,
				percent: 50,
				frozen: { at: at.toISOString(), reason: 'invalid rate 50% is 50 points above stable 0%' },
				arms: {
					stable: { version: 1, items: 2, valid: 2, invalid: 0, corrected: 0, invalidRate: 0, correctionRate: 0 },
					canary: { version: 2, items: 3, valid: 1, invalid: 2, corrected: 1, invalidRate: 2 / 3, correctionRate: 1 / 3 },
				},
			}),
		]);
		const ended = await rollbackChannel(store, 'price-change');
		expect(ended.entry.canaryId).toBe(canary.id);
		expect(await freezeCanary(store, 'price-change', 'production', canary.id, 'late')).toBe(false);
	});
});

describe('promote re-runs the gate', () => {
	async function canaryOf(version: number, opts: { force?: boolean; reason?: string; by?: string; good?: boolean } = {}) {
		const store = await setup();
		await testVersion(store, 1);
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		await testVersion(store, version, opts.good ?? true);
		const { canary } = await startCanary(store, 'price-change', version, { percent: 10, by: opts.by ?? 'ann', ...(opts.force ? { force: true, reason: opts.reason } : {}) });
		return { store, canary };
	}

	test('a frozen canary is refused unless forced with a reason; the forced promotion is recorded', async () => {
		const { store, canary } = await canaryOf(2);
		expect(await freezeCanary(store, 'price-change', 'production', canary.id, 'invalid rate 30 points above stable')).toBe(true);
		const refused = await promoteCanary(store, 'price-change', { by: 'ann' }).then(() => undefined, (e: unknown) => e);
		expect(refused).toBeInstanceOf(GateRefusal);
		expect((refused as Error).message).toMatch(/promotion of canary \S+ \(version 2\) on "price-change" channel "production" refused:\n {2}- \[frozen\] the canary was frozen at \S+: invalid rate 30 points above stable/);
		await expect(promoteCanary(store, 'price-change', { by: 'ann', force: true })).rejects.toThrow(/--force needs --reason/);
		expect((await store.readReleases('price-change')).channels.production.canary?.id).toBe(canary.id);
		const out = await promoteCanary(store, 'price-change', { by: 'bob', force: true, reason: 'glitch in the outcome feed' });
		expect(out.forced).toBe(true);
		expect(out.overridden.map((v) => v.rule)).toEqual(['frozen']);
		expect(out.entry).toMatchObject({ action: 'promote', version: 2, forced: true, reason: 'glitch in the outcome feed', by: 'bob', canaryId: canary.id });
		expect(out.state.channels.production).toMatchObject({ version: 2, forced: true });
		const status = await promptStatus(store, 'price-change');
		expect(status.forced).toEqual([expect.objectContaining({ channel: 'production', version: 2, reason: 'glitch in the outcome feed', by: 'bob' })]);
	});

	test('the gate is evaluated again: a fixture added since the canary started refuses the promotion, naming rule and fixture', async () => {
		const { store, canary } = await canaryOf(2);
		await store.writeFixture('price-change', fixture('later', { subject: 's', body: 'price later' }, true));
		const refused = await promoteCanary(store, 'price-change').then(() => undefined, (e: unknown) => e);
		expect(refused).toBeInstanceOf(GateRefusal);
		expect((refused as GateRefusal).message).toMatch(/\[evidence\] run \S+ is out of date: fixtures added or changed since: later/);
		expect((refused as GateRefusal).failingFixtures).toEqual([]); // not run: uncovered, not failing
		expect((await store.readReleases('price-change')).channels.production.canary?.id).toBe(canary.id);
		// Tested again, it passes and the fresh run becomes the evidence behind the channel.
		await testVersion(store, 2);
		const out = await promoteCanary(store, 'price-change', { by: 'ann' });
		expect(out.forced).toBe(false);
		expect(out.verdict.ok).toBe(true);
		expect(out.state.channels.production.runId).toBe(out.verdict.run!.runId);
		expect(out.state.channels.production.runId).not.toBe(canary.runId);
		expect(out.entry.forced).toBeUndefined();
	});

	test('a canary that fails the gate now is refused; --force with a reason overrides it', async () => {
		const { store } = await canaryOf(3, { force: true, reason: 'try the rough one on 10%', by: 'carl', good: false });
		await expect(promoteCanary(store, 'price-change')).rejects.toThrow(/refused:\n {2}- \[minPassRate\]/);
		const out = await promoteCanary(store, 'price-change', { by: 'dora', force: true, reason: 'accepted the misses' });
		expect(out.overridden.map((v) => v.rule)).toEqual(['minPassRate', 'maxRegressions']);
		expect(out.entry).toMatchObject({ forced: true, reason: 'accepted the misses', by: 'dora' });
	});

	test('a forced canary promoted without a new reason keeps its start reason; status shows it', async () => {
		const { store, canary } = await canaryOf(2, { force: true, reason: 'try v2 early', by: 'carl', good: false });
		await testVersion(store, 2); // tested again: the gate passes now
		// The gate passes now, but the canary went past it: the promotion stays forced.
		const out = await promoteCanary(store, 'price-change', { by: 'dora' });
		expect(out.forced).toBe(true);
		expect(out.overridden).toEqual([]);
		expect(out.entry).toMatchObject({ action: 'promote', forced: true, reason: 'try v2 early', by: 'dora', canaryId: canary.id });
		const status = await promptStatus(store, 'price-change');
		expect(status.forced).toEqual([expect.objectContaining({ channel: 'production', version: 2, reason: 'try v2 early' })]);
	});

	test('status falls back to the canary start entry when a forced promotion recorded no reason', async () => {
		const { store, canary } = await canaryOf(2, { force: true, reason: 'try v2 early', by: 'carl', good: false });
		await testVersion(store, 2); // tested again: the gate passes now
		await promoteCanary(store, 'price-change', { by: 'dora' });
		// A promotion recorded before promote entries carried the reason.
		await store.updateReleases('price-change', (s) => ({ ...s, history: s.history.map(({ reason, ...e }) => (e.action === 'promote' ? e : { ...e, ...(reason !== undefined ? { reason } : {}) })) }));
		const status = await promptStatus(store, 'price-change');
		expect(status.forced).toEqual([expect.objectContaining({ channel: 'production', version: 2, reason: 'try v2 early', by: 'carl' })]);
		expect(canary.id).toBeDefined();
	});
});
