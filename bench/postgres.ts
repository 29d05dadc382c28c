/**
 * PostgreSQL registry figures for `npm run bench` (all measured in the same run, against the local server
 * or $PROMPT_RELEASE_BENCH_PG): cached and uncached resolve on both stores, Record Correction throughput from
 * 8 processes, and how fast a rollback reaches 3 resolving processes. Multi-process parts fork real node
 * processes (bench/pg-worker.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { contentHash } from '../lib/hash';
import { FileRegistryStore } from '../lib/registry/file-store';
import { closeRegistryConnections } from '../lib/registry/open';
import { parsePostgresUrl } from '../lib/registry/postgres/settings';
import { PostgresRegistryStore } from '../lib/registry/postgres/store';
import { publishRegistry } from '../lib/registry/publish';
import { resolvePrompt } from '../lib/registry/resolve';
import { ReleaseCache } from '../lib/release-cache';
import { rollbackChannel } from '../lib/release';
import type { RegistryStore } from '../lib/registry/store';
import { DEFAULT_CONCURRENCY } from '../nodes/shared/concurrency';

const BASE = process.env.PROMPT_RELEASE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PROMPT = 'price-change';
const WORKER = path.join(__dirname, 'pg-worker.js');

export type Figure = { value: number; unit: string; note: string };
const figures: Record<string, Figure> = {};

function figure(name: string, value: number, unit: string, note: string): void {
	figures[name] = { value: Number(value.toPrecision(3)), unit, note };
	console.log(`${name.padEnd(30)} ${String(figures[name].value).padStart(9)} ${unit.padEnd(6)} (${note})`);
}

async function perOp(n: number, fn: () => Promise<unknown>): Promise<number> {
	for (let i = 0; i < Math.min(n, 200); i++) await fn(); // warm-up
	const t = performance.now();
	for (let i = 0; i < n; i++) await fn();
	return ((performance.now() - t) * 1000) / n; // µs per op
}

async function admin(sql: string): Promise<void> {
	const c = new Client({ connectionString: BASE });
	await c.connect();
	await c.query(sql).finally(() => c.end());
}

async function resolves(file: RegistryStore, pg: RegistryStore): Promise<void> {
	const cache = new ReleaseCache();
	const ref = { channel: 'production' };
	const cachedFile = await perOp(20_000, () => cache.resolve(file, PROMPT, ref, 60_000));
	const cachedPg = await perOp(20_000, () => cache.resolve(pg, PROMPT, ref, 60_000));
	figure('cached-resolve-file', cachedFile, 'µs', 'per resolve from the release cache, file store; target ≤ 20');
	figure('cached-resolve-postgres', cachedPg, 'µs', 'per resolve from the release cache, PostgreSQL store; target ≤ 20');
	const uncachedFile = await perOp(300, () => resolvePrompt(file, PROMPT, ref));
	const uncachedPg = await perOp(300, () => resolvePrompt(pg, PROMPT, ref));
	figure('uncached-resolve-file', uncachedFile, 'µs', 'read + validate + hash-check, file store');
	figure('uncached-resolve-postgres', uncachedPg, 'µs', 'read + validate + hash-check, PostgreSQL store');
	figure('uncached-resolve-pg/file', uncachedPg / uncachedFile, 'ratio', 'PostgreSQL vs file store, same run; lower is better');
}

function child(args: string[]): ChildProcess {
	return fork(WORKER, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function corrections(url: string, pg: PostgresRegistryStore): Promise<void> {
	const procs = 8;
	const each = 1000;
	// The nodes' default Concurrency option (nodes/shared/concurrency.ts): Record Correction runs that many items at a time.
	const concurrency = DEFAULT_CONCURRENCY;
	const before = (await pg.listFixtures(PROMPT)).length;
	const workers = Array.from({ length: procs }, (_, w) => child(['corrections', url, PROMPT, String(each), String(w), String(concurrency)]));
	const exits = workers.map((p, w) => new Promise<void>((resolve, reject) => p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`correction worker ${w} exited with ${code}`))))));
	await Promise.all(workers.map((p) => new Promise<void>((resolve) => p.once('message', () => resolve()))));
	const sent = { statements: 0, corrections: 0 };
	for (const p of workers) {
		p.once('message', (m: { statements: number; corrections: number }) => {
			sent.statements += m.statements;
			sent.corrections += m.corrections;
		});
	}
	const t = performance.now();
	for (const p of workers) p.send('go');
	await Promise.all(exits);
	const seconds = (performance.now() - t) / 1000;
	const after = (await pg.listFixtures(PROMPT)).length;
	figure('corrections-throughput', (procs * each) / seconds, '/s', `Record Correction, ${procs} processes × ${each} (${concurrency} items at a time each, the node's default Concurrency); target ≥ 2000`);
	figure('corrections-lost', procs * each - (after - before), 'count', `fixtures missing after the run; target 0`);
	figure('corrections-per-statement', sent.corrections / Math.max(1, sent.statements), 'count', `corrections each statement carried on average (grouped per process, ADR 0051)`);
}

async function propagation(url: string, pg: PostgresRegistryStore): Promise<void> {
	const v1 = await pg.readVersion(PROMPT, 1);
	const spec2 = { ...v1.prompt, instructions: `${v1.prompt.instructions}\nBe brief.` };
	await pg.createVersion(PROMPT, { version: 2, contentHash: contentHash(spec2), createdAt: new Date().toISOString(), prompt: spec2 });
	const seen = new Map<number, { version: number; at: number }[]>();
	const workers = Array.from({ length: 3 }, (_, i) => {
		const p = child(['resolve', url, PROMPT]);
		seen.set(i, []);
		p.on('message', (m: { version: number; at: number }) => seen.get(i)!.push(m));
		return p;
	});
	/** When the last worker started serving `version` (epoch ms), waiting for all to serve it. */
	const allServe = async (version: number, since: number): Promise<number> => {
		const deadline = performance.now() + 60_000;
		for (;;) {
			const lists = [...seen.values()];
			if (lists.every((list) => list.at(-1)?.version === version)) return Math.max(since, ...lists.map((list) => list.at(-1)!.at));
			if (performance.now() > deadline) throw new Error(`the resolving processes did not all serve version ${version} within 60 s`);
			await new Promise((r) => setTimeout(r, 2));
		}
	};
	const point = (version: number) =>
		pg.updateReleases(PROMPT, (s) => {
			const at = new Date().toISOString();
			const hash = version === 1 ? v1.contentHash : contentHash(spec2);
			return { channels: { ...s.channels, production: { version, contentHash: hash, since: at } }, history: [...s.history, { at, action: 'release', channel: 'production', version, by: 'bench', contentHash: hash }] };
		});
	try {
		await point(1);
		await allServe(1, 0);
		const samples: number[] = [];
		for (let trial = 0; trial < 30; trial++) {
			const t0 = performance.timeOrigin + performance.now();
			await point(2);
			await allServe(2, t0);
			await new Promise((r) => setTimeout(r, 20));
			const start = performance.timeOrigin + performance.now(); // before the rollback transaction begins: an upper bound
			await rollbackChannel(pg, PROMPT, { reason: 'bench', by: 'bench' });
			samples.push((await allServe(1, start)) - start);
		}
		samples.sort((a, b) => a - b);
		const p95 = samples[Math.ceil(samples.length * 0.95) - 1];
		figure('rollback-propagation-p50', samples[Math.floor(samples.length / 2)], 'ms', `rollback call → last of 3 processes serving the old version, ${samples.length} trials`);
		figure('rollback-propagation-p95', p95, 'ms', 'same; target < 1000 (cache TTL 30 s: the drop comes from NOTIFY)');
	} finally {
		for (const w of workers) w.kill();
	}
}

/** Run every PostgreSQL figure; returns them for the JSON summary. Skips (with a line) when the server does not answer. */
export async function postgresFigures(): Promise<Record<string, Figure>> {
	const schema = `bench_${process.pid}`;
	const url = `${BASE}?schema=${schema}`;
	try {
		await admin('SELECT 1');
	} catch (error) {
		console.log(`postgres figures skipped: ${BASE} does not answer (${(error as Error).message}); start it with: pg_ctlcluster 15 main start`);
		return figures;
	}
	const dir = mkdtempSync(path.join(tmpdir(), 'prompt-release-bench-pg-'));
	try {
		cpSync(path.join(__dirname, '..', '..', 'examples', 'registry'), dir, { recursive: true });
		const file = new FileRegistryStore(dir);
		const pg = new PostgresRegistryStore({ ...parsePostgresUrl(url), createSchema: true });
		await publishRegistry(file, pg, [PROMPT]);
		await pg.updateReleases(PROMPT, async () => file.readReleases(PROMPT));
		await resolves(file, pg);
		await corrections(url, pg);
		await propagation(url, pg);
	} finally {
		await closeRegistryConnections();
		await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
		rmSync(dir, { recursive: true, force: true });
	}
	return figures;
}
