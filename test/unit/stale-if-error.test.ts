/**
 * Stale-if-error in the release cache, on a real file registry with a controlled clock: a registry that cannot be
 * read after warm-up keeps serving the last good release for a bounded time; one that reads but is wrong never does.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, RegistryUnavailableError } from '../../lib/errors';
import { contentHash } from '../../lib/hash';
import { commitDraft } from '../../lib/registry/commit';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { isUnavailableDbError, isUnavailableFsError } from '../../lib/registry/unavailable';
import { DEFAULT_STALE_IF_ERROR_MS, ReleaseCache, STALE_RETRY_MS } from '../../lib/release-cache';
import { makeSpec, tempRegistry } from './helpers';

const TTL = 1_000;

async function releasedRegistry() {
	const { store, root } = await tempRegistry();
	await store.writeDraft(makeSpec());
	await commitDraft(store, 'price-change');
	await store.updateReleases('price-change', (s) => ({
		channels: { production: { version: 1, contentHash: contentHash(makeSpec()), since: '2026-01-01T00:00:00.000Z' } },
		history: [...s.history, { at: '2026-01-01T00:00:00.000Z', action: 'release', channel: 'production', version: 1, by: 'ann' }],
	}));
	let now = 1_000_000;
	const cache = new ReleaseCache(() => now);
	const tick = (ms: number) => {
		now += ms;
	};
	await cache.resolution(store, 'price-change', { channel: 'production' }, TTL); // warm-up
	return { store, root, cache, tick };
}

describe('stale-if-error', () => {
	test('folder gone after warm-up: the last good release serves, marked stale, until the bound; then the error', async () => {
		const { store, root, cache, tick } = await releasedRegistry();
		await fs.rename(root, `${root}.away`);
		try {
			tick(TTL + 1);
			const stale = await cache.resolution(store, 'price-change', { channel: 'production' }, TTL);
			expect(stale.stable.version).toBe(1);
			expect(stale.stale?.reason).toMatch(/registry folder .* is gone: check that it is mounted/);
			expect(Date.parse(stale.stale!.since)).toBeLessThan(Date.now());
			// The arm served carries the mark too (nodes put it in the item metadata).
			await expect(cache.resolve(store, 'price-change', { channel: 'production' }, TTL)).resolves.toMatchObject({ version: 1, stale: { reason: stale.stale!.reason } });

			tick(DEFAULT_STALE_IF_ERROR_MS);
			await expect(cache.resolution(store, 'price-change', { channel: 'production' }, TTL)).rejects.toBeInstanceOf(RegistryUnavailableError);
		} finally {
			await fs.rename(`${root}.away`, root);
		}
	});

	test('while serving stale, the registry is tried again after STALE_RETRY_MS, not a full TTL', async () => {
		const { store, root, cache, tick } = await releasedRegistry();
		const ttl = 30_000;
		tick(ttl + 1);
		await fs.rename(root, `${root}.away`);
		try {
			expect((await cache.resolution(store, 'price-change', { channel: 'production' }, ttl)).stale).toBeDefined();
		} finally {
			await fs.rename(`${root}.away`, root);
		}
		// Rolled back (here: unreleased) while the registry was unreadable.
		await store.updateReleases('price-change', (s) => ({ ...s, channels: {} }));
		tick(STALE_RETRY_MS - 1);
		expect((await cache.resolution(store, 'price-change', { channel: 'production' }, ttl)).stale).toBeDefined();
		tick(1);
		await expect(cache.resolution(store, 'price-change', { channel: 'production' }, ttl)).rejects.toThrow(/production/);
	});

	test('a cold start with no readable registry is a clear error', async () => {
		const { root } = await tempRegistry();
		const store = new FileRegistryStore(path.join(root, 'not-mounted'));
		const cache = new ReleaseCache(() => 0);
		await expect(cache.resolution(store, 'price-change', { channel: 'production' }, TTL)).rejects.toThrow(/registry folder .*not-mounted is gone|registry folder not found/);
	});

	test('a file being written (truncated to empty) counts as unreadable: served stale', async () => {
		const { store, root, cache, tick } = await releasedRegistry();
		await fs.writeFile(path.join(root, 'price-change', 'releases.yaml'), '');
		tick(TTL + 1);
		const stale = await cache.resolution(store, 'price-change', { channel: 'production' }, TTL);
		expect(stale.stale?.reason).toMatch(/releases\.yaml: file is empty: it is probably being written right now/);
	});

	test('a file changed a moment ago that does not parse yet is being written: served stale', async () => {
		const { store, root, cache, tick } = await releasedRegistry();
		await fs.writeFile(path.join(root, 'price-change', 'releases.yaml'), 'channels:\n  production: {version: 1, contentHash: "sha256:');
		tick(TTL + 1);
		const stale = await cache.resolution(store, 'price-change', { channel: 'production' }, TTL);
		expect(stale.stale?.reason).toMatch(/releases\.yaml/);
	});

	test('a registry that reads but is wrong is never served stale: invalid YAML, hash mismatch', async () => {
		const { store, root, cache, tick } = await releasedRegistry();
		const releases = path.join(root, 'price-change', 'releases.yaml');
		const good = await fs.readFile(releases, 'utf8');
		await fs.writeFile(releases, 'channels: [unclosed\n');
		// Changed longer ago than the mid-write window: a broken file, not one being written.
		const past = new Date(Date.now() - 10_000);
		await fs.utimes(releases, past, past);
		tick(TTL + 1);
		const yamlError = await cache.resolution(store, 'price-change', { channel: 'production' }, TTL).catch((e: unknown) => e);
		expect(yamlError).toBeInstanceOf(ConfigError);
		expect(yamlError).not.toBeInstanceOf(RegistryUnavailableError);

		await fs.writeFile(releases, good);
		const version = path.join(root, 'price-change', 'versions', '1.yaml');
		await fs.writeFile(version, (await fs.readFile(version, 'utf8')).replace('English only.', 'Any language.'));
		tick(TTL + 1);
		await expect(cache.resolution(store, 'price-change', { channel: 'production' }, TTL)).rejects.toThrow(/hash/);
	});

	test('which low-level errors mean "cannot be read now"', () => {
		const err = (code: string, message = code) => Object.assign(new Error(message), { code });
		for (const code of ['EACCES', 'EPERM', 'EIO', 'EBUSY', 'ESTALE', 'EMFILE']) expect(isUnavailableFsError(err(code))).toBe(true);
		for (const code of ['ENOENT', 'EISDIR', 'EINVAL']) expect(isUnavailableFsError(err(code))).toBe(false);
		for (const code of ['ECONNREFUSED', '08006', '57P01', '53300']) expect(isUnavailableDbError(err(code))).toBe(true);
		expect(isUnavailableDbError(new Error('Connection terminated unexpectedly'))).toBe(true);
		for (const code of ['42P01', '23505', '22P02']) expect(isUnavailableDbError(err(code))).toBe(false);
	});
});
