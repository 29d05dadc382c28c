/** Canary outcomes: per-arm statistics, each freeze rule, and the recorder (buffer, batched append, freeze by itself). */
import { armStats, evaluateFreeze, OutcomeRecorder } from '../../lib/outcomes';
import type { FreezeRule } from '../../lib/policy';
import { freezeCanary } from '../../lib/release';
import type { RegistryStore } from '../../lib/registry/store';
import type { Arm, OutcomeRecord, ReleasesState } from '../../lib/types';
import { commitDraft } from '../../lib/registry/commit';
import { makeSpec, tempRegistry } from './helpers';

function records(arm: Arm, counts: { valid?: number; invalid?: number; corrected?: number }, version = arm === 'canary' ? 2 : 1): OutcomeRecord[] {
	const out: OutcomeRecord[] = [];
	for (const outcome of ['valid', 'invalid', 'corrected'] as const) {
		for (let i = 0; i < (counts[outcome] ?? 0); i++) out.push({ at: '2026-11-21T10:00:00.000Z', arm, version, outcome });
	}
	return out;
}

describe('armStats', () => {
	test('counts per arm; corrections count against the arm that served the item', () => {
		const stats = armStats([...records('stable', { valid: 38, invalid: 2, corrected: 4 }), ...records('canary', { valid: 9, invalid: 1, corrected: 3 })]);
		expect(stats.stable).toEqual({ items: 40, valid: 38, invalid: 2, corrected: 4, invalidRate: 0.05, correctionRate: 0.1 });
		expect(stats.canary).toEqual({ items: 10, valid: 9, invalid: 1, corrected: 3, invalidRate: 0.1, correctionRate: 0.3 });
		expect(armStats([]).canary).toEqual({ items: 0, valid: 0, invalid: 0, corrected: 0, invalidRate: 0, correctionRate: 0 });
	});
});

describe('evaluateFreeze', () => {
	const invalidRule: FreezeRule = { minItems: 50, maxInvalidRatePointsAbove: 5 };
	const correctionRule: FreezeRule = { minItems: 20, maxCorrectionRatePointsAbove: 10 };

	test('invalid-rate rule: canary 12.0% vs stable 2.5% after 60 canary items → freeze, saying why', () => {
		const stats = armStats([...records('stable', { valid: 195, invalid: 5 }), ...records('canary', { valid: 53, invalid: 7 })]);
		expect(stats.canary.invalidRate).toBeCloseTo(0.11667);
		const reason = evaluateFreeze(armStats([...records('stable', { valid: 39, invalid: 1 }), ...records('canary', { valid: 53, invalid: 7 })]), invalidRule);
		expect(reason).toBe("canary invalid rate 11.7% is 9.2 points above stable's 2.5% (limit 5 points) after 60 canary items");
		const exact = evaluateFreeze(armStats([...records('stable', { valid: 39, invalid: 1 }), ...records('canary', { valid: 44, invalid: 6 })]), invalidRule);
		expect(exact).toBe("canary invalid rate 12.0% is 9.5 points above stable's 2.5% (limit 5 points) after 50 canary items");
	});

	test('invalid-rate rule: within the limit (or exactly at it) → no freeze', () => {
		expect(evaluateFreeze(armStats([...records('stable', { valid: 95, invalid: 5 }), ...records('canary', { valid: 90, invalid: 10 })]), invalidRule)).toBeUndefined();
		expect(evaluateFreeze(armStats([...records('stable', { valid: 100 }), ...records('canary', { valid: 96, invalid: 4 })]), invalidRule)).toBeUndefined();
	});

	test('below minItems → no freeze, however bad the canary', () => {
		const bad = armStats([...records('stable', { valid: 100 }), ...records('canary', { invalid: 49 })]);
		expect(evaluateFreeze(bad, invalidRule)).toBeUndefined();
		const justEnough = armStats([...records('stable', { valid: 100 }), ...records('canary', { invalid: 50 })]);
		expect(evaluateFreeze(justEnough, invalidRule)).toMatch(/^canary invalid rate 100.0% is 100 points above stable's 0.0% \(limit 5 points\) after 50 canary items$/);
		// Corrections are not items: 30 corrections of 10 served items still wait for minItems.
		expect(evaluateFreeze(armStats([...records('canary', { valid: 10, corrected: 30 })]), correctionRule)).toBeUndefined();
	});

	test('correction-rate rule: canary corrected far more often than stable → freeze', () => {
		const stats = armStats([...records('stable', { valid: 100, corrected: 5 }), ...records('canary', { valid: 20, corrected: 4 })]);
		expect(evaluateFreeze(stats, correctionRule)).toBe("canary correction rate 20.0% is 15 points above stable's 5.0% (limit 10 points) after 20 canary items");
		const fine = armStats([...records('stable', { valid: 100, corrected: 5 }), ...records('canary', { valid: 20, corrected: 2 })]);
		expect(evaluateFreeze(fine, correctionRule)).toBeUndefined();
		// The invalid rate does not matter to a correction-only rule.
		expect(evaluateFreeze(armStats([...records('canary', { invalid: 30 })]), correctionRule)).toBeUndefined();
	});

	test('no rule, or a rule without limits → never freezes', () => {
		const bad = armStats(records('canary', { invalid: 1000 }));
		expect(evaluateFreeze(bad, undefined)).toBeUndefined();
		expect(evaluateFreeze(bad, { minItems: 1 })).toBeUndefined();
	});
});

/** An in-memory outcome log; `failAppends` makes the next appends throw. */
function memoryStore() {
	const logs = new Map<string, OutcomeRecord[]>();
	const calls: Array<{ canaryId: string; count: number }> = [];
	const reads: string[] = [];
	let failAppends = 0;
	const store = {
		location: 'memory',
		appendOutcomes: async (promptId: string, canaryId: string, rs: OutcomeRecord[]) => {
			if (failAppends > 0) {
				failAppends--;
				throw new Error('disk full');
			}
			calls.push({ canaryId, count: rs.length });
			logs.set(`${promptId}/${canaryId}`, [...(logs.get(`${promptId}/${canaryId}`) ?? []), ...rs]);
		},
		readOutcomes: async (promptId: string, canaryId: string) => {
			reads.push(canaryId);
			return logs.get(`${promptId}/${canaryId}`) ?? [];
		},
	} as unknown as RegistryStore;
	return { store, logs, calls, reads, fail: (n: number) => (failAppends = n) };
}

describe('OutcomeRecorder', () => {
	test('record() only buffers; flush() appends one batch per canary and checks the rule', async () => {
		const { store, calls, logs } = memoryStore();
		const frozen: string[] = [];
		const recorder = new OutcomeRecorder(store, {
			freezeRule: async () => ({ minItems: 10, maxInvalidRatePointsAbove: 20 }),
			freeze: async (_s, promptId, channel, canaryId, reason) => {
				frozen.push(`${promptId}/${channel}/${canaryId}: ${reason}`);
				return true;
			},
		});
		for (let i = 0; i < 30; i++) recorder.record('p', 'production', 'c-1', 'stable', 1, 'valid');
		for (let i = 0; i < 5; i++) recorder.record('p', 'production', 'c-1', 'canary', 2, i < 3 ? 'invalid' : 'valid');
		recorder.record('q', 'production', 'c-9', 'canary', 4, 'valid');
		expect(calls).toEqual([]);
		expect(recorder.size).toBe(36);
		let result = await recorder.flush();
		expect(result).toMatchObject({ appended: 36, pending: 0, frozen: [], errors: [] });
		expect(calls).toEqual([{ canaryId: 'c-1', count: 35 }, { canaryId: 'c-9', count: 1 }]);
		expect(recorder.size).toBe(0);
		expect(frozen).toEqual([]); // 5 canary items < minItems 10

		for (let i = 0; i < 5; i++) recorder.record('p', 'production', 'c-1', 'canary', 2, 'invalid');
		result = await recorder.flush();
		expect(result.frozen).toEqual([{ promptId: 'p', channel: 'production', canaryId: 'c-1', reason: "canary invalid rate 80.0% is 80 points above stable's 0.0% (limit 20 points) after 10 canary items" }]);
		expect(frozen).toHaveLength(1);
		expect(logs.get('p/c-1')).toHaveLength(40);
		expect(await recorder.flush()).toMatchObject({ appended: 0 });
	});

	test('a failed append never drops records: they stay buffered, are logged, and go with the next flush', async () => {
		const { store, logs, fail } = memoryStore();
		const warnings: string[] = [];
		const recorder = new OutcomeRecorder(store, { attempts: 2, logger: { warn: (m) => warnings.push(m) }, freezeRule: async () => undefined });
		recorder.record('p', 'production', 'c-1', 'canary', 2, 'valid');
		recorder.record('p', 'production', 'c-1', 'stable', 1, 'invalid');
		fail(2);
		const result = await recorder.flush();
		expect(result).toMatchObject({ appended: 0, pending: 2 });
		expect(warnings[0]).toMatch(/could not append 2 canary outcome\(s\) of "p" canary c-1 \(kept for the next flush\): disk full/);
		recorder.record('p', 'production', 'c-1', 'canary', 2, 'corrected');
		expect(await recorder.flush()).toMatchObject({ appended: 3, pending: 0 });
		expect(logs.get('p/c-1')!.map((r) => r.outcome)).toEqual(['valid', 'invalid', 'corrected']);
	});

	test('while appends keep failing, at most maxPendingPerLog records wait per log: the oldest are dropped, and the warning says how many', async () => {
		const { store, logs, fail } = memoryStore();
		const warnings: string[] = [];
		const recorder = new OutcomeRecorder(store, { attempts: 1, maxPendingPerLog: 3, logger: { warn: (m) => warnings.push(m) }, freezeRule: async () => undefined });
		for (const outcome of ['valid', 'invalid'] as const) recorder.record('p', 'production', 'c-1', 'canary', 2, outcome);
		fail(1);
		expect(await recorder.flush()).toMatchObject({ appended: 0, pending: 2 });
		for (const outcome of ['corrected', 'valid', 'invalid'] as const) recorder.record('p', 'production', 'c-1', 'stable', 1, outcome);
		fail(1);
		expect(await recorder.flush()).toMatchObject({ appended: 0, pending: 3 });
		expect(warnings[1]).toMatch(/could not append 5 canary outcome\(s\) of "p" canary c-1 \(kept for the next flush; 2 oldest dropped: more than 3 waiting\)/);
		expect(recorder.size).toBe(3);
		expect(await recorder.flush()).toMatchObject({ appended: 3, pending: 0 });
		expect(logs.get('p/c-1')!.map((r) => `${r.arm}:${r.outcome}`)).toEqual(['stable:corrected', 'stable:valid', 'stable:invalid']);
	});

	test('recordServed(): a channel without a canary gets its own served log, batched per flush and never freeze-checked', async () => {
		const { store, calls, logs, reads, fail } = memoryStore();
		const ruleReads: string[] = [];
		const warnings: string[] = [];
		const recorder = new OutcomeRecorder(store, {
			freezeCheckIntervalMs: 0,
			attempts: 1,
			logger: { warn: (m) => warnings.push(m) },
			// A rule that would freeze anything: served logs must not even ask for it.
			freezeRule: async (_s, promptId) => {
				ruleReads.push(promptId);
				return { minItems: 1, maxInvalidRatePointsAbove: 0 };
			},
			freeze: async () => {
				throw new Error('a served log must never freeze anything');
			},
		});
		for (let i = 0; i < 4; i++) recorder.recordServed('p', 'production', 3, i === 0 ? 'valid' : 'invalid');
		recorder.recordServed('p', 'staging', 4, 'valid');
		recorder.recordServed('p', 'has space', 4, 'valid');
		expect(warnings).toEqual([expect.stringContaining('outcome of "p" on channel "has space" not recorded')]);
		expect(recorder.size).toBe(5);
		expect(calls).toEqual([]);
		const result = await recorder.flush();
		expect(result).toEqual({ appended: 5, pending: 0, frozen: [], errors: [] });
		expect(calls).toEqual([{ canaryId: 'served-production', count: 4 }, { canaryId: 'served-staging', count: 1 }]);
		expect(logs.get('p/served-production')!.map((r) => [r.arm, r.version, r.outcome])).toEqual([['stable', 3, 'valid'], ['stable', 3, 'invalid'], ['stable', 3, 'invalid'], ['stable', 3, 'invalid']]);
		expect(ruleReads).toEqual([]);
		expect(reads).toEqual([]);

		// A failed append of a served log is kept like a canary's, and named as a served log.
		recorder.recordServed('p', 'production', 3, 'corrected');
		fail(1);
		expect(await recorder.flush()).toMatchObject({ appended: 0, pending: 1 });
		expect(warnings[1]).toMatch(/could not append 1 served outcome\(s\) of "p" channel "production" \(served log served-production\) \(kept for the next flush\): disk full/);
		expect(await recorder.flush()).toMatchObject({ appended: 1, pending: 0 });
		expect(logs.get('p/served-production')).toHaveLength(5);

		// The same flush still checks a canary it appended to.
		recorder.recordServed('p', 'production', 3, 'valid');
		recorder.record('p', 'production', 'c-1', 'canary', 4, 'invalid');
		await expect(recorder.flush()).resolves.toMatchObject({ appended: 2, errors: [expect.stringContaining('a served log must never freeze anything')] });
		expect(ruleReads).toEqual(['p']);
		expect(reads).toEqual(['c-1']);
	});

	test('concurrent flushes append every record exactly once', async () => {
		const { store, logs } = memoryStore();
		const recorder = new OutcomeRecorder(store, { freezeRule: async () => undefined });
		const flushes: Array<Promise<unknown>> = [];
		for (let i = 0; i < 200; i++) {
			recorder.record('p', 'production', 'c-1', i % 2 ? 'canary' : 'stable', 1, 'valid');
			if (i % 17 === 0) flushes.push(recorder.flush());
		}
		flushes.push(recorder.flush());
		await Promise.all(flushes);
		expect(logs.get('p/c-1')).toHaveLength(200);
		recorder.close();
	});

	test('the freeze check (a read of the whole log) runs at most once per interval, but at once when a flush crosses minItems', async () => {
		const { store, reads } = memoryStore();
		let clock = Date.parse('2026-11-21T10:00:00.000Z');
		const frozen: string[] = [];
		const recorder = new OutcomeRecorder(store, {
			now: () => new Date(clock),
			freezeCheckIntervalMs: 5000,
			freezeRule: async () => ({ minItems: 10, maxInvalidRatePointsAbove: 20 }),
			freeze: async (_s, _p, _c, canaryId, reason) => {
				frozen.push(`${canaryId}: ${reason}`);
				return true;
			},
		});
		const flushWith = async (canaryId: string, valid: number, invalid: number) => {
			for (let i = 0; i < 10; i++) recorder.record('p', 'production', canaryId, 'stable', 1, 'valid');
			for (let i = 0; i < valid + invalid; i++) recorder.record('p', 'production', canaryId, 'canary', 2, i < invalid ? 'invalid' : 'valid');
			return await recorder.flush();
		};
		// First flush of a canary: checked (5 canary items).
		await flushWith('c-1', 5, 0);
		expect(reads).toEqual(['c-1']);
		// 1 s later: 8 items, still below minItems → not checked.
		clock += 1000;
		await flushWith('c-1', 0, 3);
		expect(reads).toHaveLength(1);
		// 2 s later: this flush brings it to 11 ≥ minItems with 6/11 invalid → checked at once and frozen.
		clock += 1000;
		expect((await flushWith('c-1', 0, 3)).frozen).toEqual([expect.objectContaining({ canaryId: 'c-1', reason: expect.stringMatching(/after 11 canary items$/) })]);
		expect(reads).toHaveLength(2);
		expect(frozen).toHaveLength(1);

		// Past minItems, healthy: further flushes within the interval do not read the log; after it they do.
		await flushWith('c-2', 10, 0);
		expect(reads).toHaveLength(3);
		for (let n = 0; n < 4; n++) {
			clock += 1000;
			await flushWith('c-2', 5, 0);
		}
		expect(reads).toHaveLength(3);
		clock += 1000;
		await flushWith('c-2', 5, 0);
		expect(reads).toHaveLength(4);
		// Each canary has its own interval: c-3 is checked at once.
		await flushWith('c-3', 1, 0);
		expect(reads).toHaveLength(5);
		recorder.close();
	});

	test('a check skipped within the interval runs when the interval ends, without another flush', async () => {
		const { store, reads } = memoryStore();
		const events: string[] = [];
		const recorder = new OutcomeRecorder(store, {
			freezeCheckIntervalMs: 100,
			freezeRule: async () => ({ minItems: 2, maxInvalidRatePointsAbove: 10 }),
			freeze: async () => true,
			onFrozen: (event) => events.push(event.reason),
		});
		for (let i = 0; i < 4; i++) recorder.record('p', 'production', 'c-1', i % 2 ? 'stable' : 'canary', i % 2 ? 1 : 2, 'valid');
		expect((await recorder.flush()).frozen).toEqual([]);
		expect(reads).toHaveLength(1);
		// Past minItems already: the breach is not checked by this flush…
		for (let i = 0; i < 4; i++) recorder.record('p', 'production', 'c-1', 'canary', 2, 'invalid');
		expect((await recorder.flush()).frozen).toEqual([]);
		expect(reads).toHaveLength(1);
		// …but by the deferred check once the interval ended.
		await new Promise((resolve) => setTimeout(resolve, 250));
		expect(reads).toHaveLength(2);
		expect(events).toEqual(["canary invalid rate 66.7% is 66.7 points above stable's 0.0% (limit 10 points) after 6 canary items"]);
		// close() cancels pending deferred checks.
		recorder.record('p', 'production', 'c-1', 'canary', 2, 'invalid');
		await recorder.flush();
		recorder.record('p', 'production', 'c-1', 'canary', 2, 'invalid');
		await recorder.flush();
		const before = reads.length;
		recorder.close();
		await new Promise((resolve) => setTimeout(resolve, 250));
		expect(reads).toHaveLength(before);
	});

	test('with the file store and the policy: the canary freezes by itself, once, and history says why', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const v1 = await commitDraft(store, 'price-change');
		await store.writeDraft(makeSpec({ instructions: 'Two.' }));
		const v2 = await commitDraft(store, 'price-change');
		await store.updateReleases('price-change', (): ReleasesState => ({
			channels: { production: { version: 1, contentHash: v1.contentHash, since: 'x', canary: { id: 'c-file', version: 2, contentHash: v2.contentHash, since: 'x', percent: 10 } } },
			history: [],
		}));
		const recorder = new OutcomeRecorder(store, { freezeCheckIntervalMs: 0, freezeRule: async () => ({ minItems: 5, maxInvalidRatePointsAbove: 10 }) });
		for (let i = 0; i < 20; i++) recorder.record('price-change', 'production', 'c-file', 'stable', 1, 'valid');
		for (let i = 0; i < 5; i++) recorder.record('price-change', 'production', 'c-file', 'canary', 2, 'invalid');
		const result = await recorder.flush();
		expect(result.frozen).toHaveLength(1);
		const state = await store.readReleases('price-change');
		expect(state.channels.production.canary!.frozen!.reason).toBe(result.frozen[0].reason);
		expect(state.history.at(-1)).toMatchObject({ action: 'freeze', canaryId: 'c-file', reason: expect.stringMatching(/^canary invalid rate 100.0%/) });
		// Idempotent: a later flush does not freeze again.
		recorder.record('price-change', 'production', 'c-file', 'canary', 2, 'invalid');
		expect((await recorder.flush()).frozen).toEqual([]);
		expect((await store.readReleases('price-change')).history.filter((e) => e.action === 'freeze')).toHaveLength(1);
		expect(await freezeCanary(store, 'price-change', 'production', 'c-file', 'again')).toBe(false);
	});
});
