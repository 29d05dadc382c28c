/**
 * Drive a REAL n8n (the pinned host from scripts/n8n-host/, run on Node 24) from jest e2e tests, with
 * this package installed where a user's n8n has it (see ./package.ts).
 *
 *   const n8n = await createN8n({ withPackage: true }); // user folder with the packed package installed
 *   await n8n.importCredentials(file); await n8n.importWorkflow(file);
 *   const run = await n8n.executeWorkflow('wf-id');   // run.ok, run.status, run.output (--rawOutput JSON)
 *   const server = await n8n.startServer();           // { url, stop() }
 *   await n8n.dispose();                               // stops servers, removes the temp user folder
 *
 * Every child runs in its own process group and is killed (group-wide) on timeout or stop.
 * Knobs: PROMPT_RELEASE_E2E_KEEP=1 keeps user folders; PROMPT_RELEASE_E2E_VERBOSE=1 echoes n8n output.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { installPackage } from './package';
import {
	MINUTE,
	describeRun,
	ensureN8nHost,
	freePort,
	n8nEnv,
	runN8n,
	startN8nProcess,
	type CommandResult,
	type N8nServer,
} from './process';

export * from './process';
export * from './package';

/**
 * The JSON document `n8n execute --rawOutput` prints after its log lines: the first line starting
 * with `{` or `[` from which the rest of the output parses (trailing log lines are tolerated).
 */
export function parseRawOutput(stdout: string): unknown {
	const lines = stdout.split('\n');
	// Fast path: n8n prints the document indented by 2, from a line holding only `{` (or `[`) to the last
	// unindented `}` (or `]`) line. Trying those first keeps large outputs (hundreds of items, model calls
	// with their messages) linear; the line-by-line scan below is the fallback.
	let end = lines.length - 1;
	while (end >= 0 && !/^[\]}]\s*$/.test(lines[end])) end--;
	for (let start = 0; start < end; start++) {
		if (!/^[[{]\s*$/.test(lines[start])) continue;
		try {
			return JSON.parse(lines.slice(start, end + 1).join('\n'));
		} catch {
			/* try the next start, then the scan */
		}
	}
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

export interface CreateN8nOptions {
	/** User folder (n8n's database, config). Default: a new temp folder, removed by dispose(). */
	userFolder?: string;
	/** Install this package (packed, as n8n installs community packages) into the user folder. */
	withPackage?: boolean;
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
	 * `n8n publish:workflow --id=<id>`: n8n 2.x imports workflows inactive; a published workflow's triggers
	 * (webhooks, Form Triggers) are activated by the next `n8n start`. Throws on failure.
	 */
	publishWorkflow(id: string): Promise<CommandResult>;
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
	if (options.withPackage) installPackage(userFolder);
	const env = n8nEnv(userFolder, options.env);
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
		if (r.exitCode !== 0) throw new Error(describeRun(args, r));
		return r;
	};

	return {
		userFolder,
		env,
		run,
		importCredentials: async (file) => await mustRun(['import:credentials', `--input=${path.resolve(file)}`]),
		importWorkflow: async (file) => await mustRun(['import:workflow', `--input=${path.resolve(file)}`]),
		publishWorkflow: async (id) => await mustRun(['publish:workflow', `--id=${id}`]),
		async executeWorkflow(id, opts = {}) {
			const r = await run(['execute', `--id=${id}`, '--rawOutput'], { timeoutMs: opts.timeoutMs ?? 3 * MINUTE, env: opts.env });
			if (r.timedOut) throw new Error(describeRun(['execute', `--id=${id}`], r));
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
			const server = await startN8nProcess(['start'], e, { port: p, timeoutMs: opts.timeoutMs });
			const tracked: N8nServer = {
				...server,
				async stop() {
					servers.delete(tracked);
					await server.stop();
				},
			};
			servers.add(tracked);
			return tracked;
		},
		async dispose() {
			await Promise.all([...servers].map(async (s) => await s.stop()));
			if (ownFolder && process.env.PROMPT_RELEASE_E2E_KEEP !== '1') {
				fs.rmSync(userFolder, { recursive: true, force: true });
			}
		},
	};
}
