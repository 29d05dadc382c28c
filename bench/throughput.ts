/**
 * Throughput benchmarks (issue table; results in bench/RESULTS.md), all against the loopback model server:
 * - test overhead: a raw openai-SDK loop vs this project's streamed run (fixtures read from a folder registry,
 *   results written as JSON lines), same server, concurrency 16, at 200 ms and 0 ms model latency;
 * - rate limits: the server enforcing 20 requests/s and a tokens-per-minute budget; sustained throughput and
 *   share of 429s through the adaptive limiter;
 * - peak RSS of `prompt-release test` in a child process (VmHWM = maxRSS, bench/child.ts) as fixtures grow;
 * - Record Correction from 8 processes on a folder registry, as fixtures grow.
 * Sizes: BENCH_SIZES (default "1000,10000"), BENCH_RSS_SIZES (default "1000,10000,100000").
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import OpenAI from 'openai';
import pLimit from 'p-limit';
import { FileRegistryStore } from '../lib/registry/file-store';
import { resolvePrompt } from '../lib/registry/resolve';
import { streamFixtureRun } from '../lib/streamed-run';
import { createProvider } from '../lib/providers';
import { startModelServer, type ModelServer } from '../lib/testing/model-server';
import { limiterStats, resetLimiters } from '../lib/throughput/shared-limiters';
import { toYaml } from '../lib/yaml-io';
import { runChild } from './child';

const ROOT = path.join(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'bin', 'prompt-release.js');
export const RULES = { models: ['test-model'], rules: [{ prompt: 'price-change', when: 'increase', value: true }, { prompt: 'price-change', value: false }] };
export const CONCURRENCY = 16;

/** The i-th supplier email of the benchmark set: every third one announces a price increase. */
export function email(i: number): { subject: string; body: string } {
	const up = i % 3 === 0;
	return {
		subject: `${up ? 'Price increase' : 'Order confirmation'} – supplier ${i % 97}`,
		body: `Dear Purchasing Team,\n\n${up ? 'from next month we increase the unit price of coil grade S235 by 4 %.' : 'we confirm your order; prices stay as agreed.'}\nOrder ${100000 + i}, 24 tonnes, delivery week ${(i % 52) + 1}.\n\nKind regards,\nSupplier ${i % 97}`,
	};
}

/** A folder registry with one prompt (openai, test-model) and `n` supplier-email fixtures. */
export function makeRegistry(n: number): string {
	const root = mkdtempSync(path.join(tmpdir(), 'prompt-release-bench-'));
	const dir = path.join(root, 'price-change');
	mkdirSync(path.join(dir, 'fixtures'), { recursive: true });
	const spec = {
		id: 'price-change',
		description: 'Does the supplier email announce a change of unit price?',
		model: { provider: 'openai', name: 'test-model', temperature: 0, maxTokens: 20 },
		inputs: { subject: { type: 'string', required: true }, body: { type: 'string', required: true } },
		instructions: 'You read one email from a supplier. Answer with JSON only: {"value": true} or {"value": false}.',
		template: 'Subject: {{subject}}\n\n{{body}}',
		output: { type: 'boolean' },
	};
	writeFileSync(path.join(dir, 'prompt.yaml'), toYaml(spec));
	for (let i = 0; i < n; i++) {
		const id = `case-${String(i).padStart(6, '0')}`;
		writeFileSync(path.join(dir, 'fixtures', `${id}.yaml`), toYaml({ id, inputs: email(i), expected: i % 3 === 0, source: 'import' }));
	}
	return root;
}

/** The raw baseline: the openai SDK's chat.completions.create in a p-limit loop, same body shape as the project's calls. */
export async function rawLoop(server: ModelServer, n: number): Promise<number> {
	const client = new OpenAI({ baseURL: server.openaiBaseUrl, apiKey: 'bench' });
	const limit = pLimit(CONCURRENCY);
	const schema = { type: 'object', properties: { value: { type: 'boolean' } }, required: ['value'], additionalProperties: false };
	const t = performance.now();
	await Promise.all(
		Array.from({ length: n }, (_, i) =>
			limit(async () => {
				const e = email(i);
				const r = await client.chat.completions.create({
					model: 'test-model',
					messages: [
						{ role: 'system', content: 'You read one email from a supplier. Answer with JSON only: {"value": true} or {"value": false}.' },
						{ role: 'user', content: `Subject: ${e.subject}\n\n${e.body}` },
					],
					response_format: { type: 'json_schema', json_schema: { name: 'price-change', schema, strict: true } },
					max_completion_tokens: 20,
					temperature: 0,
				});
				JSON.parse(r.choices[0].message.content ?? '{}');
			}),
		),
	);
	return performance.now() - t;
}

/** This project's run: fixtures streamed from the folder registry, results written as JSON lines, summary committed. */
async function projectRun(root: string, server: ModelServer): Promise<number> {
	const store = new FileRegistryStore(root);
	const t = performance.now();
	const resolved = await resolvePrompt(store, 'price-change', { version: 'draft' });
	const provider = createProvider(resolved.spec.model, { baseUrl: server.openaiBaseUrl, apiKey: 'bench' });
	const runId = `bench-${Date.now()}`;
	const writer = await store.createRunWriter('price-change', runId);
	const header = await streamFixtureRun({ resolved, fixtures: store.streamFixtures('price-change', resolved.spec), provider, concurrency: CONCURRENCY, runId, sink: (r) => writer.append(r) });
	await writer.commit(header);
	return performance.now() - t;
}

export interface OverheadFigure {
	fixtures: number;
	latencyMs: number;
	rawMs: number;
	projectMs: number;
	ratio: number;
}

export async function testOverhead(n: number, latencyMs: number): Promise<OverheadFigure> {
	const root = makeRegistry(n);
	const server = await startModelServer({ rules: RULES, latencyMs, record: false });
	try {
		resetLimiters();
		await rawLoop(server, Math.min(n, 200)); // warm-up: connections, JIT
		const rawMs = await rawLoop(server, n);
		const projectMs = await projectRun(root, server);
		return { fixtures: n, latencyMs, rawMs: Math.round(rawMs), projectMs: Math.round(projectMs), ratio: Number((projectMs / rawMs).toFixed(3)) };
	} finally {
		await server.close();
		rmSync(root, { recursive: true, force: true });
	}
}

export interface RateLimitFigure {
	limitPerSecond: number;
	tokensPerMinute: number;
	requests: number;
	sustainedPerSecond: number;
	shareOfLimit: number;
	rateLimited: number;
	share429: number;
	failed: number;
}

/** 400 fixtures at 200 ms latency, concurrency 16, against a server allowing 20 requests/s and `tpm` tokens/min. */
export async function rateLimited(n = 400, rps = 20, tpm = 150_000): Promise<RateLimitFigure> {
	const root = makeRegistry(n);
	const server = await startModelServer({ rules: RULES, latencyMs: 200, record: false, rateLimit: { requestsPerSecond: rps, tokensPerMinute: tpm } });
	try {
		resetLimiters();
		const store = new FileRegistryStore(root);
		const resolved = await resolvePrompt(store, 'price-change', { version: 'draft' });
		const provider = createProvider(resolved.spec.model, { baseUrl: server.openaiBaseUrl, apiKey: 'bench', maxRetries: 6 });
		let failed = 0;
		const t = performance.now();
		await streamFixtureRun({ resolved, fixtures: store.streamFixtures('price-change', resolved.spec), provider, concurrency: CONCURRENCY, sink: (r) => void (r.valid ? 0 : failed++) });
		const seconds = (performance.now() - t) / 1000;
		const stats = Object.values(limiterStats())[0];
		const sustained = n / seconds;
		return {
			limitPerSecond: rps,
			tokensPerMinute: tpm,
			requests: server.completions,
			sustainedPerSecond: Number(sustained.toFixed(2)),
			shareOfLimit: Number((sustained / rps).toFixed(3)),
			rateLimited: server.rateLimitRejections,
			share429: Number((server.rateLimitRejections / Math.max(1, server.completions)).toFixed(4)),
			failed,
			...(stats ? {} : {}),
		};
	} finally {
		await server.close();
		rmSync(root, { recursive: true, force: true });
	}
}

/**
 * Peak RSS (MB) of `prompt-release test --no-cache` over `n` fixtures in a child process, 0 ms latency
 * (VmHWM, the kernel's maxRSS, read while it runs). Killed after BENCH_RSS_TIMEOUT_S (default 600 s): the
 * figure is then the peak so far and `finished` is false.
 */
export async function testRss(n: number): Promise<{ fixtures: number; maxRssMb: number; seconds: number; exit: number | null; finished: boolean }> {
	const root = makeRegistry(n);
	const server = await startModelServer({ rules: RULES, record: false });
	try {
		const r = await runChild(process.execPath, [CLI, 'test', 'price-change', '--json', '--no-cache', '--concurrency', String(CONCURRENCY), '--registry', root], {
			env: { ...process.env, OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: 'bench' },
			timeoutMs: Number(process.env.BENCH_RSS_TIMEOUT_S ?? 600) * 1000,
		});
		return { fixtures: n, maxRssMb: r.peakRssMb, seconds: Math.round(r.wallMs / 1000), exit: r.exit, finished: !r.timedOut };
	} finally {
		await server.close();
		rmSync(root, { recursive: true, force: true });
	}
}

/**
 * Record Correction from 8 processes × `each` corrections (half on inputs all processes share) on a folder
 * registry of `n` fixtures. As in the PostgreSQL bench, processes start first and are told to go together:
 * the figure is corrections per second from "go" to the last one done (process start-up is not measured).
 */
export async function corrections(n: number, each = 125): Promise<{ fixtures: number; perSecond: number; lost: number; duplicated: number }> {
	const root = makeRegistry(n);
	const lib = path.join(ROOT, 'dist', 'lib');
	const worker = `
const { FileRegistryStore } = require(${JSON.stringify(path.join(lib, 'registry', 'file-store.js'))});
const { recordCorrection } = require(${JSON.stringify(path.join(lib, 'corrections.js'))});
const [root, w, each] = process.argv.slice(1);
(async () => {
  const store = new FileRegistryStore(root);
  await store.findFixtureByInputs('price-change', {}); // the index exists before timing (built once per registry)
  await new Promise((resolve) => { process.once('message', resolve); process.send('ready'); });
  for (let i = 0; i < Number(each); i++) {
    const subject = i % 2 ? 'shared ' + i : 'w' + w + ' ' + i;
    await recordCorrection(store, { promptId: 'price-change', variables: { subject, body: 'b' }, modelOutput: false, corrected: true });
  }
  process.send('done', () => process.exit(0));
})();`;
	try {
		// Build the index once (as the first correction on an old registry would), outside the timing.
		await new FileRegistryStore(root).findFixtureByInputs('price-change', {});
		const children = Array.from({ length: 8 }, (_, w) => spawn(process.execPath, ['-e', worker, root, String(w), String(each)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
		// 'close', not 'exit': a worker's last message can arrive after its 'exit' event (it sends "done", then
		// exits), which failed about one run in ten; 'close' comes only after its IPC channel is read to the end.
		const message = (child: (typeof children)[number], what: string) => new Promise<void>((resolve, reject) => {
			child.on('message', (m) => m === what && resolve());
			child.on('close', (code) => reject(new Error(`correction worker exited with ${code} before "${what}"`)));
		});
		await Promise.all(children.map((c) => message(c, 'ready')));
		const t = performance.now();
		const done = Promise.all(children.map((c) => message(c, 'done')));
		children.forEach((c) => c.send('go'));
		await done;
		const seconds = (performance.now() - t) / 1000;
		const store = new FileRegistryStore(root);
		const keys = new Map<string, number>();
		for await (const f of store.streamFixtures('price-change')) keys.set(JSON.stringify(f.inputs), (keys.get(JSON.stringify(f.inputs)) ?? 0) + 1);
		const expected = 8 * Math.ceil(each / 2) + Math.floor(each / 2);
		const corrected = [...keys.keys()].filter((k) => !k.includes('Dear')).length;
		return {
			fixtures: n,
			perSecond: Math.round((8 * each) / seconds),
			lost: Math.max(0, expected - corrected),
			duplicated: [...keys.values()].filter((c) => c > 1).length,
		};
	} finally {
		rmSync(root, { recursive: true, force: true });
	}
}
