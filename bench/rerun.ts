/**
 * The rerun row: `prompt-release test` twice over the same fixtures with prompt, model and inputs unchanged,
 * response cache in a scratch folder (`--cache-dir`), 200 ms model latency. The second run should send no
 * request and finish within a second. Both runs are child processes (CLI start-up included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runChild } from './child';
import { CLI, CONCURRENCY, RULES, makeRegistry } from './throughput';
import { startModelServer } from '../lib/testing/model-server';

export interface RerunRun {
	wallMs: number;
	requests: number;
	/** Results answered from the response cache (`cached` of `test --json`). */
	cached: number | undefined;
	passed: number | undefined;
	peakRssMb: number;
	exit: number | null;
}

export interface RerunFigure {
	fixtures: number;
	latencyMs: number;
	first: RerunRun;
	second: RerunRun;
}

/** Runs `prompt-release test` over `n` fixtures twice with one response cache; the second run is the row. */
export async function rerunFigure(n = 1000, latencyMs = 200): Promise<RerunFigure> {
	const root = makeRegistry(n);
	const cacheDir = mkdtempSync(path.join(tmpdir(), 'prompt-release-bench-cache-'));
	const server = await startModelServer({ rules: RULES, latencyMs, record: false });
	const once = async (): Promise<RerunRun> => {
		const before = server.completions;
		const r = await runChild(process.execPath, [CLI, 'test', 'price-change', '--json', '--concurrency', String(CONCURRENCY), '--cache-dir', cacheDir, '--registry', root], {
			env: { ...process.env, OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: 'bench', PROMPT_RELEASE_CACHE: undefined, PROMPT_RELEASE_CACHE_DIR: undefined },
			timeoutMs: 10 * 60_000,
		});
		let summary: { cached?: number; passed?: number } = {};
		try {
			summary = JSON.parse(r.stdout) as typeof summary;
		} catch {
			/* no summary: the exit code says why */
		}
		return { wallMs: r.wallMs, requests: server.completions - before, cached: summary.cached, passed: summary.passed, peakRssMb: r.peakRssMb, exit: r.exit };
	};
	try {
		const first = await once();
		const second = await once();
		return { fixtures: n, latencyMs, first, second };
	} finally {
		await server.close();
		rmSync(root, { recursive: true, force: true });
		rmSync(cacheDir, { recursive: true, force: true });
	}
}
