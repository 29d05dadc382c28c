/**
 * The response cache over the wire: `test` twice with nothing changed asks the model nothing the second time;
 * `--no-cache`, an edited prompt and `--repeat` ask again; old cached answers are refused by the gate.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DiskResponseStore } from '../../lib/cache';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { RunReport } from '../../lib/types';
import { cli, FIXED_TEMPLATE, listFiles, makeRegistry, newestStoredRun, promptYaml, readJson, RULES, serverEnv, tempDir, write } from './helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
});

afterAll(async () => {
	await server.close();
});

beforeEach(() => server.reset());

const completions = () => server.requests.filter((r) => r.method === 'POST').length;

async function setup(): Promise<{ cwd: string; cacheDir: string; env: Record<string, string> }> {
	const { cwd } = await makeRegistry();
	const cacheDir = path.join(await tempDir(), 'responses');
	return { cwd, cacheDir, env: serverEnv(server, { PROMPT_RELEASE_CACHE: 'on' }) };
}

/** The newest stored run: its summary document plus its results file (run format 2). */
async function newestRun(cwd: string): Promise<RunReport> {
	return newestStoredRun(path.join(cwd, 'prompts', 'price-change'));
}

test('a rerun with prompt, model and inputs unchanged sends 0 requests; every result says it came from the cache and when it was fetched', async () => {
	const { cwd, cacheDir, env } = await setup();
	const first = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--json'], cwd, env);
	expect(first.code).toBe(1); // `tricky` fails, as without a cache
	expect(completions()).toBe(4);
	expect(JSON.parse(first.stdout)).toMatchObject({ total: 4, cached: 0 });
	const fresh = await newestRun(cwd);
	expect(fresh.results.every((r) => !r.cached && typeof r.fetchedAt === 'string')).toBe(true);
	expect((await listFiles(cacheDir)).filter((f) => f.endsWith('.json') && !f.startsWith('parsed-yaml'))).toHaveLength(4);

	server.reset();
	const second = await cli(['test', 'price-change', '--cache-dir', cacheDir], cwd, env);
	expect(second.code).toBe(1);
	expect(server.requests).toHaveLength(0);
	expect(second.stdout).toMatch(/answers: 4 from the response cache \(fetched .*\), 0 fresh/);
	const cached = await newestRun(cwd);
	expect(cached.summary.cached).toBe(4);
	expect(cached.summary).toMatchObject({ total: 4, passed: 3, failed: 1 });
	for (const r of cached.results) {
		expect(r.cached).toBe(true);
		expect(r.fetchedAt).toBe(fresh.results.find((f) => f.fixtureId === r.fixtureId)!.fetchedAt);
		// The whole answer was kept: tokens, cost basis and how it ended.
		expect(r.inputTokens).toBe(fresh.results.find((f) => f.fixtureId === r.fixtureId)!.inputTokens);
		expect(r.finishReasons).toEqual(['stop']);
	}

	const report = await cli(['report', 'price-change', '--format', 'md'], cwd, env);
	expect(report.stdout).toMatch(/4 of 4 answers came from the response cache \(oldest fetched \S+\), not from the model during this run/);

	server.reset();
	const noCache = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--no-cache', '--json'], cwd, env);
	expect(completions()).toBe(4);
	expect(JSON.parse(noCache.stdout)).toMatchObject({ cached: 0 });
});

test('a rerun with every answer cached loads no provider SDK and reads the fixtures through the parse cache; an edited fixture is read afresh', async () => {
	const { cwd, cacheDir, env } = await setup();
	const loadedLog = path.join(await tempDir(), 'loaded.txt');
	// Records, at exit, which provider SDK modules the CLI process loaded.
	const hook = path.join(await tempDir(), 'hook.js');
	await fs.writeFile(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(loadedLog)}, Object.keys(require.cache).filter((f) => /node_modules[\\/](openai|@anthropic-ai)[\\/]/.test(f)).join('\\n')));`);
	const traced = { ...env, NODE_OPTIONS: `--require ${hook}` };
	const first = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--json'], cwd, traced);
	expect(JSON.parse(first.stdout)).toMatchObject({ total: 4, cached: 0 });
	expect(await fs.readFile(loadedLog, 'utf8')).toMatch(/openai/); // it called the model
	expect((await listFiles(path.join(cacheDir, 'parsed-yaml'))).filter((f) => f.endsWith('.json'))).toHaveLength(1);

	server.reset();
	const second = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--json'], cwd, traced);
	expect(JSON.parse(second.stdout)).toMatchObject({ total: 4, cached: 4, passed: 3 });
	expect(server.requests).toHaveLength(0);
	expect(await fs.readFile(loadedLog, 'utf8')).toBe('');

	// An edited fixture is read as it is now, not as cached: `tricky` expects what the model says and passes.
	const tricky = path.join(cwd, 'prompts/price-change/fixtures/tricky.yaml');
	const text = await fs.readFile(tricky, 'utf8');
	const flipped = text.replace(/"expected": (true|false)/, (_m, v: string) => `"expected": ${v === 'true' ? 'false' : 'true'}`);
	expect(flipped).not.toBe(text);
	await fs.writeFile(tricky, flipped);
	const third = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--json'], cwd, traced);
	expect(JSON.parse(third.stdout)).toMatchObject({ total: 4, cached: 4, passed: 4, failed: 0 });
	expect(third.code).toBe(0);
});

test('an edited prompt is a different request: it misses; --repeat 3 stays 3 calls per fixture', async () => {
	const { cwd, cacheDir, env } = await setup();
	await cli(['test', 'price-change', '--cache-dir', cacheDir], cwd, env);
	expect(completions()).toBe(4);

	server.reset();
	await write(cwd, 'prompts/price-change/prompt.yaml', (await fs.readFile(path.join(cwd, 'prompts/price-change/prompt.yaml'), 'utf8')).replace('Subject: {{subject}}', FIXED_TEMPLATE.split('\n')[0] + '\n  Subject: {{subject}}'));
	const edited = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--version', 'draft', '--json'], cwd, env);
	expect(completions()).toBe(4);
	expect(JSON.parse(edited.stdout)).toMatchObject({ cached: 0, failed: 0 });

	// Attempt 1 may reuse the single run's answer; attempts 2 and 3 are new calls: 8 requests, not 0.
	server.reset();
	await cli(['test', 'price-change', '--cache-dir', cacheDir, '--version', 'draft', '--repeat', '3'], cwd, env);
	expect(completions()).toBe(8);
	// …and a rerun of the repeat run replays the answers the three attempts got.
	server.reset();
	await cli(['test', 'price-change', '--cache-dir', cacheDir, '--version', 'draft', '--repeat', '3'], cwd, env);
	expect(completions()).toBe(0);
});

test('with --repeat, each result and the summary say which answers came from the cache and which were asked for', async () => {
	const { cwd, cacheDir, env } = await setup();
	await cli(['test', 'price-change', '--cache-dir', cacheDir], cwd, env);
	expect(completions()).toBe(4);

	// Attempt 1 reuses the single run's answer; attempts 2 and 3 are asked for: 4 cached, 8 fresh.
	server.reset();
	const repeated = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--repeat', '3', '--json'], cwd, env);
	expect(completions()).toBe(8);
	expect(JSON.parse(repeated.stdout)).toMatchObject({ total: 4, cached: 0, calls: { total: 12, cached: 4, fresh: 8, batched: 0 } });
	const partly = await newestRun(cwd);
	for (const r of partly.results) {
		expect(r).toMatchObject({ calls: 3, cachedCalls: 1 });
		expect(r.cached).toBeUndefined(); // not every answer behind it came from the cache
	}

	server.reset();
	const replayed = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--repeat', '3'], cwd, env);
	expect(completions()).toBe(0);
	expect(replayed.stdout).toMatch(/answers: 12 from the response cache \(fetched .*\), 0 fresh\n/);
	const whole = await newestRun(cwd);
	expect(whole.summary).toMatchObject({ cached: 4, calls: { total: 12, cached: 12, fresh: 0, batched: 0 } });
	for (const r of whole.results) expect(r).toMatchObject({ calls: 3, cachedCalls: 3, cached: true });
});

test('a cache folder that cannot be written: one warning naming it and why, and the run goes on without the cache', async () => {
	const { cwd, env } = await setup();
	const blocker = path.join(await tempDir(), 'afile');
	await fs.writeFile(blocker, 'not a folder');
	for (const cacheDir of [blocker, path.join(blocker, 'responses')]) {
		for (let run = 0; run < 2; run++) {
			server.reset();
			const result = await cli(['test', 'price-change', '--cache-dir', cacheDir], cwd, env);
			expect(result.code).toBe(1); // `tricky` fails, as with a cache
			expect(completions()).toBe(4); // every run asks: nothing was cached
			const warnings = result.stderr.split('\n').filter((l) => l.startsWith('warning:'));
			expect(warnings).toEqual([`warning: the response cache is off for this run: its folder ${cacheDir} cannot be written (${blocker} is a file, not a folder). Give a writable folder with --cache-dir or PROMPT_RELEASE_CACHE_DIR, or turn the cache off with --no-cache.`]);
			expect(result.stdout).toContain(`answers: no response cache (${cacheDir} cannot be written)`);
			expect(result.stdout).toMatch(/answers: 0 from the response cache, 4 fresh/);
		}
	}
	expect(await fs.readFile(blocker, 'utf8')).toBe('not a folder');
	// --no-cache needs no folder: no warning.
	const off = await cli(['test', 'price-change', '--cache-dir', blocker, '--no-cache'], cwd, env);
	expect(off.stderr).not.toMatch(/warning:/);
});

test('--batch with a cache folder that cannot be written stops before anything is submitted: the batch id could not be kept', async () => {
	const { cwd, env } = await setup();
	const blocker = path.join(await tempDir(), 'afile');
	await fs.writeFile(blocker, 'not a folder');
	for (const extra of [[], ['--no-cache']]) {
		server.reset();
		const result = await cli(['test', 'price-change', '--batch', '--cache-dir', blocker, ...extra], cwd, { ...env, PROMPT_RELEASE_BATCH_POLL_MS: '10' });
		expect(result.code).toBe(2);
		expect(result.stderr).toContain(
			`--batch keeps the id of each submitted batch in ${blocker}/batches so that an interrupted run can resume it without paying twice, but that folder cannot be written (${blocker} is a file, not a folder): give a writable folder with --cache-dir`,
		);
		expect(result.stderr).not.toMatch(/ENOTDIR|EEXIST/);
		expect(server.requests).toHaveLength(0);
		expect(server.batchCount()).toBe(0);
	}
});

test('a cache entry that says it was fetched in the future is not trusted: that answer is asked again and replaced', async () => {
	const { cwd, cacheDir, env } = await setup();
	await cli(['test', 'price-change', '--cache-dir', cacheDir], cwd, env);
	const [file] = (await listFiles(cacheDir)).filter((f) => f.endsWith('.json') && !f.startsWith('batches') && !f.startsWith('parsed-yaml'));
	const entry = await readJson<{ fetchedAt: string }>(path.join(cacheDir, file));
	await fs.writeFile(path.join(cacheDir, file), JSON.stringify({ ...entry, fetchedAt: '2099-01-01T00:00:00.000Z' }));
	server.reset();
	const rerun = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--json'], cwd, env);
	expect(completions()).toBe(1);
	expect(JSON.parse(rerun.stdout)).toMatchObject({ cached: 3, calls: { total: 4, cached: 3, fresh: 1 } });
	const run = await newestRun(cwd);
	expect(run.results.every((r) => Date.parse(r.fetchedAt!) <= Date.now())).toBe(true);
	expect(Date.parse((await readJson<{ fetchedAt: string }>(path.join(cacheDir, file))).fetchedAt)).toBeLessThanOrEqual(Date.now());
});

test('the gate refuses a run built on cached answers older than maxEvidenceAgeHours, naming them; --no-cache fixes it', async () => {
	const { cwd, cacheDir, env } = await setup();
	await write(cwd, 'prompts/price-change/prompt.yaml', (await fs.readFile(path.join(cwd, 'prompts/price-change/prompt.yaml'), 'utf8')).replace('Subject: {{subject}}', FIXED_TEMPLATE.split('\n')[0] + '\n  Subject: {{subject}}'));
	expect((await cli(['commit', 'price-change', '-m', 'v1'], cwd, env)).code).toBe(0);
	expect((await cli(['test', 'price-change', '--version', '1', '--cache-dir', cacheDir], cwd, env)).code).toBe(0);
	// Age two cached answers by three days, as if they had been fetched then.
	const old = new Date(Date.now() - 72 * 3_600_000).toISOString();
	const files = (await listFiles(cacheDir)).filter((f) => f.endsWith('.json') && !f.startsWith('batches') && !f.startsWith('parsed-yaml'));
	const aged: string[] = [];
	for (const f of files.slice(0, 2)) {
		const file = path.join(cacheDir, f);
		const entry = await readJson<{ fetchedAt: string; response: { text: string } }>(file);
		await fs.writeFile(file, JSON.stringify({ ...entry, fetchedAt: old }));
		aged.push(entry.response.text);
	}
	expect((await cli(['test', 'price-change', '--version', '1', '--cache-dir', cacheDir], cwd, env)).code).toBe(0);
	const gate = await cli(['gate', 'price-change', '--version', '1'], cwd, env);
	expect(gate.code).toBe(1);
	expect(gate.stdout).toMatch(/\[maxEvidenceAgeHours\] run \S+ used cached answers older than maxEvidenceAgeHours 24: /);
	expect(gate.stdout).toContain(`fetched ${old}`);
	expect(gate.stdout).toContain('--no-cache');
	const run = await newestRun(cwd);
	const stale = run.results.filter((r) => r.fetchedAt === old).map((r) => r.fixtureId);
	expect(stale.length).toBeGreaterThanOrEqual(1);
	for (const id of stale) expect(gate.stdout).toContain(`${id} (fetched ${old}`);

	// A registry that accepts older evidence says so in its policy.
	await write(cwd, 'prompts/price-change/policy.yaml', 'maxEvidenceAgeHours: 100\n');
	expect((await cli(['gate', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
	await write(cwd, 'prompts/price-change/policy.yaml', 'maxEvidenceAgeHours: -1\n');
	const bad = await cli(['gate', 'price-change', '--version', '1'], cwd, env);
	expect(bad.code).toBe(2);
	expect(bad.stderr).toMatch(/policy\.yaml.*maxEvidenceAgeHours/);
	await fs.rm(path.join(cwd, 'prompts/price-change/policy.yaml'));

	expect((await cli(['test', 'price-change', '--version', '1', '--cache-dir', cacheDir, '--no-cache'], cwd, env)).code).toBe(0);
	expect((await cli(['gate', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
});

test('past its bound of disk space the cache is evicted by a background process, never by the run: the cache shrinks after it, the new answers stay', async () => {
	const { cwd, cacheDir, env } = await setup();
	// 3,000 answers fetched days ago: 3,000 blocks of disk space (12 MB with 4 KiB blocks), far past a bound of 4 MB.
	const old = new Date(Date.now() - 3 * 86_400_000);
	for (let i = 0; i < 3000; i++) {
		const key = createHash('sha256').update(`old-${i}`).digest('hex');
		const file = path.join(cacheDir, key.slice(0, 2), `${key}.json`);
		await fs.mkdir(path.dirname(file), { recursive: true });
		await fs.writeFile(file, JSON.stringify({ format: 1, key, fetchedAt: old.toISOString(), response: { text: '{"value":true}', usage: { inputTokens: 1, outputTokens: 1 }, end: { reason: 'stop', providerReason: 'stop' } } }));
		await fs.utimes(file, old, old);
	}
	const bound = 4 * 1024 * 1024;
	const store = new DiskResponseStore({ dir: cacheDir, maxBytes: bound });
	const lock = path.join(cacheDir, '.evicting');
	// While another process evicts (its lock, naming a live process: this one), a run leaves eviction to it:
	// it never evicts in its own process, so the run ends without deleting anything.
	await fs.writeFile(lock, `${process.pid}\n`);
	const first = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--json'], cwd, { ...env, PROMPT_RELEASE_CACHE_MAX_MB: '4' });
	expect(first.code).toBe(1);
	expect(completions()).toBe(4);
	expect(await store.size()).toBeGreaterThan(bound);
	await fs.rm(lock);
	// The next run that writes answers (an edited template: 4 new requests) starts the background eviction and
	// returns; the cache shrinks after, and the lock is released.
	await write(cwd, 'prompts/price-change/prompt.yaml', promptYaml({ template: FIXED_TEMPLATE }));
	const second = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--json'], cwd, { ...env, PROMPT_RELEASE_CACHE_MAX_MB: '4' });
	expect(second.code).toBe(0);
	expect(completions()).toBe(8);
	for (let i = 0; i < 600 && ((await store.size()) > bound * 0.8 || (await fs.stat(lock).catch(() => undefined))); i++) await new Promise((r) => setTimeout(r, 100));
	expect(await store.size()).toBeLessThanOrEqual(bound * 0.8);
	expect(await fs.stat(lock).catch(() => undefined)).toBeUndefined();
	// The least recently used went: the answers of the runs just made are still there.
	server.reset();
	const again = await cli(['test', 'price-change', '--cache-dir', cacheDir, '--json'], cwd, { ...env, PROMPT_RELEASE_CACHE_MAX_MB: '4' });
	expect(JSON.parse(again.stdout)).toMatchObject({ total: 4, cached: 4 });
	expect(completions()).toBe(0);
});
