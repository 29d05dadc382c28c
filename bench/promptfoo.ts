/**
 * promptfoo side by side with a raw openai-SDK loop and `prompt-release test`, same loopback server, same
 * supplier-email cases, same concurrency, 200 ms model latency.
 *
 * promptfoo is never a dependency of this project: the bench installs it into a scratch folder at bench
 * time (`npm install promptfoo@<registry version>`, time-limited) and runs its CLI as a child process,
 * configured with its OpenAI provider pointed at the loopback server (`apiBaseUrl`), a chat prompt with
 * the same system text and user message, `response_format` json_schema, and one assertion per case that
 * the answer's `value` equals the expected one. When the registry has no promptfoo or the install fails,
 * the figure is skipped with the reason.
 *
 * Knobs: BENCH_PROMPTFOO=off skips it; BENCH_PROMPTFOO_VERSION pins a version; BENCH_PROMPTFOO_DIR reuses
 * an install folder (kept); BENCH_PROMPTFOO_INSTALL_TIMEOUT_S (default 600).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runChild, type ChildRun } from './child';
import { CLI, CONCURRENCY, RULES, email, makeRegistry, rawLoop } from './throughput';
import { startModelServer } from '../lib/testing/model-server';

const SYSTEM = 'You read one email from a supplier. Answer with JSON only: {"value": true} or {"value": false}.';

export interface ToolRun {
	wallMs: number;
	/** wall time / the raw loop's. */
	ratio: number;
	peakRssMb: number;
	/** Completion requests the server answered during the run. */
	requests: number;
	exit: number | null;
	/** Wall time of the same CLI printing its version: start-up alone, included in `wallMs`. */
	startupMs: number;
}

export interface PromptfooFigure {
	fixtures: number;
	latencyMs: number;
	concurrency: number;
	rawMs: number;
	/** `prompt-release test --no-cache` as a child process (CLI start-up included, like promptfoo's). */
	promptRelease: ToolRun;
	/** undefined with `skipped` saying why. */
	promptfoo?: ToolRun & { version: string; passed?: number; failed?: number };
	skipped?: string;
}

function npm(): string {
	return path.join(path.dirname(process.execPath), process.platform === 'win32' ? 'npm.cmd' : 'npm');
}

/** `npm <args>` with the bench's Node first on PATH (promptfoo 0.123 needs Node ≥ 22.22). */
async function runNpm(args: string[], cwd: string, timeoutMs: number): Promise<ChildRun> {
	const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
	const bin = existsSync(npm()) ? npm() : 'npm';
	return await runChild(bin, args, { cwd, env, timeoutMs });
}

/** Installs promptfoo into `dir` (a scratch folder); returns its CLI script and version, or why not. */
export async function installPromptfoo(dir: string): Promise<{ cli: string; version: string } | { skipped: string }> {
	const installed = path.join(dir, 'node_modules', 'promptfoo', 'package.json');
	if (!existsSync(installed)) {
		let version = process.env.BENCH_PROMPTFOO_VERSION;
		if (!version) {
			const view = await runNpm(['view', 'promptfoo', 'version'], dir, 60_000);
			version = view.stdout.trim();
			if (view.exit !== 0 || !version) return { skipped: `the npm registry has no promptfoo here (npm view exit ${view.exit}: ${view.stderr.trim().split('\n').pop() ?? ''})` };
		}
		writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-promptfoo', private: true }));
		const timeoutS = Number(process.env.BENCH_PROMPTFOO_INSTALL_TIMEOUT_S ?? 600);
		console.log(`installing promptfoo@${version} into ${dir} (at most ${timeoutS} s)…`);
		const install = await runNpm(['install', `promptfoo@${version}`, '--no-audit', '--no-fund', '--loglevel=error'], dir, timeoutS * 1000);
		if (install.exit !== 0 || !existsSync(installed)) {
			const why = install.timedOut ? `timed out after ${timeoutS} s` : `exit ${install.exit}: ${install.stderr.trim().split('\n').slice(-3).join(' / ')}`;
			return { skipped: `npm install promptfoo@${version} failed (${why})` };
		}
		console.log(`promptfoo installed in ${Math.round(install.wallMs / 1000)} s`);
	}
	const pkg = JSON.parse(readFileSync(installed, 'utf8')) as { version: string; bin?: string | Record<string, string> };
	const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.promptfoo ?? Object.values(pkg.bin ?? {})[0]);
	if (!bin) return { skipped: `promptfoo@${pkg.version} names no CLI in its package.json` };
	return { cli: path.join(dir, 'node_modules', 'promptfoo', bin), version: pkg.version };
}

/** promptfoo's config for `n` cases against `baseUrl`: JSON is YAML, so one file serves. */
export function promptfooConfig(n: number, baseUrl: string): Record<string, unknown> {
	const schema = { type: 'object', properties: { value: { type: 'boolean' } }, required: ['value'], additionalProperties: false };
	return {
		description: 'supplier emails: does the email announce a price change?',
		prompts: [{ id: 'price-change', raw: JSON.stringify([{ role: 'system', content: SYSTEM }, { role: 'user', content: 'Subject: {{subject}}\n\n{{body}}' }]) }],
		providers: [
			{
				id: 'openai:chat:test-model',
				config: {
					apiBaseUrl: baseUrl,
					apiKey: 'bench',
					temperature: 0,
					max_tokens: 20,
					response_format: { type: 'json_schema', json_schema: { name: 'price-change', schema, strict: true } },
				},
			},
		],
		tests: Array.from({ length: n }, (_, i) => ({
			vars: email(i),
			assert: [{ type: 'javascript', value: `JSON.parse(typeof output === 'string' ? output : JSON.stringify(output)).value === ${i % 3 === 0}` }],
		})),
		evaluateOptions: { maxConcurrency: CONCURRENCY, cache: false, showProgressBar: false },
		sharing: false,
	};
}

/** Reads pass/fail counts from promptfoo's `-o out.json` (results.stats), when present. */
function promptfooStats(file: string): { passed?: number; failed?: number } {
	try {
		const out = JSON.parse(readFileSync(file, 'utf8')) as { results?: { stats?: { successes?: number; failures?: number } } };
		return { passed: out.results?.stats?.successes, failed: out.results?.stats?.failures };
	} catch {
		return {};
	}
}

/** The promptfoo row: raw loop, `prompt-release test`, promptfoo eval — `n` cases, `latencyMs`, concurrency 16. */
export async function promptfooComparison(n = 1000, latencyMs = 200): Promise<PromptfooFigure> {
	const scratch = mkdtempSync(path.join(tmpdir(), 'prompt-release-bench-promptfoo-'));
	const keep = process.env.BENCH_PROMPTFOO_DIR;
	const installDir = keep ?? path.join(scratch, 'install');
	mkdirSync(installDir, { recursive: true });
	const root = makeRegistry(n);
	const server = await startModelServer({ rules: RULES, latencyMs, record: false });
	const requests = () => server.completions;
	try {
		const tool = process.env.BENCH_PROMPTFOO === 'off' ? { skipped: 'BENCH_PROMPTFOO=off' } : await installPromptfoo(installDir);
		await rawLoop(server, Math.min(n, 200)); // warm-up
		const rawMs = Math.round(await rawLoop(server, n));
		const before = requests();
		const pr = await runChild(process.execPath, [CLI, 'test', 'price-change', '--json', '--no-cache', '--concurrency', String(CONCURRENCY), '--registry', root], {
			env: { ...process.env, OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: 'bench' },
			timeoutMs: 10 * 60_000,
		});
		const prStartup = (await runChild(process.execPath, [CLI, '--version'])).wallMs;
		const promptRelease: ToolRun = { wallMs: pr.wallMs, ratio: ratio(pr.wallMs, rawMs), peakRssMb: pr.peakRssMb, requests: requests() - before, exit: pr.exit, startupMs: prStartup };
		const figure: PromptfooFigure = { fixtures: n, latencyMs, concurrency: CONCURRENCY, rawMs, promptRelease };
		if ('skipped' in tool) return { ...figure, skipped: tool.skipped };

		const config = path.join(scratch, 'promptfooconfig.yaml');
		writeFileSync(config, JSON.stringify(promptfooConfig(n, server.openaiBaseUrl)));
		const out = path.join(scratch, 'out.json');
		const home = path.join(scratch, 'home'); // promptfoo's database, logs and cache stay in the scratch folder
		mkdirSync(home);
		const start = requests();
		const pfEnv = { ...process.env, PROMPTFOO_CONFIG_DIR: home, PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1', OPENAI_API_KEY: 'bench', NO_COLOR: '1' };
		const pfStartup = (await runChild(process.execPath, [tool.cli, '--version'], { cwd: scratch, env: pfEnv })).wallMs;
		const pf = await runChild(
			process.execPath,
			[tool.cli, 'eval', '-c', config, '--no-cache', '-j', String(CONCURRENCY), '--no-table', '--no-progress-bar', '--no-write', '-o', out],
			{
				cwd: scratch,
				env: pfEnv,
				timeoutMs: 10 * 60_000,
			},
		);
		const stats = promptfooStats(out);
		if (pf.timedOut || stats.passed === undefined) {
			return { ...figure, skipped: `promptfoo@${tool.version} eval did not produce results (exit ${pf.exit}${pf.timedOut ? ', timed out' : ''}): ${pf.stderr.trim().split('\n').slice(-5).join(' / ')}` };
		}
		return { ...figure, promptfoo: { version: tool.version, wallMs: pf.wallMs, ratio: ratio(pf.wallMs, rawMs), peakRssMb: pf.peakRssMb, requests: requests() - start, exit: pf.exit, startupMs: pfStartup, ...stats } };
	} finally {
		await server.close();
		rmSync(root, { recursive: true, force: true });
		rmSync(scratch, { recursive: true, force: true });
	}
}

function ratio(ms: number, rawMs: number): number {
	return Number((ms / rawMs).toFixed(3));
}
