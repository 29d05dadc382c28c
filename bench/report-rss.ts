/**
 * Peak RSS of `prompt-release report` (the rss part): a stored run of n fixtures against a baseline run of n
 * fixtures, both written straight through the store (no model calls: cheap even at 100,000), then `report`
 * in each format as a child process writing to a file. One fixture in 7 fails in the run, one in 10 in the
 * baseline, so every fixture list of the bundle is long.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileRegistryStore } from '../lib/registry/file-store';
import type { FixtureResult, RunHeader } from '../lib/types';
import { runChild } from './child';
import { CLI, email, makeRegistry } from './throughput';

export interface ReportRssFigure {
	fixtures: number;
	formats: Array<{ format: 'md' | 'html' | 'json'; maxRssMb: number; seconds: number; exit: number | null; outputMb: number }>;
}

function result(i: number, passed: boolean, cached: boolean): FixtureResult {
	const expected = i % 3 === 0;
	const actual = passed ? expected : !expected;
	return {
		fixtureId: `case-${String(i).padStart(6, '0')}`,
		inputsHash: `sha256:${'a'.repeat(64)}`,
		segment: email(i).subject.startsWith('Price') ? 'announcement' : 'order',
		expected,
		passed,
		fields: { value: passed },
		actual,
		valid: true,
		...(passed ? {} : { reason: `expected ${expected}, got ${actual}` }),
		rawOutput: JSON.stringify({ value: actual }),
		latencyMs: 180 + (i % 40),
		inputTokens: 74,
		outputTokens: 4,
		costUsd: 0.0000123,
		repaired: false,
		finishReasons: ['stop'],
		...(cached ? { cached: true } : {}),
		fetchedAt: '2026-11-29T12:00:00.000Z',
	};
}

async function writeRun(store: FileRegistryStore, runId: string, n: number, failEvery: number, baselineRunId?: string): Promise<void> {
	const writer = await store.createRunWriter('price-change', runId);
	let passed = 0;
	for (let i = 0; i < n; i++) {
		const ok = i % failEvery !== 0;
		if (ok) passed++;
		await writer.append(result(i, ok, baselineRunId !== undefined && i % 2 === 0));
	}
	const header: RunHeader = {
		runId,
		promptId: 'price-change',
		version: 'draft',
		contentHash: `sha256:${'c'.repeat(64)}`,
		model: { provider: 'openai', name: 'test-model' },
		startedAt: '2026-11-29T12:00:00.000Z',
		finishedAt: '2026-11-29T12:10:00.000Z',
		...(baselineRunId ? { baselineRunId } : {}),
		repeat: 1,
		summary: { total: n, passed, failed: n - passed, passRate: passed / n, segments: {}, regressions: [], latencyMs: { p50: 200, p95: 218 }, tokens: { input: 74 * n, output: 4 * n }, costUsd: 0.0000123 * n, runId, cached: 0 },
	};
	await writer.commit(header);
}

/** `report` of an n-fixture run with an n-fixture baseline, in md, html and json, each in a child process. */
export async function reportRss(n: number): Promise<ReportRssFigure> {
	const root = makeRegistry(1);
	const out = mkdtempSync(path.join(tmpdir(), 'prompt-release-bench-report-'));
	try {
		const store = new FileRegistryStore(root);
		await writeRun(store, '20261129T120000000Z-base00', n, 10);
		await writeRun(store, '20261129T121000000Z-run000', n, 7, '20261129T120000000Z-base00');
		const formats: ReportRssFigure['formats'] = [];
		for (const format of ['md', 'html', 'json'] as const) {
			const file = path.join(out, `report.${format}`);
			const r = await runChild(process.execPath, [CLI, 'report', 'price-change', '20261129T121000000Z-run000', '--format', format, '--out', file, '--registry', root], {
				timeoutMs: Number(process.env.BENCH_RSS_TIMEOUT_S ?? 600) * 1000,
			});
			const outputMb = r.exit === 0 ? Math.round((statSync(file).size / 1024 / 1024) * 10) / 10 : 0;
			formats.push({ format, maxRssMb: r.peakRssMb, seconds: Math.round(r.wallMs / 100) / 10, exit: r.exit, outputMb });
		}
		return { fixtures: n, formats };
	} finally {
		rmSync(root, { recursive: true, force: true });
		rmSync(out, { recursive: true, force: true });
	}
}
