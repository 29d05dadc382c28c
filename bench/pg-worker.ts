/**
 * A separate node process of the PostgreSQL benchmarks (spawned by bench/postgres.ts, IPC to the parent).
 *   corrections <url> <prompt> <n> <worker> <concurrency>: record n corrections with distinct inputs; reports
 *     {done, ms, statements, corrections} (the statements that carried them, lib/registry/postgres/correction-batch.ts).
 *   resolve <url> <prompt>: resolve production through a cache + listener about every millisecond; reports
 *     {version, at} (at: epoch ms, sub-ms precision) each time the served version changes.
 */
import { recordCorrection } from '../lib/corrections';
import { correctionBatchStats } from '../lib/registry/postgres/correction-batch';
import { ReleaseCache } from '../lib/release-cache';
import { listenForReleases } from '../lib/registry/postgres/listener';
import { parsePostgresUrl } from '../lib/registry/postgres/settings';
import { PostgresRegistryStore } from '../lib/registry/postgres/store';
import { closeRegistryConnections } from '../lib/registry/open';

const now = () => performance.timeOrigin + performance.now();
const send = (msg: unknown) => process.send?.(msg);

async function corrections(url: string, promptId: string, n: number, worker: number, concurrency: number): Promise<void> {
	const store = new PostgresRegistryStore(parsePostgresUrl(url));
	await store.listPrompts();
	// Start together: the parent says go once every process is up (process start is not measured).
	await new Promise<void>((resolve) => {
		process.once('message', () => resolve());
		send({ ready: true });
	});
	let next = 0;
	const t = performance.now();
	const lane = async () => {
		for (let i = next++; i < n; i = next++) {
			await recordCorrection(store, { promptId, version: 1, variables: { subject: `worker ${worker} item ${i}`, body: 'Prices change.' }, modelOutput: false, corrected: true });
		}
	};
	await Promise.all(Array.from({ length: concurrency }, lane));
	const { statements, corrections: sent } = correctionBatchStats(store.pool, store.schema);
	send({ done: n, ms: performance.now() - t, statements, corrections: sent });
	await closeRegistryConnections();
}

async function resolveLoop(url: string, promptId: string): Promise<void> {
	const store = new PostgresRegistryStore(parsePostgresUrl(url));
	const cache = new ReleaseCache();
	await listenForReleases(store, cache, { log: (m) => process.stderr.write(`${m}\n`) }).started;
	let last: number | undefined;
	process.on('disconnect', () => process.exit(0));
	for (;;) {
		const served = await cache.resolve(store, promptId, { channel: 'production' }, 30_000);
		if (served.version !== last) {
			last = served.version as number;
			send({ version: last, at: now() });
		}
		await new Promise((r) => setTimeout(r, 1));
	}
}

const [mode, url, promptId, ...rest] = process.argv.slice(2);
const job = mode === 'corrections' ? corrections(url, promptId, Number(rest[0]), Number(rest[1]), Number(rest[2])) : resolveLoop(url, promptId);
job.catch((error) => {
	process.stderr.write(`${(error as Error).stack}\n`);
	process.exit(1);
});
