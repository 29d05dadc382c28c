/**
 * `npm run bench`: speed targets as ratios against a baseline measured in the same run.
 * Prints one line per benchmark and a JSON summary; never used as a timed assertion in tests.
 *
 * 1. validation overhead: parseModelOutput (answer reading + unwrap + zod) vs JSON.parse alone on the same answers.
 * 2. item concurrency: runFixtures at concurrency 8 vs 1 against a provider with a fixed 20 ms latency.
 * 3. release cache: a cached resolve vs reading and hash-checking the registry every time.
 * 4. PostgreSQL registry (bench/postgres.ts): cached/uncached resolve on both stores, Record Correction
 *    throughput from 8 processes, rollback propagation to 3 processes.
 */
import { mkdtempSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseModelOutput } from '../lib/answer/read';
import { runFixtures } from '../lib/runner';
import { FileRegistryStore } from '../lib/registry/file-store';
import { resolvePrompt } from '../lib/registry/resolve';
import { ReleaseCache } from '../lib/release-cache';
import { postgresFigures } from './postgres';
import { corrections, rateLimited, testOverhead, testRss, type OverheadFigure } from './throughput';
import type { Provider, ProviderResponse } from '../lib/providers/types';
import type { Fixture, OutputSchema, ResolvedPrompt } from '../lib/types';

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
	const t = performance.now();
	await fn();
	return performance.now() - t;
}

async function best(fn: () => Promise<unknown> | unknown, rounds = 3): Promise<number> {
	let min = Infinity;
	for (let i = 0; i < rounds; i++) min = Math.min(min, await time(fn));
	return min;
}

const results: Record<string, { baselineMs: number; measuredMs: number; ratio: number; note: string }> = {};

function report(name: string, baselineMs: number, measuredMs: number, note: string) {
	const ratio = Number((measuredMs / baselineMs).toPrecision(3));
	results[name] = { baselineMs: Math.round(baselineMs), measuredMs: Math.round(measuredMs), ratio, note };
	console.log(`${name.padEnd(22)} ratio ${String(ratio).padStart(6)}  (${note}; baseline ${Math.round(baselineMs)} ms, measured ${Math.round(measuredMs)} ms)`);
}

async function validationOverhead() {
	const schema: OutputSchema = {
		type: 'object',
		properties: {
			priceChange: { type: 'boolean' },
			newUnitPrice: { type: 'number', minimum: 0, nullable: true },
			currency: { type: 'string', enum: ['EUR', 'USD', 'GBP'], nullable: true },
			effectiveDate: { type: 'string', format: 'date', nullable: true },
		},
	};
	const answers = Array.from({ length: 20_000 }, (_, i) =>
		JSON.stringify({ priceChange: i % 2 === 0, newUnitPrice: i / 10, currency: 'EUR', effectiveDate: '2026-04-01' }),
	);
	const baseline = await best(() => answers.forEach((a) => JSON.parse(a)));
	const measured = await best(() => answers.forEach((a) => parseModelOutput(schema, a)));
	report('validation-overhead', baseline, measured, 'parse+validate vs JSON.parse, 20k answers; lower is better');
}

class LatencyProvider implements Provider {
	readonly name = 'openai' as const;
	async complete(): Promise<ProviderResponse> {
		await new Promise((r) => setTimeout(r, 20));
		return { text: '{"value": true}', usage: { inputTokens: 10, outputTokens: 3 }, end: { reason: 'stop', providerReason: 'stop' } };
	}
}

async function itemConcurrency() {
	const resolved: ResolvedPrompt = {
		promptId: 'bench',
		version: 1,
		contentHash: 'sha256:bench',
		spec: {
			id: 'bench',
			description: '',
			model: { provider: 'openai', name: 'bench-model', temperature: 0, maxTokens: 10 },
			inputs: { text: { type: 'string', required: true } },
			instructions: 'Answer.',
			template: '{{text}}',
			output: { type: 'boolean' },
			limitations: '',
		},
	};
	const fixtures: Fixture[] = Array.from({ length: 80 }, (_, i) => ({ id: `f${i}`, inputs: { text: `t${i}` }, expected: true, source: 'manual' }));
	const provider = new LatencyProvider();
	const baseline = await time(() => runFixtures({ resolved, fixtures, provider, concurrency: 1 }));
	const measured = await time(() => runFixtures({ resolved, fixtures, provider, concurrency: 8 }));
	report('item-concurrency', baseline, measured, '80 calls of 20 ms at concurrency 8 vs 1; ideal 0.125');
}

async function releaseCache() {
	const dir = mkdtempSync(path.join(tmpdir(), 'prompt-release-bench-'));
	try {
		cpSync(path.join(__dirname, '..', '..', 'examples', 'registry'), dir, { recursive: true });
		const store = new FileRegistryStore(dir);
		const cache = new ReleaseCache();
		const n = 200;
		const baseline = await best(async () => {
			for (let i = 0; i < n; i++) await resolvePrompt(store, 'price-change', { channel: 'production' });
		});
		const measured = await best(async () => {
			for (let i = 0; i < n; i++) await cache.resolve(store, 'price-change', { channel: 'production' }, 30_000);
		});
		report('release-cache', baseline, measured, `${n} resolves, cached vs registry read each time; lower is better`);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/** The table: overhead vs a raw SDK loop, rate limits, peak RSS, corrections (bench/throughput.ts). */
async function throughput(): Promise<Record<string, unknown>> {
	const sizes = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
	const rssSizes = (process.env.BENCH_RSS_SIZES ?? '1000,10000,100000').split(',').map(Number);
	// BENCH_PARTS (default all): a comma list of overhead, ratelimit, rss, corrections — to rerun one row.
	const parts = new Set((process.env.BENCH_PARTS ?? 'overhead,ratelimit,rss,corrections').split(','));
	const figures: Record<string, unknown> = {};
	if (parts.has('overhead')) figures.overhead = await overheadRows(sizes);
	if (parts.has('ratelimit')) {
		const limited = await rateLimited();
		console.log(`rate limit ${limited.limitPerSecond}/s: sustained ${limited.sustainedPerSecond}/s (${(limited.shareOfLimit * 100).toFixed(1)} % of the limit), ${limited.rateLimited} of ${limited.requests} requests answered 429 (${(limited.share429 * 100).toFixed(2)} %), ${limited.failed} failed`);
		figures.rateLimit = limited;
	}
	if (parts.has('rss')) {
		const rss = [];
		for (const n of rssSizes) {
			const r = await testRss(n);
			console.log(`peak RSS of test, ${n} fixtures: ${r.maxRssMb} MB (${r.seconds} s, exit ${r.exit})`);
			rss.push(r);
		}
		figures.rss = rss;
	}
	if (parts.has('corrections')) {
		const corr = [];
		for (const n of (process.env.BENCH_CORRECTION_SIZES ?? '100,100000').split(',').map(Number)) {
			const c = await corrections(n);
			console.log(`Record Correction, 8 processes × 125, ${n} fixtures: ${c.perSecond}/s, ${c.lost} lost, ${c.duplicated} duplicated`);
			corr.push(c);
		}
		figures.corrections = corr;
	}
	return figures;
}

/** test overhead vs a raw SDK loop: 1,000 fixtures at 200 ms latency, then each size at 0 ms. */
async function overheadRows(sizes: number[]): Promise<OverheadFigure[]> {
	const overhead = [await testOverhead(1000, 200), ...(await sizes.reduce(async (acc, n) => [...(await acc), await testOverhead(n, 0)], Promise.resolve([] as OverheadFigure[])))];
	for (const o of overhead) console.log(`test overhead ${o.fixtures} fixtures, ${o.latencyMs} ms latency: ratio ${o.ratio} (raw SDK loop ${o.rawMs} ms, prompt-release ${o.projectMs} ms)`);
	return overhead;
}

async function main() {
	if (process.env.BENCH_ONLY === 'throughput') {
		console.log(JSON.stringify({ throughput: await throughput() }));
		return;
	}
	await validationOverhead();
	await itemConcurrency();
	await releaseCache();
	const postgres = await postgresFigures();
	const flow = await throughput();
	console.log(JSON.stringify({ ...results, postgres, throughput: flow }));
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
