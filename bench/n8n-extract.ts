/**
 * Extract Signal in a real n8n vs n8n's own Information Extractor: `n` supplier emails (default 200), 200 ms
 * model latency, in the pinned n8n 2.41.1 host the e2e tests use, with this package installed where
 * Settings → Community Nodes puts it (test/e2e/support). Both call the loopback model server through n8n's
 * openAiApi credential (base URL on loopback).
 *
 * Four workflows (bench/n8n-workflows.ts): Extract Signal at concurrency 16 and at default options, the
 * Information Extractor at batch size 16 and at its default. Each runs with `n8n execute`; the time of a
 * row is the measured node's own run time from n8n's execution data (runData[node].executionTime), so n8n's
 * start-up, the warm-up node and the Code node are excluded. Ideal = n × latency / 16.
 *
 * Knobs: BENCH_N8N_ITEMS (default 200), BENCH_N8N_LATENCY_MS (default 200).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CREDENTIALS, WARM_UP_ITEMS, benchWorkflow, type BenchWorkflow } from './n8n-workflows';
import { RULES, makeRegistry } from './throughput';
import { startModelServer } from '../lib/testing/model-server';
import { createN8n, type ExecuteResult } from '../test/e2e/support/n8n';

export interface N8nRow {
	name: string;
	contender: BenchWorkflow['contender'];
	/** Concurrency / batch size; null: the node's default. */
	parallel: number | null;
	ok: boolean;
	/** The measured node's run time in n8n's execution data, ms. */
	nodeMs?: number;
	/** nodeMs / ideal. */
	vsIdeal?: number;
	/** Items out of the measured node (all outputs). */
	items?: number;
	/** Completion requests the server answered during the whole execution (warm-up included). */
	requests: number;
	/** Wall time of `n8n execute` (start-up included), ms. */
	executeMs: number;
	error?: string;
}

export interface N8nFigure {
	items: number;
	latencyMs: number;
	idealMs: number;
	rows: N8nRow[];
	/** Information Extractor at its default ÷ Extract Signal at its default (target ≥ 3). */
	defaultSpeedup?: number;
	skipped?: string;
}

type RunData = Record<string, Array<{ executionTime?: number; error?: { message?: string }; data?: { main?: Array<unknown[] | null> } }>>;

function nodeRun(run: ExecuteResult, node: string): { ms?: number; items?: number; error?: string } {
	const runData = (run.output as { data?: { resultData?: { runData?: RunData; error?: { message?: string } } } } | undefined)?.data?.resultData;
	const last = runData?.runData?.[node]?.at(-1);
	if (!last) return { error: runData?.error?.message ?? `node did not run (exit ${run.exitCode}): ${run.logs.slice(-600)}` };
	const items = (last.data?.main ?? []).reduce((sum, out) => sum + (out?.length ?? 0), 0);
	return { ms: last.executionTime, items, error: last.error?.message };
}

/** Runs the four workflows in one real n8n; every n8n process and temp folder is gone afterwards. */
export async function n8nComparison(n = Number(process.env.BENCH_N8N_ITEMS ?? 200), latencyMs = Number(process.env.BENCH_N8N_LATENCY_MS ?? 200)): Promise<N8nFigure> {
	const idealMs = (n * latencyMs) / 16;
	const tmp = mkdtempSync(path.join(tmpdir(), 'prompt-release-bench-n8n-'));
	const registry = makeRegistry(0);
	const server = await startModelServer({ rules: RULES, latencyMs, record: false });
	let n8n: Awaited<ReturnType<typeof createN8n>> | undefined;
	try {
		const setup = Date.now();
		const lap = (what: string) => console.log(`n8n set-up: ${what} after ${Math.round((Date.now() - setup) / 1000)} s`);
		try {
			n8n = await createN8n({ withPackage: true });
			lap('host checked, package packed and installed into the user folder');
		} catch (error) {
			return { items: n, latencyMs, idealMs, rows: [], skipped: `no n8n host here: ${(error as Error).message.split('\n')[0]}` };
		}
		const creds = path.join(tmp, 'credentials.json');
		writeFileSync(
			creds,
			JSON.stringify([
				{ ...CREDENTIALS.promptRegistryApi, type: 'promptRegistryApi', data: { storage: 'folder', registryPath: registry } },
				{ ...CREDENTIALS.openAiApi, type: 'openAiApi', data: { apiKey: 'sk-bench', url: server.openaiBaseUrl } },
			]),
		);
		await n8n.importCredentials(creds);
		lap('credentials imported (fresh database)');
		const flows = [
			benchWorkflow('benchExtSignal16', 'extractSignal', n, 16),
			benchWorkflow('benchExtSignalDf', 'extractSignal', n, undefined),
			benchWorkflow('benchInfoExtr016', 'informationExtractor', n, 16),
			benchWorkflow('benchInfoExtrDef', 'informationExtractor', n, undefined),
		];
		const file = path.join(tmp, 'workflows.json');
		writeFileSync(file, JSON.stringify(flows.map((f) => f.workflow)));
		await n8n.importWorkflow(file);
		lap('workflows imported');
		const rows: N8nRow[] = [];
		for (const flow of flows) {
			const before = server.completions;
			const run = await n8n.executeWorkflow(flow.id, { timeoutMs: 10 * 60_000 });
			const measured = nodeRun(run, flow.measured);
			const row: N8nRow = {
				name: flow.name,
				contender: flow.contender,
				parallel: flow.parallel ?? null,
				ok: run.ok && measured.items === n && !measured.error,
				nodeMs: measured.ms,
				vsIdeal: measured.ms === undefined ? undefined : Number((measured.ms / idealMs).toFixed(3)),
				items: measured.items,
				requests: server.completions - before,
				executeMs: run.durationMs,
				...(measured.error || !run.ok ? { error: measured.error ?? `status ${run.status}, exit ${run.exitCode}` } : {}),
			};
			console.log(
				`n8n ${row.name}: ${row.nodeMs ?? '—'} ms = ${row.vsIdeal ?? '—'}× ideal ${idealMs} ms, ${row.items ?? 0} items, ${row.requests} requests (${WARM_UP_ITEMS} of them warm-up)${row.error ? `, error: ${row.error}` : ''}`,
			);
			rows.push(row);
		}
		const esDefault = rows.find((r) => r.contender === 'extractSignal' && r.parallel === null);
		const ieDefault = rows.find((r) => r.contender === 'informationExtractor' && r.parallel === null);
		const defaultSpeedup = esDefault?.ok && ieDefault?.ok && esDefault.nodeMs && ieDefault.nodeMs ? Number((ieDefault.nodeMs / esDefault.nodeMs).toFixed(2)) : undefined;
		return { items: n, latencyMs, idealMs, rows, defaultSpeedup };
	} finally {
		await n8n?.dispose();
		await server.close();
		rmSync(registry, { recursive: true, force: true });
		rmSync(tmp, { recursive: true, force: true });
	}
}
