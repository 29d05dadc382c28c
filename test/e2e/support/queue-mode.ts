/**
 * A real n8n 2.41.1 in queue mode on 127.0.0.1: one main (`n8n start`: UI, REST, webhooks; it enqueues
 * production executions in Redis) and N workers (`n8n worker`: they take executions off the queue and
 * relay webhook responses back to the main), PostgreSQL for n8n's own database (a fresh database per
 * run), Redis for the queue (a key prefix per run). Every process has its own user folder with this
 * package installed where n8n's community-package installer puts it, one shared encryption key, and
 * ports of its own (n8n port, task-runner broker, worker health server).
 *
 *   const n8n = await createQueueModeN8n({ workers: 2 });   // database, user folders, package
 *   await n8n.importCredentials(file); await n8n.importWorkflow(file); await n8n.publishWorkflow(id);
 *   await n8n.start();                                       // main + workers ready (/healthz/readiness)
 *   n8n.executionsByWorker();                                // worker name -> execution ids it ran
 *   await n8n.dispose();                                     // processes, database, Redis keys, folders
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { installPackage } from './package';
import { MINUTE, describeRun, ensureN8nHost, freePort, n8nEnv, runN8n, startN8nProcess, type CommandResult, type N8nServer } from './process';
import { PG_ADMIN_URL, REDIS_HOST, REDIS_PORT, createDatabase, deleteRedisKeys, dropDatabase, requireServices, uniqueName } from './services';

export interface QueueModeOptions {
	/** Worker processes (default 2). */
	workers?: number;
	/** Executions each worker runs at once (`n8n worker --concurrency`, default 5). */
	concurrency?: number;
	/** More environment for every process and command. */
	env?: Record<string, string | undefined>;
}

export interface QueueWorker {
	/** `worker-1`, `worker-2`, ... */
	name: string;
	userFolder: string;
	/** Its health server (`/healthz/readiness`) and output, once started. */
	server?: N8nServer;
}

export interface QueueModeN8n {
	/** n8n's PostgreSQL database of this run. */
	database: string;
	/** The marker in every Redis key of this run (queue, pub/sub, cache). */
	redisMarker: string;
	mainUserFolder: string;
	workers: QueueWorker[];
	/** The main's base URL (webhooks: `${url}/webhook/<path>`), once started. */
	url: string;
	/** The main's output so far. */
	mainLogs(): string;
	/** Any n8n CLI command against this instance's database (with the main's user folder). */
	run(args: string[], opts?: { timeoutMs?: number }): Promise<CommandResult>;
	importCredentials(file: string): Promise<void>;
	importWorkflow(file: string): Promise<void>;
	/** Publishes the workflow's current version, so `n8n start` activates it (n8n 2.x). */
	publishWorkflow(id: string): Promise<void>;
	/** Starts the main and the workers and waits until each is ready. */
	start(): Promise<void>;
	/** Execution ids each worker started, from its log ("Worker started execution <id> (job <n>)"). */
	executionsByWorker(): Record<string, string[]>;
	/** Stops every process (group-wide), drops the database, deletes the run's Redis keys, removes the folders. */
	dispose(): Promise<void>;
}

function databaseEnv(database: string): Record<string, string> {
	const url = new URL(PG_ADMIN_URL);
	return {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: url.hostname,
		DB_POSTGRESDB_PORT: url.port || '5432',
		DB_POSTGRESDB_DATABASE: database,
		DB_POSTGRESDB_USER: decodeURIComponent(url.username || 'postgres'),
		DB_POSTGRESDB_PASSWORD: decodeURIComponent(url.password),
	};
}

/** Prepares (does not start) a queue-mode n8n: its database, Redis prefix and user folders with the package installed. */
export async function createQueueModeN8n(options: QueueModeOptions = {}): Promise<QueueModeN8n> {
	await requireServices();
	ensureN8nHost();
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-queue-'));
	const database = await createDatabase('n8n_e2e');
	const marker = uniqueName('prq');
	const shared: Record<string, string | undefined> = {
		...databaseEnv(database),
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: REDIS_HOST,
		QUEUE_BULL_REDIS_PORT: String(REDIS_PORT),
		QUEUE_BULL_PREFIX: `${marker}_bull`,
		N8N_REDIS_KEY_PREFIX: `${marker}_n8n`,
		N8N_CACHE_REDIS_KEY_PREFIX: `${marker}_cache`,
		...options.env,
	};
	const folder = (name: string): string => {
		const dir = path.join(root, name);
		fs.mkdirSync(dir);
		installPackage(dir);
		return dir;
	};
	const mainUserFolder = folder('main');
	const workers: QueueWorker[] = Array.from({ length: options.workers ?? 2 }, (_, i) => ({ name: `worker-${i + 1}`, userFolder: folder(`worker-${i + 1}`) }));
	let main: N8nServer | undefined;

	const run = async (args: string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> =>
		await runN8n(args, { env: n8nEnv(mainUserFolder, { ...shared, N8N_RUNNERS_BROKER_PORT: String(await freePort()) }), timeoutMs: opts.timeoutMs ?? 3 * MINUTE });
	const mustRun = async (args: string[]): Promise<void> => {
		const r = await run(args);
		if (r.exitCode !== 0) throw new Error(describeRun(args, r));
	};

	return {
		database,
		redisMarker: marker,
		mainUserFolder,
		workers,
		get url() {
			if (!main) throw new Error('queue-mode n8n is not started');
			return main.url;
		},
		mainLogs: () => main?.logs() ?? '',
		run,
		importCredentials: async (file) => await mustRun(['import:credentials', `--input=${path.resolve(file)}`]),
		importWorkflow: async (file) => await mustRun(['import:workflow', `--input=${path.resolve(file)}`]),
		publishWorkflow: async (id) => await mustRun(['publish:workflow', `--id=${id}`]),
		async start() {
			const mainPort = await freePort();
			const starting = [
				startN8nProcess(['start'], n8nEnv(mainUserFolder, { ...shared, N8N_PORT: String(mainPort), N8N_RUNNERS_BROKER_PORT: String(await freePort()) }), { port: mainPort, timeoutMs: 4 * MINUTE }).then((s) => {
					main = s;
				}),
				...workers.map(async (worker) => {
					const health = await freePort();
					const env = n8nEnv(worker.userFolder, {
						...shared,
						QUEUE_HEALTH_CHECK_ACTIVE: 'true',
						QUEUE_HEALTH_CHECK_PORT: String(health),
						N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
						N8N_PORT: String(await freePort()),
						N8N_RUNNERS_BROKER_PORT: String(await freePort()),
					});
					worker.server = await startN8nProcess(['worker', `--concurrency=${options.concurrency ?? 5}`], env, { port: health, timeoutMs: 4 * MINUTE });
				}),
			];
			const results = await Promise.allSettled(starting);
			const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
			if (failed) throw failed.reason;
		},
		executionsByWorker() {
			const out: Record<string, string[]> = {};
			for (const worker of workers) {
				out[worker.name] = [...(worker.server?.logs() ?? '').matchAll(/Worker started execution (\d+) \(job /g)].map((m) => m[1]);
			}
			return out;
		},
		async dispose() {
			const errors: unknown[] = [];
			const attempt = async (step: () => Promise<unknown>): Promise<void> => {
				try {
					await step();
				} catch (error) {
					errors.push(error);
				}
			};
			await Promise.all([main, ...workers.map((w) => w.server)].map(async (p) => await attempt(async () => await p?.stop())));
			await attempt(async () => await dropDatabase(database));
			await attempt(async () => await deleteRedisKeys(marker));
			if (process.env.PROMPT_RELEASE_E2E_KEEP !== '1') fs.rmSync(root, { recursive: true, force: true });
			if (errors.length) throw errors[0];
		},
	};
}
