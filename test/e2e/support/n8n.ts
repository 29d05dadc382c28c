/**
 * Drive a REAL n8n (the pinned host from scripts/n8n-host/, run on Node 24) from jest e2e tests.
 *
 *   const host = ensureN8nHost();                 // installs into the cache on first use (minutes)
 *   const ext = packExtension();                  // this package, packed + installed like n8n does
 *   const n8n = await createN8n({ customExtensions: ext.customExtensions });
 *   await n8n.importCredentials(file); await n8n.importWorkflow(file);
 *   const run = await n8n.executeWorkflow('wf-id');   // run.ok, run.status, run.output (--rawOutput JSON)
 *   const server = await n8n.startServer();           // { url, stop() }
 *   await n8n.dispose();                               // stops servers, removes the temp user folder
 *
 * Every child runs in its own process group and is killed (group-wide) on timeout or stop.
 * Knobs: PROMPT_RELEASE_E2E_KEEP=1 keeps user folders; PROMPT_RELEASE_E2E_VERBOSE=1 echoes n8n output.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Fixed key: imported credentials are encrypted with it, so every command must use the same one. */
export const E2E_ENCRYPTION_KEY = 'prompt-release-e2e-fixed-encryption-key';

const MINUTE = 60_000;
const verbose = process.env.PROMPT_RELEASE_E2E_VERBOSE === '1';

export interface N8nHost {
	/** Install folder in the cache (package.json, node_modules/n8n, ...). */
	hostDir: string;
	/** n8n's entry script; run it with {@link N8nHost.nodeBin}. */
	n8nBin: string;
	/** The Node 24 binary from the cache. */
	nodeBin: string;
}

export interface PackedExtension {
	/** Value for N8N_CUSTOM_EXTENSIONS: a folder holding only a symlink to the package's dist/. */
	customExtensions: string;
	/** The installed package (package.json, dist/, node_modules/ with production dependencies). */
	packageDir: string;
}

function parseKeyValues(out: string): Record<string, string> {
	const kv: Record<string, string> = {};
	for (const line of out.split('\n')) {
		const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
		if (m) kv[m[1]] = m[2];
	}
	return kv;
}

function runScript(script: string, args: string[], timeoutMs: number): Record<string, string> {
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

let extensionCache: PackedExtension | undefined;

/**
 * Packs this project's dist/ and installs it as n8n installs a community package
 * (scripts/pack-extension.sh --no-prepare: never reinstalls or rebuilds the repo from inside a test run;
 * scripts/test.sh and the jest global setup build dist/ beforehand).
 */
export function packExtension(): PackedExtension {
	if (extensionCache) return extensionCache;
	if (!fs.existsSync(path.join(REPO_ROOT, 'dist'))) throw new Error('dist/ is missing: build first (npm run build)');
	const kv = runScript('pack-extension.sh', ['--no-prepare'], 15 * MINUTE);
	if (!kv.N8N_CUSTOM_EXTENSIONS || !kv.PROMPT_RELEASE_EXTENSION_PACKAGE) {
		throw new Error(`scripts/pack-extension.sh printed ${JSON.stringify(kv)}`);
	}
	extensionCache = { customExtensions: kv.N8N_CUSTOM_EXTENSIONS, packageDir: kv.PROMPT_RELEASE_EXTENSION_PACKAGE };
	return extensionCache;
}

/**
 * Environment for a quiet, offline n8n: a whitelist of the parent's variables (no NODE_ENV=test,
 * no stray N8N_*), the recipe's switches, a fixed encryption key, listening on 127.0.0.1 only.
 * Pass N8N_CUSTOM_EXTENSIONS (see {@link packExtension}) and anything else in `extraEnv`;
 * a value of `undefined` removes a variable.
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

/** A free TCP port on 127.0.0.1 (for N8N_PORT and N8N_RUNNERS_BROKER_PORT). */
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

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
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

function spawnN8n(args: string[], opts: RunOptions): ChildProcess {
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

function describe(args: string[], r: CommandResult): string {
	const how = r.timedOut ? 'timed out' : `exit ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}`;
	return `n8n ${args.join(' ')}: ${how} after ${r.durationMs} ms\n--- output ---\n${r.logs.slice(-8000)}`;
}

/**
 * The JSON document `n8n execute --rawOutput` prints after its log lines: the first line starting
 * with `{` or `[` from which the rest of the output parses (trailing log lines are tolerated).
 */
export function parseRawOutput(stdout: string): unknown {
	const lines = stdout.split('\n');
	for (let i = 0; i < lines.length; i++) {
		if (!/^[[{]/.test(lines[i])) continue;
		for (let j = lines.length; j > i; j--) {
			const candidate = lines.slice(i, j).join('\n').trim();
			if (!/[\]}]$/.test(candidate)) continue;
			try {
				return JSON.parse(candidate);
			} catch {
				/* keep looking */
			}
		}
	}
	return undefined;
}

export interface ExecuteResult extends CommandResult {
	/** Parsed `--rawOutput` JSON (n8n's IRun: data.resultData.runData, status, ...), or undefined. */
	output: unknown;
	/** `output.status` ('success', 'error', ...), or undefined when no result was printed. */
	status: string | undefined;
	/**
	 * n8n 2.41.1's `execute` ends with process.exit() while its isolated-vm expression engine may still
	 * be compiling a replacement isolate: the process then dies of SIGSEGV (about half the runs here)
	 * AFTER printing the complete, final result. True when that happened.
	 */
	crashedAfterResult: boolean;
	/** Workflow succeeded: status 'success' and exit 0 (or the crash-after-result above). */
	ok: boolean;
}

export interface N8nServer {
	url: string;
	port: number;
	/** Output so far. */
	logs(): string;
	/** SIGTERM to the process group, SIGKILL after 15 s. */
	stop(): Promise<void>;
}

export interface CreateN8nOptions {
	/** User folder (n8n's database, config). Default: a new temp folder, removed by dispose(). */
	userFolder?: string;
	/** N8N_CUSTOM_EXTENSIONS, e.g. packExtension().customExtensions. */
	customExtensions?: string;
	/** More environment for every command. */
	env?: Record<string, string | undefined>;
}

export interface N8nInstance {
	userFolder: string;
	/** The environment every command gets (before per-command ports). */
	env: NodeJS.ProcessEnv;
	/** Runs any n8n CLI command with this instance's environment. */
	run(args: string[], opts?: { timeoutMs?: number; env?: Record<string, string | undefined> }): Promise<CommandResult>;
	/** `n8n import:credentials --input=<file>`; throws with n8n's output on failure. */
	importCredentials(file: string): Promise<CommandResult>;
	/** `n8n import:workflow --input=<file>` (give the workflow a fixed `id`); throws on failure. */
	importWorkflow(file: string): Promise<CommandResult>;
	/**
	 * `n8n execute --id=<id> --rawOutput`. Does not throw when the workflow fails (exit code 1):
	 * check `exitCode` and `output`. Uses its own task-runner broker port, so it can run next to a server.
	 */
	executeWorkflow(id: string, opts?: { timeoutMs?: number; env?: Record<string, string | undefined> }): Promise<ExecuteResult>;
	/** `n8n start` on 127.0.0.1:<port> (default: a free port); resolves once /healthz/readiness is 200. */
	startServer(port?: number, opts?: { timeoutMs?: number; env?: Record<string, string | undefined> }): Promise<N8nServer>;
	/** Stops servers started here and removes a temp user folder (unless PROMPT_RELEASE_E2E_KEEP=1). */
	dispose(): Promise<void>;
}

/** Creates an n8n "instance": a user folder plus helpers that run the cached n8n against it. */
export async function createN8n(options: CreateN8nOptions = {}): Promise<N8nInstance> {
	ensureN8nHost();
	const ownFolder = options.userFolder === undefined;
	const userFolder = options.userFolder ?? fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-n8n-'));
	fs.mkdirSync(userFolder, { recursive: true });
	const env = n8nEnv(userFolder, {
		...(options.customExtensions ? { N8N_CUSTOM_EXTENSIONS: options.customExtensions } : {}),
		...options.env,
	});
	const servers = new Set<N8nServer>();

	const commandEnv = async (extra?: Record<string, string | undefined>): Promise<NodeJS.ProcessEnv> => {
		const e: NodeJS.ProcessEnv = { ...env, N8N_RUNNERS_BROKER_PORT: String(await freePort()) };
		for (const [k, v] of Object.entries(extra ?? {})) {
			if (v === undefined) delete e[k];
			else e[k] = v;
		}
		return e;
	};

	const run: N8nInstance['run'] = async (args, opts = {}) =>
		await runN8n(args, { env: await commandEnv(opts.env), timeoutMs: opts.timeoutMs });

	const mustRun = async (args: string[]): Promise<CommandResult> => {
		const r = await run(args);
		if (r.exitCode !== 0) throw new Error(describe(args, r));
		return r;
	};

	return {
		userFolder,
		env,
		run,
		importCredentials: async (file) => await mustRun(['import:credentials', `--input=${path.resolve(file)}`]),
		importWorkflow: async (file) => await mustRun(['import:workflow', `--input=${path.resolve(file)}`]),
		async executeWorkflow(id, opts = {}) {
			const r = await run(['execute', `--id=${id}`, '--rawOutput'], { timeoutMs: opts.timeoutMs ?? 3 * MINUTE, env: opts.env });
			if (r.timedOut) throw new Error(describe(['execute', `--id=${id}`], r));
			const output = parseRawOutput(r.stdout);
			const result = output as { status?: unknown; finished?: unknown } | undefined;
			const status = typeof result?.status === 'string' ? result.status : undefined;
			const crashedAfterResult = r.signal === 'SIGSEGV' && status !== undefined;
			const ok = status === 'success' && (r.exitCode === 0 || crashedAfterResult);
			return { ...r, output, status, crashedAfterResult, ok };
		},
		async startServer(port, opts = {}) {
			const p = port ?? (await freePort());
			const e = await commandEnv({ N8N_PORT: String(p), ...opts.env });
			const child = spawnN8n(['start'], { env: e });
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
			const url = `http://127.0.0.1:${p}`;
			const server: N8nServer = {
				url,
				port: p,
				logs: () => logs,
				async stop() {
					servers.delete(server);
					if (exited === undefined) {
						killGroup(child, 'SIGTERM');
						const t = setTimeout(() => killGroup(child, 'SIGKILL'), 15_000);
						await closed;
						clearTimeout(t);
					}
					killGroup(child, 'SIGKILL');
				},
			};
			servers.add(server);
			const deadline = Date.now() + (opts.timeoutMs ?? 2 * MINUTE);
			for (;;) {
				if (exited !== undefined) {
					servers.delete(server);
					throw new Error(`n8n start on port ${p} ended before it was ready: ${exited}\n${logs.slice(-8000)}`);
				}
				try {
					const res = await fetch(`${url}/healthz/readiness`, { signal: AbortSignal.timeout(2000) });
					if (res.status === 200) return server;
				} catch {
					/* not listening yet */
				}
				if (Date.now() > deadline) {
					await server.stop();
					throw new Error(`n8n start on port ${p} not ready in time\n${logs.slice(-8000)}`);
				}
				await new Promise((r) => setTimeout(r, 250));
			}
		},
		async dispose() {
			await Promise.all([...servers].map(async (s) => await s.stop()));
			if (ownFolder && process.env.PROMPT_RELEASE_E2E_KEEP !== '1') {
				fs.rmSync(userFolder, { recursive: true, force: true });
			}
		},
	};
}
