/**
 * Child processes for the real-n8n tests: the pinned n8n host, environment for a quiet offline n8n,
 * free ports, and commands run in their own process group (killed group-wide on timeout or stop).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The checkout: the nearest folder above this file holding scripts/n8n-host.sh. The same whether this file
 * runs from test/e2e/support (jest) or compiled under dist/test/e2e/support (the benchmark imports it).
 */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(start: string): string {
	for (let dir = start; ; dir = path.dirname(dir)) {
		if (existsSync(path.join(dir, 'scripts', 'n8n-host.sh'))) return dir;
		if (path.dirname(dir) === dir) return path.resolve(start, '..', '..', '..');
	}
}

/** Fixed key: imported credentials are encrypted with it, so every command must use the same one. */
export const E2E_ENCRYPTION_KEY = 'prompt-release-e2e-fixed-encryption-key';

export const MINUTE = 60_000;
export const verbose = process.env.PROMPT_RELEASE_E2E_VERBOSE === '1';

export interface N8nHost {
	/** Install folder in the cache (package.json, node_modules/n8n, ...). */
	hostDir: string;
	/** n8n's entry script; run it with {@link N8nHost.nodeBin}. */
	n8nBin: string;
	/** The Node 24 binary from the cache. */
	nodeBin: string;
}

function parseKeyValues(out: string): Record<string, string> {
	const kv: Record<string, string> = {};
	for (const line of out.split('\n')) {
		const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
		if (m) kv[m[1]] = m[2];
	}
	return kv;
}

/** Runs `bash scripts/<script> <args>` and returns the KEY=VALUE lines it printed; throws with its output on failure. */
export function runScript(script: string, args: string[], timeoutMs: number): Record<string, string> {
	try {
		const out = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', script), ...args], {
			cwd: REPO_ROOT,
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'pipe'],
			timeout: timeoutMs,
			killSignal: 'SIGKILL',
			env: withoutJestEnv(process.env),
			maxBuffer: 64 * 1024 * 1024,
		});
		return parseKeyValues(out);
	} catch (error) {
		const e = error as { stderr?: string; stdout?: string; message: string };
		throw new Error(`scripts/${script} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
	}
}

function withoutJestEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
	const copy = { ...env };
	delete copy.NODE_ENV; // jest sets "test"; n8n then refuses to load nodes ("Not available in tests")
	delete copy.JEST_WORKER_ID;
	delete copy.NODE_OPTIONS;
	return copy;
}

let hostCache: N8nHost | undefined;

/** Locates the pinned n8n host, installing it into the cache when missing (scripts/n8n-host.sh). */
export function ensureN8nHost(): N8nHost {
	if (hostCache) return hostCache;
	const kv = runScript('n8n-host.sh', [], 20 * MINUTE);
	if (!kv.N8N_BIN || !kv.N8N_HOST_DIR || !kv.NODE) throw new Error(`scripts/n8n-host.sh printed ${JSON.stringify(kv)}`);
	hostCache = { hostDir: kv.N8N_HOST_DIR, n8nBin: kv.N8N_BIN, nodeBin: kv.NODE };
	return hostCache;
}

/**
 * Environment for a quiet, offline n8n: a whitelist of the parent's variables (no NODE_ENV=test,
 * no stray N8N_*), the recipe's switches, a fixed encryption key, listening on 127.0.0.1 only.
 * Anything else goes in `extraEnv`; a value of `undefined` removes a variable.
 */
export function n8nEnv(userFolder: string, extraEnv: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const key of ['HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL']) {
		if (process.env[key] !== undefined) env[key] = process.env[key];
	}
	const nodeDir = hostCache ? path.dirname(hostCache.nodeBin) : undefined;
	env.PATH = [nodeDir, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].filter(Boolean).join(path.delimiter);
	Object.assign(env, {
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: E2E_ENCRYPTION_KEY,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		N8N_AI_ENABLED: 'false',
		N8N_DISABLED_MODULES: 'mcp-registry',
		N8N_RUNNERS_MODE: 'internal',
		N8N_LOG_LEVEL: 'info', // at warn/error `n8n execute` prints nothing
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_SECURE_COOKIE: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		NODE_ENV: 'production',
	});
	for (const [key, value] of Object.entries(extraEnv)) {
		if (value === undefined) delete env[key];
		else env[key] = value;
	}
	return env;
}

/** A free TCP port on 127.0.0.1 (for N8N_PORT, N8N_RUNNERS_BROKER_PORT, QUEUE_HEALTH_CHECK_PORT). */
export async function freePort(): Promise<number> {
	return await new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

export interface CommandResult {
	exitCode: number | null;
	signal: NodeJS.Signals | null;
	timedOut: boolean;
	stdout: string;
	stderr: string;
	/** stdout and stderr as they arrived. */
	logs: string;
	durationMs: number;
}

export interface RunOptions {
	env: NodeJS.ProcessEnv;
	timeoutMs?: number;
	cwd?: string;
}

/** Signals a child's whole process group (n8n and its task runners), falling back to the child alone. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (child.pid === undefined) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		try {
			child.kill(signal);
		} catch {
			/* already gone */
		}
	}
}

/** Spawns `n8n <args>` with the host's Node 24 in a process group of its own. */
export function spawnN8n(args: string[], opts: RunOptions): ChildProcess {
	const host = ensureN8nHost();
	return spawn(host.nodeBin, [host.n8nBin, ...args], {
		cwd: opts.cwd ?? opts.env.N8N_USER_FOLDER ?? os.tmpdir(),
		env: opts.env,
		detached: true, // own process group: stop/timeout kill n8n and its task runners together
		stdio: ['ignore', 'pipe', 'pipe'],
	});
}

/** Runs `n8n <args>` to completion (or kills its process group after `timeoutMs`, default 2 min). */
export async function runN8n(args: string[], opts: RunOptions): Promise<CommandResult> {
	const started = Date.now();
	const child = spawnN8n(args, opts);
	let stdout = '';
	let stderr = '';
	let logs = '';
	child.stdout!.setEncoding('utf8').on('data', (d: string) => {
		stdout += d;
		logs += d;
		if (verbose) process.stdout.write(d);
	});
	child.stderr!.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
		logs += d;
		if (verbose) process.stderr.write(d);
	});
	let timedOut = false;
	const timer = setTimeout(() => {
		timedOut = true;
		killGroup(child, 'SIGKILL');
	}, opts.timeoutMs ?? 2 * MINUTE);
	const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code, sig) => resolve([code, sig]));
	}).finally(() => clearTimeout(timer));
	// Leftover task runners in the group: gone with their parent.
	killGroup(child, 'SIGKILL');
	return { exitCode, signal, timedOut, stdout, stderr, logs, durationMs: Date.now() - started };
}

/** One line saying how a command ended, and the tail of its output. */
export function describeRun(args: string[], r: CommandResult): string {
	const how = r.timedOut ? 'timed out' : `exit ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}`;
	return `n8n ${args.join(' ')}: ${how} after ${r.durationMs} ms\n--- output ---\n${r.logs.slice(-8000)}`;
}

export interface N8nServer {
	/** Base URL of the HTTP server whose readiness was awaited (n8n's port, or a worker's health port). */
	url: string;
	port: number;
	/** Process id of n8n (the leader of its process group; nodes run in this process). */
	pid: number;
	/** Output so far. */
	logs(): string;
	/** SIGTERM to the process group, SIGKILL after 15 s. */
	stop(): Promise<void>;
}

/**
 * Starts a long-running `n8n <args>` (`start`, `worker`) in its own process group and resolves once
 * `<url>/healthz/readiness` answers 200 (within `timeoutMs`, default 2 min). Rejects, after stopping it,
 * when the process ends first or is not ready in time.
 */
export async function startN8nProcess(args: string[], env: NodeJS.ProcessEnv, readiness: { port: number; timeoutMs?: number }): Promise<N8nServer> {
	const child = spawnN8n(args, { env });
	let logs = '';
	const onData = (d: string) => {
		logs += d;
		if (verbose) process.stdout.write(d);
	};
	child.stdout!.setEncoding('utf8').on('data', onData);
	child.stderr!.setEncoding('utf8').on('data', onData);
	let exited: string | undefined;
	const closed = new Promise<void>((resolve) =>
		child.on('close', (code, sig) => {
			exited = `exit ${code}${sig ? ` (${sig})` : ''}`;
			resolve();
		}),
	);
	const url = `http://127.0.0.1:${readiness.port}`;
	const server: N8nServer = {
		url,
		port: readiness.port,
		pid: child.pid ?? -1,
		logs: () => logs,
		async stop() {
			if (exited === undefined) {
				killGroup(child, 'SIGTERM');
				const t = setTimeout(() => killGroup(child, 'SIGKILL'), 15_000);
				await closed;
				clearTimeout(t);
			}
			killGroup(child, 'SIGKILL');
		},
	};
	const what = `n8n ${args.join(' ')} (readiness on port ${readiness.port})`;
	const deadline = Date.now() + (readiness.timeoutMs ?? 2 * MINUTE);
	for (;;) {
		if (exited !== undefined) throw new Error(`${what} ended before it was ready: ${exited}\n${logs.slice(-8000)}`);
		try {
			const res = await fetch(`${url}/healthz/readiness`, { signal: AbortSignal.timeout(2000) });
			if (res.status === 200) return server;
		} catch {
			/* not listening yet */
		}
		if (Date.now() > deadline) {
			await server.stop();
			throw new Error(`${what} not ready in time\n${logs.slice(-8000)}`);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
}
