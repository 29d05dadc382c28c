/**
 * `test --batch` against the loopback server's batch endpoints (OpenAI Batch, Anthropic Message Batches):
 * the same report as a direct run at half the cost, and an interrupted run resumes its batch instead of
 * submitting (and paying for) a second one.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { RunReport } from '../../lib/types';
import { CLI, cleanEnv, cli, exists, makeRegistry, readJson, RULES, serverEnv, storedRuns, tempDir, write } from './helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
});

afterAll(async () => {
	await server.close();
});

beforeEach(() => {
	server.reset();
	server.setBatchPolls(1);
});

const PRICES = 'models:\n  "openai:gpt-4o-mini": {input: 1000000, output: 2000000}\n  "anthropic:claude-haiku-4-5": {input: 1000000, output: 2000000}\n';

/** The stored runs, oldest first: each a summary document plus its results file (run format 2). */
async function runs(cwd: string): Promise<RunReport[]> {
	return storedRuns(path.join(cwd, 'prompts', 'price-change'));
}

const batchEnv = (extra: Record<string, string> = {}) => serverEnv(server, { PROMPT_RELEASE_BATCH_POLL_MS: '10', ...extra });

for (const provider of ['openai', 'anthropic'] as const) {
	test(`${provider}: --batch builds the same report as a direct run, at half the cost`, async () => {
		const { cwd } = await makeRegistry();
		if (provider === 'anthropic') {
			const file = path.join(cwd, 'prompts/price-change/prompt.yaml');
			await write(cwd, 'prompts/price-change/prompt.yaml', (await fs.readFile(file, 'utf8')).replace('provider: openai', 'provider: anthropic').replace('gpt-4o-mini', 'claude-haiku-4-5'));
		}
		await write(cwd, 'prompts/pricing.yaml', PRICES);
		const cacheDir = path.join(await tempDir(), 'c');
		const direct = await cli(['test', 'price-change', '--no-cache'], cwd, batchEnv());
		expect(direct.code).toBe(1);
		server.reset();
		const batched = await cli(['test', 'price-change', '--batch', '--cache-dir', cacheDir], cwd, batchEnv());
		expect(batched.code).toBe(1);
		expect(batched.stderr).toMatch(/submitted .*batch .* answered/);
		expect(batched.stdout).toMatch(/4 through the batch API \(half price\); batch /);
		const created = server.requests.filter((r) => r.method === 'POST').map((r) => r.path);
		expect(created).toEqual(provider === 'openai' ? ['/v1/files', '/v1/batches'] : ['/v1/messages/batches']);
		expect(server.batchCount()).toBe(1);

		const [a, b] = await runs(cwd);
		expect(b.batchIds).toHaveLength(1);
		expect(b.summary).toMatchObject({ total: 4, passed: a.summary.passed, failed: a.summary.failed, batched: 4 });
		for (const r of b.results) {
			const d = a.results.find((x) => x.fixtureId === r.fixtureId)!;
			expect({ actual: r.actual, passed: r.passed, valid: r.valid, inputTokens: r.inputTokens, outputTokens: r.outputTokens, finishReasons: r.finishReasons }).toEqual({
				actual: d.actual,
				passed: d.passed,
				valid: d.valid,
				inputTokens: d.inputTokens,
				outputTokens: d.outputTokens,
				finishReasons: d.finishReasons,
			});
			expect(r.batch).toBe(true);
			expect(r.costUsd).toBeCloseTo(d.costUsd / 2, 6);
		}
		expect(b.summary.costUsd).toBeCloseTo(a.summary.costUsd / 2, 6);
		const report = await cli(['report', 'price-change', b.runId, '--format', 'md'], cwd, {});
		expect(report.stdout).toContain(`4 of 4 answers came through the provider's batch API (${b.batchIds![0]}), priced at half the list price`);
		// Nothing pending is left once the answers are read.
		expect(await fs.readdir(path.join(cacheDir, 'batches')).catch(() => [])).toEqual([]);
	});
}

test('a --batch rerun answered from the response cache sends nothing and counts nothing as sent through the batch API', async () => {
	const { cwd } = await makeRegistry();
	await write(cwd, 'prompts/pricing.yaml', PRICES);
	const cacheDir = path.join(await tempDir(), 'c');
	const env = batchEnv({ PROMPT_RELEASE_CACHE: 'on' });
	const first = await cli(['test', 'price-change', '--batch', '--cache-dir', cacheDir], cwd, env);
	expect(first.stdout).toMatch(/answers: 0 from the response cache, 4 fresh, 4 through the batch API \(half price\); batch /);
	server.reset();
	const rerun = await cli(['test', 'price-change', '--batch', '--cache-dir', cacheDir], cwd, env);
	expect(rerun.code).toBe(1);
	expect(server.requests).toHaveLength(0);
	expect(rerun.stdout).toMatch(/answers: 4 from the response cache \(fetched .*\), 0 fresh\n/);
	expect(rerun.stdout).not.toMatch(/through the batch API/);
	const [a, b] = await runs(cwd);
	expect(b.batchIds).toBeUndefined();
	expect(b.summary.batched).toBeUndefined();
	expect(b.summary).toMatchObject({ cached: 4, calls: { total: 4, cached: 4, fresh: 0, batched: 0 } });
	for (const r of b.results) expect(r.batch).toBeUndefined();
	// The cost is what the answers cost when they were fetched: at the batch price.
	expect(b.summary.costUsd).toBeCloseTo(a.summary.costUsd, 8);
	const report = await cli(['report', 'price-change', b.runId, '--format', 'md'], cwd, {});
	expect(report.stdout).not.toMatch(/came through the provider's batch API/);
	expect(report.stdout).toContain('4 of 4 answers came from the response cache');
});

test('a failing line fails only its fixture, classified like a direct call (429 → retryable)', async () => {
	const { cwd } = await makeRegistry();
	server.enqueue({ kind: 'status', status: 429 });
	const result = await cli(['test', 'price-change', '--batch', '--no-cache'], cwd, batchEnv());
	expect(result.code).toBe(1);
	const [run] = await runs(cwd);
	const failed = run.results.filter((r) => r.retryable);
	expect(failed).toHaveLength(1);
	expect(failed[0].reason).toMatch(/provider error: .*429/);
});

test('interrupted with Ctrl-C while polling, the same command resumes the stored batch instead of submitting another', async () => {
	const { cwd } = await makeRegistry();
	const cacheDir = path.join(await tempDir(), 'c');
	server.setBatchPolls(1_000_000);
	const child = spawn(process.execPath, [CLI, 'test', 'price-change', '--batch', '--cache-dir', cacheDir], { cwd, env: cleanEnv(batchEnv()), stdio: ['ignore', 'pipe', 'pipe'] });
	let stderr = '';
	child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
	const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
	for (let i = 0; i < 500 && !((await fs.readdir(path.join(cacheDir, 'batches')).catch(() => [])).length && server.requests.some((r) => r.method === 'GET')); i++) {
		await new Promise((r) => setTimeout(r, 20));
	}
	child.kill('SIGINT');
	expect(await exited).toBe(130);
	expect(stderr).toMatch(/interrupted by SIGINT: nothing was stored; the batch keeps running at the provider \(batch \S+\) and its id is kept in the cache folder: run the same command again to resume it without paying twice\./);
	expect(server.batchCount()).toBe(1);
	const [pending] = await fs.readdir(path.join(cacheDir, 'batches'));
	const state = await readJson<{ batchId: string; customIds: string[] }>(path.join(cacheDir, 'batches', pending));
	expect(state.customIds).toHaveLength(4);
	expect(await exists(path.join(cwd, 'prompts/price-change/runs'))).toBe(false);

	server.setBatchPolls(0);
	const resumed = await cli(['test', 'price-change', '--batch', '--cache-dir', cacheDir], cwd, batchEnv());
	expect(resumed.code).toBe(1);
	expect(resumed.stderr).toMatch(new RegExp(`resumed .*batch ${state.batchId}`));
	expect(server.batchCount()).toBe(1); // no second batch
	const [run] = await runs(cwd);
	expect(run.batchIds).toEqual([state.batchId]);
	expect(run.summary).toMatchObject({ total: 4, passed: 3, batched: 4 });
	expect(await fs.readdir(path.join(cacheDir, 'batches'))).toEqual([]);
});

/** Start `test --batch` with a batch that never ends, wait until its id is saved and polled, then Ctrl-C it. */
async function interruptedBatch(cwd: string, cacheDir: string, at: ModelServer = server): Promise<{ batchId: string }> {
	at.setBatchPolls(1_000_000);
	const env = serverEnv(at, { PROMPT_RELEASE_BATCH_POLL_MS: '10' });
	const child = spawn(process.execPath, [CLI, 'test', 'price-change', '--batch', '--cache-dir', cacheDir], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
	const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
	for (let i = 0; i < 500 && !((await fs.readdir(path.join(cacheDir, 'batches')).catch(() => [])).length && at.requests.some((r) => r.method === 'GET')); i++) {
		await new Promise((r) => setTimeout(r, 20));
	}
	child.kill('SIGINT');
	expect(await exited).toBe(130);
	const [pending] = await fs.readdir(path.join(cacheDir, 'batches'));
	return readJson<{ batchId: string }>(path.join(cacheDir, 'batches', pending));
}

test('a saved batch the provider no longer knows (server restarted) is dropped with a notice and the run submits anew', async () => {
	const { cwd } = await makeRegistry();
	const cacheDir = path.join(await tempDir(), 'c');
	const { batchId } = await interruptedBatch(cwd, cacheDir);
	server.reset(); // the restarted server has forgotten the batch
	server.setBatchPolls(0);
	const rerun = await cli(['test', 'price-change', '--batch', '--cache-dir', cacheDir], cwd, batchEnv());
	expect(rerun.stderr).not.toMatch(/nothing answers/);
	expect(rerun.code).toBe(1); // `tricky` fails: a normal test result
	expect(rerun.stderr).toMatch(new RegExp(`warning: batch ${batchId} \\(saved .*\\) is unknown to openai batch at .*HTTP 404.*dropped .*submitted anew`));
	expect(server.batchCount()).toBe(1);
	const [run] = await runs(cwd);
	expect(run.batchIds).toEqual(server.batchIds());
	expect(run.summary).toMatchObject({ total: 4, passed: 3 });
	expect(await fs.readdir(path.join(cacheDir, 'batches'))).toEqual([]);
});

test('a saved batch whose server cannot be reached is kept: the run stops and says to run again to resume it', async () => {
	const { cwd } = await makeRegistry();
	const cacheDir = path.join(await tempDir(), 'c');
	const own = await startModelServer({ rules: RULES });
	const env = serverEnv(own, { PROMPT_RELEASE_BATCH_POLL_MS: '10' });
	const { batchId } = await interruptedBatch(cwd, cacheDir, own);
	await own.close(); // nothing listens at that base URL any more
	const rerun = await cli(['test', 'price-change', '--batch', '--cache-dir', cacheDir, '--max-retries', '0'], cwd, env);
	expect(rerun.code).toBe(2);
	expect(rerun.stderr).toMatch(new RegExp(`lost contact with openai batch at .*, batch ${batchId}: could not connect .*The batch keeps running at the provider: run the same command again to resume it`));
	expect(rerun.stderr).not.toMatch(/warning:|submitted anew/);
	expect(await fs.readdir(path.join(cacheDir, 'batches'))).toHaveLength(1);
});

test('drift --batch and migrate --batch go through the batch API too', async () => {
	const { cwd } = await makeRegistry({ fixtures: [
		{ id: 'increase', subject: 'Price increase from March', body: 'All items +4% from 1 March.', expected: true },
		{ id: 'delay', subject: 'Delivery update', body: 'Your order ships on Thursday.', expected: false },
	] });
	const env = batchEnv();
	expect((await cli(['commit', 'price-change', '-m', 'v1'], cwd, env)).code).toBe(0);
	expect((await cli(['test', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
	expect((await cli(['release', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
	server.reset();
	const drift = await cli(['drift', 'price-change', '--batch', '--json'], cwd, env);
	expect(drift.code).toBe(0);
	expect(JSON.parse(drift.stdout)).toMatchObject({ changed: false, compared: 2, run: { batchIds: [expect.any(String)], summary: { batched: 2 } } });
	expect(server.batchCount()).toBe(1);

	server.reset();
	const migrate = await cli(['migrate', 'price-change', '--model', 'anthropic:claude-haiku-4-5', '--batch', '--no-cache'], cwd, env);
	expect(migrate.code).toBe(0);
	expect(migrate.stdout).toMatch(/answers: 0 from the response cache, 2 fresh, 2 through the batch API \(half price\); batch msgbatch_/);
	expect(server.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/v1/messages/batches']);
});
