/**
 * The response cache itself: what the key covers, what is stored, how it survives corruption, concurrent
 * writers in two processes, and its size bound.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CachingProvider, DiskResponseStore, defaultCacheDir, folderWriteProblem, responseCacheKey, TOUCH_AFTER_MS } from '../../lib/cache';
import { allocatedBytes, EVICT_TO, evictWithLock } from '../../lib/cache/disk-store';
import { createProvider } from '../../lib/providers';
import type { ProviderRequest, ProviderResponse } from '../../lib/providers/types';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { FUTURE_FETCH_SKEW_MS } from '../../lib/provenance';
import { tempDir } from './helpers';

let server: ModelServer;
beforeAll(async () => {
	server = await startModelServer({ rules: { rules: [{ prompt: 'p', value: true }] } });
});
afterAll(async () => {
	await server.close();
});
beforeEach(() => server.reset());

const request: ProviderRequest = {
	model: { provider: 'openai', name: 'gpt-4o-mini', temperature: 0, maxTokens: 50 },
	system: 'You answer.',
	messages: [{ role: 'user', content: 'Is this a price increase?' }],
	jsonSchema: { type: 'object', properties: { value: { type: 'boolean' } }, required: ['value'], additionalProperties: false },
	schemaName: 'p',
};

const answer = (over: Partial<ProviderResponse> = {}): ProviderResponse => ({ text: '{"value":true}', usage: { inputTokens: 10, outputTokens: 2 }, end: { reason: 'stop', providerReason: 'stop' }, ...over });

describe('the cache key', () => {
	const key = (r: ProviderRequest, provider: 'openai' | 'anthropic' = 'openai', base = 'https://api.openai.com/v1') => responseCacheKey(provider, base, r);

	test('changes when any part of the request changes, and only then', () => {
		const k = key(request);
		expect(k).toMatch(/^[0-9a-f]{64}$/);
		expect(key({ ...request, signal: new AbortController().signal })).toBe(k);
		expect(key(request, 'openai', 'https://api.openai.com/v1/')).toBe(k); // trailing slash: same server
		const variants: ProviderRequest[] = [
			{ ...request, model: { ...request.model, name: 'gpt-4.1-mini' } },
			{ ...request, model: { ...request.model, temperature: 0.2 } },
			{ ...request, model: { ...request.model, maxTokens: 51 } },
			{ ...request, model: { ...request.model, api: 'responses' } },
			{ ...request, model: { ...request.model, baseUrl: 'http://127.0.0.1:11434/v1' } },
			{ ...request, system: 'You answer carefully.' },
			{ ...request, messages: [{ role: 'user', content: 'Is this a price decrease?' }] },
			{ ...request, messages: [...request.messages, { role: 'assistant', content: 'x' }, { role: 'user', content: 'again' }] },
			{ ...request, jsonSchema: { ...request.jsonSchema, description: 'x' } },
			{ ...request, schemaName: 'q' },
			{ ...request, attempt: 2 },
		];
		const keys = variants.map((v) => key(v));
		for (const other of keys) expect(other).not.toBe(k);
		expect(new Set(keys).size).toBe(keys.length);
		expect(key(request, 'anthropic')).not.toBe(k);
		expect(key(request, 'openai', 'http://proxy.internal/v1')).not.toBe(k);
		// Attempt 1 is the single run's call; attempts 2…N are their own calls.
		expect(key({ ...request, attempt: 1 })).toBe(k);
		expect(key({ ...request, attempt: 3 })).not.toBe(key({ ...request, attempt: 2 }));
	});

	test('the default folder is outside the registry: PROMPT_RELEASE_CACHE_DIR, XDG_CACHE_HOME, ~/.cache', () => {
		expect(defaultCacheDir({ PROMPT_RELEASE_CACHE_DIR: '/x/y' })).toBe('/x/y');
		expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/n8n-nodes-prompt-release/responses');
		expect(defaultCacheDir({})).toMatch(/\.cache\/n8n-nodes-prompt-release\/responses$/);
	});
});

describe('CachingProvider over the wire', () => {
	test('stores finished answers and refusals with the whole response; never cut-offs or failures', async () => {
		const store = new DiskResponseStore({ dir: await tempDir() });
		const provider = new CachingProvider(createProvider(request.model, { baseUrl: server.openaiBaseUrl, apiKey: 'k' }), store);
		server.enqueue({ kind: 'answer', text: '{"value": tr', finish: 'length' }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
		const cut = await provider.complete(request);
		expect(cut.end.reason).toBe('length');
		await expect(provider.complete(request)).rejects.toThrow(/500/);
		const fresh = await provider.complete(request); // from the rules
		expect(fresh.cached).toBeUndefined();
		expect(typeof fresh.fetchedAt).toBe('string');
		const before = server.requests.length;
		const hit = await provider.complete(request);
		expect(server.requests.length).toBe(before);
		expect(hit).toMatchObject({ text: fresh.text, usage: fresh.usage, end: fresh.end, model: fresh.model, cached: true, fetchedAt: fresh.fetchedAt });

		const refusing = { ...request, system: 'other' };
		server.enqueue({ kind: 'refusal', text: 'I cannot help with that.' });
		expect((await provider.complete(refusing)).end.reason).toBe('refusal');
		expect(await provider.complete(refusing)).toMatchObject({ cached: true, refusal: 'I cannot help with that.', end: { reason: 'refusal' } });
	});

	test('a store that cannot be written never fails the call, and says so once', async () => {
		const blocker = path.join(await tempDir(), 'afile');
		await fs.writeFile(blocker, 'x');
		const errors: unknown[] = [];
		const provider = new CachingProvider(createProvider(request.model, { baseUrl: server.openaiBaseUrl, apiKey: 'k' }), new DiskResponseStore({ dir: blocker }), { onStoreError: (e) => errors.push(e) });
		for (const content of ['one', 'two']) {
			const r = await provider.complete({ ...request, messages: [{ role: 'user', content }] });
			expect(r.cached).toBeUndefined();
		}
		expect(server.requests).toHaveLength(2);
		expect(errors).toHaveLength(1);
		expect(String(errors[0])).toMatch(/ENOTDIR|EEXIST/);
	});

	test('folderWriteProblem says why a folder cannot be written, and nothing when it can', async () => {
		const dir = await tempDir();
		expect(folderWriteProblem(path.join(dir, 'new', 'responses'))).toBeUndefined();
		expect(await fs.readdir(path.join(dir, 'new', 'responses'))).toEqual([]); // created, probe removed
		const blocker = path.join(dir, 'afile');
		await fs.writeFile(blocker, 'x');
		expect(folderWriteProblem(blocker)).toBe(`${blocker} is a file, not a folder`);
		expect(folderWriteProblem(path.join(blocker, 'a', 'b'))).toBe(`${blocker} is a file, not a folder`);
	});

	test('a corrupted or foreign entry is a miss and is replaced, never an error', async () => {
		const dir = await tempDir();
		const store = new DiskResponseStore({ dir });
		const provider = new CachingProvider(createProvider(request.model, { baseUrl: server.openaiBaseUrl, apiKey: 'k' }), store);
		const file = store.fileOf(provider.keyOf(request));
		await fs.mkdir(path.dirname(file), { recursive: true });
		for (const broken of ['{"format":1,"key":"', '[]', JSON.stringify({ format: 1, key: 'other', fetchedAt: new Date().toISOString(), response: answer() })]) {
			await fs.writeFile(file, broken);
			server.reset();
			const response = await provider.complete(request);
			expect(response.cached).toBeUndefined();
			expect(server.requests).toHaveLength(1);
			expect(JSON.parse(await fs.readFile(file, 'utf8'))).toMatchObject({ key: provider.keyOf(request) });
		}
	});
});

describe('DiskResponseStore', () => {
	test('an entry fetched in the future (beyond 5 minutes of clock skew) is invalid: a miss, asked again and replaced', async () => {
		const dir = await tempDir();
		const store = new DiskResponseStore({ dir });
		const provider = new CachingProvider(createProvider(request.model, { baseUrl: server.openaiBaseUrl, apiKey: 'k' }), store);
		const key = provider.keyOf(request);
		await store.put(key, { fetchedAt: '2099-01-01T00:00:00.000Z', response: answer() });
		expect(await store.get(key)).toBeUndefined();
		const again = await provider.complete(request);
		expect(again.cached).toBeUndefined();
		expect(server.requests).toHaveLength(1);
		expect(Date.parse((await store.get(key))!.fetchedAt)).toBeLessThanOrEqual(Date.now());
		// A clock a little ahead (within the allowance) is not a reason to ask again.
		const soon = new Date(Date.now() + FUTURE_FETCH_SKEW_MS / 2).toISOString();
		await store.put(key, { fetchedAt: soon, response: answer() });
		expect((await store.get(key))?.fetchedAt).toBe(soon);
		await store.put(key, { fetchedAt: new Date(Date.now() + FUTURE_FETCH_SKEW_MS * 2).toISOString(), response: answer() });
		expect(await store.get(key)).toBeUndefined();
	});

	/** The disk space one stored answer takes here (whole blocks: 4 KiB on most file systems), and its length. */
	async function oneEntry(): Promise<{ allocated: number; length: number }> {
		const store = new DiskResponseStore({ dir: await tempDir() });
		await store.put('f'.repeat(64), { fetchedAt: new Date().toISOString(), response: answer() });
		const stat = await fs.stat(store.fileOf('f'.repeat(64)));
		return { allocated: allocatedBytes(stat), length: stat.size };
	}

	test('counts the disk space of its entries (allocated blocks, as du does), not their length', async () => {
		const { allocated, length } = await oneEntry();
		expect(allocated).toBeGreaterThan(length); // about 4 KiB for some 200 bytes
		const store = new DiskResponseStore({ dir: await tempDir() });
		for (let i = 0; i < 10; i++) await store.put(i.toString(16).padStart(64, 'a'), { fetchedAt: new Date().toISOString(), response: answer() });
		expect(await store.size()).toBe(10 * allocated);
		expect(await store.estimateSize()).toBe(10 * allocated); // a small cache is counted whole
	});

	test('evicts the least recently used entries past its bound of disk space, down to 80 % of it', async () => {
		const dir = await tempDir();
		const { allocated, length } = await oneEntry();
		const bound = allocated * 5 + 10;
		const store = new DiskResponseStore({ dir, maxBytes: bound });
		const keys = Array.from({ length: 8 }, (_, i) => i.toString(16).padStart(64, '0'));
		for (const [i, key] of keys.entries()) {
			await store.put(key, { fetchedAt: new Date().toISOString(), response: answer() });
			await store.idle();
			// Distinct use times (hours apart: use times have a resolution of TOUCH_AFTER_MS), oldest first; key 0 is
			// used again before the bound is passed.
			const t = new Date(Date.now() - (100 - i) * 3_600_000);
			await fs.utimes(store.fileOf(key), t, t);
			if (i === 3) expect(await store.get(keys[0])).toBeDefined();
		}
		// Counted by length, eight entries (some 1.7 KB) would fit a bound of five times 4 KiB: nothing would go.
		expect(8 * length).toBeLessThan(bound);
		const left = (await Promise.all(keys.map((k) => store.get(k)))).filter(Boolean).length;
		expect(left).toBe(4); // past 5 entries the cache went down to 80 % of the bound (4 entries), twice
		expect(await store.size()).toBeLessThanOrEqual(bound * EVICT_TO);
		expect(await store.get(keys[7])).toBeDefined();
		expect(await store.get(keys[0])).toBeDefined(); // recently used: kept
		expect(await store.get(keys[1])).toBeUndefined(); // least recently used: gone
	});

	test('the first count of a large cache reads a sample of its shard folders, within a few percent of the whole', async () => {
		const dir = await tempDir();
		const store = new DiskResponseStore({ dir });
		const text = (i: number) => JSON.stringify({ format: 1, key: 'k', fetchedAt: new Date().toISOString(), response: answer({ text: `{"value":true}${' '.repeat(i % 3000)}` }) });
		// 6,000 entries over the 256 shard folders, of 1 to 2 blocks each, written directly (faster than put).
		for (let i = 0; i < 6000; i++) {
			const key = createHash('sha256').update(String(i)).digest('hex');
			const file = store.fileOf(key);
			if (i < 256 || !(await fs.stat(path.dirname(file)).catch(() => undefined))) await fs.mkdir(path.dirname(file), { recursive: true });
			await fs.writeFile(file, text(i));
		}
		const estimate = await store.estimateSize();
		const exact = await store.size();
		expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.1);
		// Extrapolated from some of the folders (about a third of the entries), so not the exact count.
		expect(estimate).not.toBe(exact);
	});

	test('a hit touches its entry only when its last use is more than TOUCH_AFTER_MS ago: a rerun does not rewrite every entry', async () => {
		const store = new DiskResponseStore({ dir: await tempDir() });
		const [recent, old] = ['a'.repeat(64), 'b'.repeat(64)];
		for (const key of [recent, old]) await store.put(key, { fetchedAt: new Date().toISOString(), response: answer() });
		const recentTime = new Date(Date.now() - TOUCH_AFTER_MS / 2);
		const oldTime = new Date(Date.now() - TOUCH_AFTER_MS * 2);
		await fs.utimes(store.fileOf(recent), recentTime, recentTime);
		await fs.utimes(store.fileOf(old), oldTime, oldTime);
		expect(await store.get(recent)).toBeDefined();
		expect(await store.get(old)).toBeDefined();
		await new Promise((resolve) => setTimeout(resolve, 50)); // the touch is not awaited by `get`
		expect((await fs.stat(store.fileOf(recent))).mtimeMs).toBe(recentTime.getTime());
		expect((await fs.stat(store.fileOf(old))).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
	});

	test('two processes writing the same keys at once leave whole, readable entries', async () => {
		const dir = await tempDir();
		const script = `
			const { DiskResponseStore } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/lib/cache'))});
			const store = new DiskResponseStore({ dir: process.argv[1] });
			(async () => {
				for (let round = 0; round < 20; round++) {
					await Promise.all(Array.from({ length: 10 }, (_, i) => store.put(String(i).padStart(64, 'a'), {
						fetchedAt: new Date().toISOString(),
						response: { text: 'x'.repeat(5000) + process.pid, usage: { inputTokens: 1, outputTokens: 1 }, end: { reason: 'stop', providerReason: 'stop' } },
					})));
				}
			})().catch((e) => { console.error(e); process.exit(1); });`;
		const runOne = () =>
			new Promise<number | null>((resolve) => {
				const child = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
				child.on('close', resolve);
			});
		expect(await Promise.all([runOne(), runOne()])).toEqual([0, 0]);
		const store = new DiskResponseStore({ dir });
		for (let i = 0; i < 10; i++) {
			const entry = await store.get(String(i).padStart(64, 'a'));
			expect(entry?.response.text).toMatch(/^x{5000}\d+$/);
		}
		const leftovers = (await fs.readdir(path.join(dir, 'aa'))).filter((f) => f.endsWith('.tmp'));
		expect(leftovers).toEqual([]);
	});

	test('the background eviction takes the folder lock: it leaves when a live process holds it, takes over a stale one', async () => {
		const dir = await tempDir();
		const { allocated } = await oneEntry();
		const store = new DiskResponseStore({ dir });
		for (let i = 0; i < 10; i++) await store.put(i.toString(16).padStart(64, 'b'), { fetchedAt: new Date().toISOString(), response: answer() });
		const lock = path.join(dir, '.evicting');
		await fs.writeFile(lock, `${process.ppid}\n`); // an eviction under way in another live process
		await evictWithLock(dir, allocated * 5);
		expect(await store.size()).toBe(10 * allocated);
		expect(await fs.readFile(lock, 'utf8')).toBe(`${process.ppid}\n`);
		await fs.writeFile(lock, '4194305\n'); // its process is gone
		await evictWithLock(dir, allocated * 5);
		expect(await store.size()).toBeLessThanOrEqual(allocated * 5 * EVICT_TO);
		expect(await fs.stat(lock).catch(() => undefined)).toBeUndefined();
	});
});
