import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../lib/errors';
import { contentHash } from '../../lib/hash';
import { costUsd, DEFAULT_PRICES } from '../../lib/pricing';
import { commitDraft } from '../../lib/registry/commit';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { ReleaseCache } from '../../lib/release-cache';
import { promptStatus } from '../../lib/status';
import { validateRegistry } from '../../lib/validate-registry';
import type { ReleasesState } from '../../lib/types';
import { fixture, makeSpec, runReport, tempRegistry, writeText } from './helpers';

async function healthyRegistry() {
	const { store, root } = await tempRegistry();
	await store.writeDraft(makeSpec());
	await commitDraft(store, 'price-change');
	await store.writeFixture('price-change', fixture('up', { subject: 's', body: 'price up' }, true));
	await store.writeDraft(makeSpec({ id: 'other', description: 'second prompt' }));
	return { store, root };
}

function pointTo(version: number, hash: string): (s: ReleasesState) => ReleasesState {
	return (s) => ({
		channels: { ...s.channels, production: { version, contentHash: hash, since: '2026-01-01T00:00:00.000Z' } },
		history: [...s.history, { at: '2026-01-01T00:00:00.000Z', action: 'release', channel: 'production', version, by: 'ann' }],
	});
}

describe('validateRegistry', () => {
	test('a healthy registry: counts and no errors', async () => {
		const { store } = await healthyRegistry();
		await store.updateReleases('price-change', pointTo(1, contentHash(makeSpec())));
		const report = await validateRegistry(store);
		expect(report).toEqual({ prompts: 2, versions: 1, fixtures: 1, errors: [] });
	});

	test('collects errors across many files instead of stopping at the first', async () => {
		const { store, root } = await healthyRegistry();
		const dir = path.join(root, 'price-change');
		// a hand-edited frozen version
		const vfile = path.join(dir, 'versions', '1.yaml');
		await fs.writeFile(vfile, (await fs.readFile(vfile, 'utf8')).replace('English only.', 'Edited.'));
		// two bad fixtures and a good one
		await writeText(path.join(dir, 'fixtures', 'no-expected.yaml'), 'id: no-expected\ninputs: {subject: a, body: b}\n');
		await writeText(path.join(dir, 'fixtures', 'wrong-type.yaml'), 'id: wrong-type\ninputs: {subject: a, body: b}\nexpected: "yes"\n');
		// a channel pointing at a missing version
		await store.updateReleases('price-change', pointTo(9, contentHash(makeSpec())));
		// a broken draft in another prompt
		await writeText(path.join(root, 'other', 'prompt.yaml'), 'id: other\nmodel: {provider: nope, name: x}\ninstructions: i\ntemplate: t\noutput: {type: boolean}\n');
		// a folder without prompt.yaml, a bad folder name, a corrupt run, bad pricing
		await fs.mkdir(path.join(root, 'orphan'));
		await fs.mkdir(path.join(root, 'bad name'));
		await writeText(path.join(dir, 'runs', 'r1.json'), '{');
		await writeText(path.join(root, 'pricing.yaml'), 'models:\n  x: {input: 1}\n');
		// hidden folders are ignored
		await fs.mkdir(path.join(root, '.git'));

		const report = await validateRegistry(store);
		const text = report.errors.map((e) => e.message).join('\n');
		expect(report.errors.every((e) => e instanceof ConfigError)).toBe(true);
		expect(text).toMatch(/prompt id "bad name" is invalid/);
		expect(text).toMatch(/folder "orphan" has no prompt\.yaml/);
		expect(text).toMatch(/other[/\\]prompt\.yaml:2 field "model\.provider"/);
		expect(text).toMatch(/versions[/\\]1\.yaml:\d+ field "contentHash": content hash mismatch/);
		expect(text).toMatch(/no-expected\.yaml:1 field "expected": is required/);
		expect(text).toMatch(/wrong-type\.yaml:3 field "expected": does not match the declared schema/);
		expect(text).toMatch(/channel "production" points at version 9, which does not exist/);
		expect(text).toMatch(/r1\.json: stored run is not valid JSON/);
		expect(text).toMatch(/pricing\.yaml:2 field "models\.x"/);
		expect(report.errors).toHaveLength(9);
		expect(report).toMatchObject({ prompts: 2, versions: 1, fixtures: 3 });
	});

	test('a channel whose recorded hash differs from the version', async () => {
		const { store } = await healthyRegistry();
		await store.updateReleases('price-change', pointTo(1, 'sha256:' + 'a'.repeat(64)));
		const report = await validateRegistry(store);
		expect(report.errors.map((e) => e.message)).toEqual([expect.stringMatching(/field "channels\.production\.contentHash": channel "production" records hash sha256:a+ but version 1 is sha256:/)]);
	});

	test('channel errors name releases.yaml with the line of the field; a released run that is missing is reported', async () => {
		const { store, root } = await healthyRegistry();
		const hash = contentHash(makeSpec());
		await store.updateReleases('price-change', (s) => ({
			channels: {
				production: { version: 1, contentHash: hash, since: '2026-01-01T00:00:00.000Z', runId: 'gone-run' },
				staging: { version: 7, contentHash: hash, since: '2026-01-01T00:00:00.000Z' },
			},
			history: s.history,
		}));
		await store.writeRun(runReport({ runId: 'other-run', results: [{ fixtureId: 'up', passed: true, expected: true }] }));
		const file = path.join(root, 'price-change', 'releases.yaml');
		const lines = (await fs.readFile(file, 'utf8')).split('\n');
		const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
		const report = await validateRegistry(store);
		expect(report.errors.map((e) => e.location)).toEqual([
			{ file, field: 'channels.production.runId', line: lineOf('runId: gone-run') },
			{ file, field: 'channels.staging.version', line: lineOf('version: 7') },
		]);
		expect(report.errors[0].message).toMatch(/channel "production" was released with run gone-run, but .*price-change[/\\]runs[/\\]gone-run\.json is missing: restore runs\/gone-run\.json from git/);
		expect(report.errors[1].message).toMatch(/channel "staging" points at version 7, which does not exist/);
	});

	test('a bad prompt folder name names the folder', async () => {
		const { store, root } = await healthyRegistry();
		await writeText(path.join(root, 'bad.id', 'prompt.yaml'), 'id: bad.id\n');
		const report = await validateRegistry(store);
		expect(report.errors).toHaveLength(1);
		expect(report.errors[0].location.file).toBe(path.join(root, 'bad.id'));
		expect(report.errors[0].message).toMatch(/^.*bad\.id: prompt id "bad\.id" is invalid.*rename the folder/);
	});

	test('a missing registry folder throws', async () => {
		const { root } = await tempRegistry();
		await expect(validateRegistry(new FileRegistryStore(path.join(root, 'missing')))).rejects.toThrow(/registry folder not found/);
	});
});

describe('promptStatus', () => {
	test('versions, draft changed, channels, fixtures by source, last run and history', async () => {
		const { store } = await healthyRegistry();
		await store.writeFixture('price-change', fixture('c1', { subject: 's', body: 'b' }, false, { source: 'correction' }));
		let status = await promptStatus(store, 'price-change');
		expect(status).toEqual({
			id: 'price-change',
			description: makeSpec().description,
			model: 'openai:gpt-4o-mini',
			versions: [1],
			draftChanged: false,
			channels: {},
			fixtures: { total: 2, bySource: { manual: 1, correction: 1 } },
			pendingReviews: 0,
		});
		await store.writeDraft(makeSpec({ description: 'edited' }));
		await store.writeRun(runReport({ runId: 'a-run', results: [{ fixtureId: 'up', passed: true, expected: true }, { fixtureId: 'c1', passed: false, expected: false }] }));
		await store.writeRun(runReport({ runId: 'b-run', results: [{ fixtureId: 'up', passed: true, expected: true }] }));
		await store.updateReleases('price-change', pointTo(1, contentHash(makeSpec())));
		const whole = jest.spyOn(store, 'readRun');
		status = await promptStatus(store, 'price-change');
		expect(whole).not.toHaveBeenCalled(); // the last run's summary document is enough: its results may be 100,000 lines
		expect(status.draftChanged).toBe(true);
		expect(status.lastRun).toEqual({ runId: 'b-run', version: 1, passed: 1, total: 1, passRate: 1, regressions: 0 });
		expect(status.channels.production.version).toBe(1);
		expect(status.lastHistory).toMatchObject({ action: 'release', version: 1, by: 'ann' });
	});

	test('no versions yet: draft counts as changed', async () => {
		const { store } = await healthyRegistry();
		expect((await promptStatus(store, 'other')).draftChanged).toBe(true);
	});
});

describe('ReleaseCache', () => {
	async function released() {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await commitDraft(store, 'price-change');
		await store.writeDraft(makeSpec({ description: 'v2' }));
		await commitDraft(store, 'price-change');
		const h1 = (await store.readVersion('price-change', 1)).contentHash;
		const h2 = (await store.readVersion('price-change', 2)).contentHash;
		await store.updateReleases('price-change', pointTo(1, h1));
		await store.updateReleases('price-change', pointTo(2, h2));
		return { store, h1, h2 };
	}

	test('within the TTL the cached version answers even after a rollback; after the TTL the new one', async () => {
		const { store, h1 } = await released();
		let now = 1_000_000;
		const cache = new ReleaseCache(() => now);
		expect((await cache.resolve(store, 'price-change', { channel: 'production' }, 30_000)).version).toBe(2);
		await store.updateReleases('price-change', pointTo(1, h1)); // a rollback elsewhere
		now += 29_999;
		expect((await cache.resolve(store, 'price-change', { channel: 'production' }, 30_000)).version).toBe(2);
		now += 1;
		expect((await cache.resolve(store, 'price-change', { channel: 'production' }, 30_000)).version).toBe(1);
	});

	test('the store is read once per TTL; keys separate channel, version, prompt and store', async () => {
		const { store } = await released();
		let reads = 0;
		const counting = Object.create(store) as FileRegistryStore;
		counting.readReleases = async (id: string) => {
			reads++;
			return store.readReleases(id);
		};
		const cache = new ReleaseCache(() => 0);
		const results = await Promise.all([1, 2, 3].map(() => cache.resolve(counting, 'price-change', { channel: 'production' })));
		expect(results.map((r) => r.version)).toEqual([2, 2, 2]);
		expect(reads).toBe(1);
		expect((await cache.resolve(counting, 'price-change', { version: 1 })).version).toBe(1);
		expect((await cache.resolve(counting, 'price-change', { version: 'draft' })).version).toBe('draft');
		await expect(cache.resolve(counting, 'price-change', { channel: 'staging' })).rejects.toThrow(/nothing released on channel "staging"/);
		const { store: other } = await tempRegistry();
		await expect(cache.resolve(other, 'price-change', { channel: 'production' })).rejects.toThrow(/not found|nothing released/);
	});

	test('failures are not cached: the next call tries again', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const cache = new ReleaseCache(() => 0);
		await expect(cache.resolve(store, 'price-change', { channel: 'production' }, 60_000)).rejects.toThrow(/nothing released/);
		const v1 = await commitDraft(store, 'price-change');
		await store.updateReleases('price-change', pointTo(1, v1.contentHash));
		expect((await cache.resolve(store, 'price-change', { channel: 'production' }, 60_000)).version).toBe(1);
	});

	test('TTL 0 never caches; clear() drops entries', async () => {
		const { store, h1 } = await released();
		const cache = new ReleaseCache(() => 5);
		expect((await cache.resolve(store, 'price-change', {}, 60_000)).version).toBe(2);
		await store.updateReleases('price-change', pointTo(1, h1));
		expect((await cache.resolve(store, 'price-change', {}, 0)).version).toBe(1);
		await store.updateReleases('price-change', pointTo(2, (await store.readVersion('price-change', 2)).contentHash));
		expect((await cache.resolve(store, 'price-change', {}, 60_000)).version).toBe(1);
		cache.clear();
		expect((await cache.resolve(store, 'price-change', {}, 60_000)).version).toBe(2);
	});
});

describe('pricing', () => {
	test('registry table by provider:model, then model, then built-in; unknown is 0', () => {
		expect(costUsd({}, 'openai', 'gpt-4o-mini', 1_000_000, 1_000_000)).toBeCloseTo(DEFAULT_PRICES['openai:gpt-4o-mini'].input + DEFAULT_PRICES['openai:gpt-4o-mini'].output, 10);
		expect(costUsd({ 'openai:gpt-4o-mini': { input: 1, output: 1 } }, 'openai', 'gpt-4o-mini', 1_000_000, 0)).toBe(1);
		expect(costUsd({ 'gpt-4o-mini': { input: 3, output: 1 } }, 'openai', 'gpt-4o-mini', 1_000_000, 0)).toBe(3);
		expect(costUsd({}, 'openai-compatible', 'gpt-4o-mini', 1_000_000, 0)).toBe(0);
		expect(costUsd({}, 'anthropic', 'unknown-model', 1_000, 1_000)).toBe(0);
	});
});
