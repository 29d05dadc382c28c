/**
 * Micro benchmarks of `npm run bench` (part "micro"): ratios against a baseline measured in the same run.
 * 1. validation overhead: parseModelOutput (answer reading + unwrap + zod) vs JSON.parse alone on the same answers.
 * 2. item concurrency: runFixtures at concurrency 8 vs 1 against a provider with a fixed 20 ms latency.
 * 3. release cache: a cached resolve vs reading and hash-checking the registry every time.
 */
import { mkdtempSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseModelOutput } from '../lib/answer/read';
import { runFixtures } from '../lib/runner';
import { FileRegistryStore } from '../lib/registry/file-store';
import { resolvePrompt } from '../lib/registry/resolve';
import { ReleaseCache } from '../lib/release-cache';
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

export type MicroFigures = Record<string, { baselineMs: number; measuredMs: number; ratio: number; note: string }>;
const results: MicroFigures = {};

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

/** Runs the three micro benchmarks; prints one line each and returns their figures. */
export async function microFigures(): Promise<MicroFigures> {
	await validationOverhead();
	await itemConcurrency();
	await releaseCache();
	return results;
}
