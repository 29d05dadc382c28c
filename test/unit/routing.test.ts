/** Canary routing: sticky, uniform split by routing key; segments; frozen canaries; routing-aware resolve and cache. */
import { commitDraft } from '../../lib/registry/commit';
import { loadRelease, resolvePrompt } from '../../lib/registry/resolve';
import { ReleaseCache } from '../../lib/release-cache';
import { chooseArm, routingBucket } from '../../lib/routing';
import type { CanaryArm, ChannelPointer, ReleasesState } from '../../lib/types';
import { makeSpec, tempRegistry } from './helpers';

const stable: ChannelPointer = { version: 1, contentHash: 'sha256:a', since: '2026-11-21T10:00:00.000Z' };
const canary = (over: Partial<CanaryArm> = {}): ChannelPointer => ({
	...stable,
	canary: { id: 'c-1', version: 2, contentHash: 'sha256:b', since: '2026-11-21T10:00:00.000Z', percent: 20, ...over },
});
const keys = (n: number) => Array.from({ length: n }, (_, i) => `supplier-${i}.example`);

describe('chooseArm', () => {
	test('P=20 over 10 000 keys: 18–22 % canary, the same answer every time', () => {
		const pointer = canary();
		const arms = keys(10_000).map((k) => chooseArm(pointer, 'price-change', 'production', k));
		const share = arms.filter((a) => a === 'canary').length / arms.length;
		expect(share).toBeGreaterThanOrEqual(0.18);
		expect(share).toBeLessThanOrEqual(0.22);
		expect(keys(10_000).map((k) => chooseArm(pointer, 'price-change', 'production', k))).toEqual(arms);
	});

	test.each([1, 5, 50, 90])('P=%d within 2 points over 10 000 keys', (percent) => {
		const pointer = canary({ percent });
		const share = keys(10_000).filter((k) => chooseArm(pointer, 'p', 'production', k) === 'canary').length / 100;
		expect(Math.abs(share - percent)).toBeLessThanOrEqual(2);
	});

	test('buckets are in [0, 100) and salted by prompt, channel and canary id', () => {
		const buckets = keys(1000).map((k) => routingBucket('p', 'production', 'c-1', k));
		expect(buckets.every((b) => b >= 0 && b < 100)).toBe(true);
		// A new canary (or another prompt/channel) reshuffles which keys go first.
		const canaryA = keys(2000).filter((k) => chooseArm(canary(), 'p', 'production', k) === 'canary');
		const canaryB = keys(2000).filter((k) => chooseArm(canary({ id: 'c-2' }), 'p', 'production', k) === 'canary');
		const canaryC = keys(2000).filter((k) => chooseArm(canary(), 'q', 'production', k) === 'canary');
		expect(canaryA).not.toEqual(canaryB);
		expect(canaryA).not.toEqual(canaryC);
	});

	test('a larger percent keeps every key the smaller one had (ramp-up stays sticky)', () => {
		const at10 = keys(2000).filter((k) => chooseArm(canary({ percent: 10 }), 'p', 'production', k) === 'canary');
		const at30 = new Set(keys(2000).filter((k) => chooseArm(canary({ percent: 30 }), 'p', 'production', k) === 'canary'));
		expect(at10.every((k) => at30.has(k))).toBe(true);
	});

	test('segments: exactly the listed keys get the canary', () => {
		const pointer = canary({ percent: undefined, segments: ['internal', 'acme-metals.com'] });
		expect(chooseArm(pointer, 'p', 'production', 'internal')).toBe('canary');
		expect(chooseArm(pointer, 'p', 'production', 'acme-metals.com')).toBe('canary');
		expect(keys(1000).some((k) => chooseArm(pointer, 'p', 'production', k) === 'canary')).toBe(false);
	});

	test('no canary or a frozen one: stable for every key', () => {
		expect(keys(500).every((k) => chooseArm(stable, 'p', 'production', k) === 'stable')).toBe(true);
		const frozen = canary({ percent: 99, frozen: { at: '2026-11-21T11:00:00.000Z', reason: 'invalid rate' } });
		expect(keys(500).every((k) => chooseArm(frozen, 'p', 'production', k) === 'stable')).toBe(true);
		const frozenSegments = canary({ percent: undefined, segments: ['internal'], frozen: { at: 'x', reason: 'y' } });
		expect(chooseArm(frozenSegments, 'p', 'production', 'internal')).toBe('stable');
	});
});

describe('routing-aware resolve and cache', () => {
	async function withCanary(percent: number | undefined, segments?: string[]) {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const v1 = await commitDraft(store, 'price-change');
		await store.writeDraft(makeSpec({ instructions: 'Version two.' }));
		const v2 = await commitDraft(store, 'price-change');
		const setCanary = async (over: Partial<CanaryArm> | null) =>
			await store.updateReleases('price-change', (): ReleasesState => ({
				channels: {
					production: {
						version: 1,
						contentHash: v1.contentHash,
						since: '2026-11-21T10:00:00.000Z',
						...(over === null ? {} : { canary: { id: 'c-1', version: 2, contentHash: v2.contentHash, since: '2026-11-21T10:00:00.000Z', ...(segments ? { segments } : { percent }), ...over } }),
					},
				},
				history: [],
			}));
		await setCanary({});
		return { store, v1, v2, setCanary };
	}

	test('resolvePrompt picks the arm by routing key; no key → stable; pinned versions carry no arm', async () => {
		const { store, v2 } = await withCanary(20);
		const ks = keys(500);
		const resolved = await Promise.all(ks.map((k) => resolvePrompt(store, 'price-change', { channel: 'production' }, { routingKey: k })));
		const canaryShare = resolved.filter((r) => r.arm === 'canary').length / ks.length;
		expect(canaryShare).toBeGreaterThan(0.16);
		expect(canaryShare).toBeLessThan(0.24);
		const one = resolved.find((r) => r.arm === 'canary')!;
		expect(one).toMatchObject({ version: 2, contentHash: v2.contentHash, channel: 'production', canaryId: 'c-1' });
		expect(resolved.find((r) => r.arm === 'stable')).toMatchObject({ version: 1, channel: 'production', canaryId: 'c-1' });
		expect(await resolvePrompt(store, 'price-change')).toMatchObject({ version: 1, arm: 'stable' });
		const pinned = await resolvePrompt(store, 'price-change', { version: 2 });
		expect(pinned.arm).toBeUndefined();
		expect(pinned.canaryId).toBeUndefined();
	});

	test('a canary whose version no longer matches its hash is a config error', async () => {
		const { store, setCanary } = await withCanary(20);
		await setCanary({ contentHash: 'sha256:ffff' });
		await expect(loadRelease(store, 'price-change', { channel: 'production' })).rejects.toThrow(/canary c-1 of channel "production" of "price-change" points at version 2 with hash sha256:ffff/);
	});

	test('the cache reads the channel once per TTL, picks the arm per key on every call, and stays sticky across refreshes', async () => {
		const { store } = await withCanary(20);
		let reads = 0;
		const counting = Object.create(store) as typeof store;
		counting.readReleases = async (id: string) => {
			reads++;
			return await store.readReleases(id);
		};
		let now = 1_000;
		const cache = new ReleaseCache(() => now);
		const ks = keys(500);
		const first = await Promise.all(ks.map(async (k) => (await cache.resolve(counting, 'price-change', { channel: 'production' }, 2_000, k)).arm));
		expect(reads).toBe(1);
		expect(new Set(first)).toEqual(new Set(['stable', 'canary']));
		now += 5_000; // refresh
		const second = await Promise.all(ks.map(async (k) => (await cache.resolve(counting, 'price-change', { channel: 'production' }, 2_000, k)).arm));
		expect(reads).toBe(2);
		expect(second).toEqual(first);
		expect(ks.every((k, i) => chooseArm(canary(), 'price-change', 'production', k) === first[i])).toBe(true);
	});

	test('a freeze reaches the cache after the TTL (or at once after invalidate): then every key is stable', async () => {
		const { store, setCanary } = await withCanary(undefined, ['internal']);
		let now = 0;
		const cache = new ReleaseCache(() => now);
		const ref = { channel: 'production' };
		expect((await cache.resolve(store, 'price-change', ref, 2_000, 'internal')).arm).toBe('canary');
		expect((await cache.resolve(store, 'price-change', ref, 2_000, 'other')).arm).toBe('stable');
		await setCanary({ frozen: { at: '2026-11-21T11:00:00.000Z', reason: 'canary invalid rate too high' } });
		now += 1_999;
		expect((await cache.resolve(store, 'price-change', ref, 2_000, 'internal')).arm).toBe('canary');
		now += 1;
		const after = await cache.resolve(store, 'price-change', ref, 2_000, 'internal');
		expect(after).toMatchObject({ arm: 'stable', version: 1 });
		expect(after.canaryId).toBeUndefined();

		await setCanary({});
		cache.invalidate(store, 'price-change', 'production');
		expect((await cache.resolve(store, 'price-change', ref, 60_000, 'internal')).arm).toBe('canary');
		await setCanary(null);
		cache.invalidate(store, 'price-change', 'production');
		expect((await cache.resolve(store, 'price-change', ref, 60_000, 'internal'))).toMatchObject({ arm: 'stable', version: 1 });
	});
});
