/**
 * Ctrl-C (SIGINT) and SIGTERM during a run with thousands of fixtures: the CLI stops sending, removes its
 * partial results, says in one line that the run was interrupted and nothing was stored, and exits 130 / 143.
 * A run killed outright (SIGKILL) leaves its partial file: `validate` names it, `validate --fix` removes it.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { CLI, cleanEnv, cli, makeRegistry, RULES, serverEnv, type FixtureSpec } from './helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES, record: false });
});

afterAll(async () => {
	await server.close();
});

const FIXTURES: FixtureSpec[] = Array.from({ length: 3000 }, (_, i) => ({ id: `case-${String(i).padStart(4, '0')}`, subject: `Price increase ${i}`, body: `All items +${i % 9}% from 1 March.`, expected: true }));

/** Start `args` and send `signal` as soon as the run has written partial results; resolves with how it ended. */
async function interrupt(args: string[], cwd: string, runsDir: string, signal: NodeJS.Signals) {
	const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(serverEnv(server)), stdio: ['ignore', 'pipe', 'pipe'] });
	let stderr = '';
	child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
	child.stdout.resume();
	const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
	let partial: string | undefined;
	for (let i = 0; i < 1500 && !partial; i++) {
		partial = (await fs.readdir(runsDir).catch(() => [] as string[])).find((f) => f.endsWith('.partial'));
		if (!partial) await new Promise((r) => setTimeout(r, 10));
	}
	expect(partial).toMatch(new RegExp(`^\\.[0-9TZ]+-[0-9a-f]+\\.results\\.jsonl\\.[A-Za-z0-9_-]+-${child.pid}\\.partial$`));
	const sentBefore = server.completions;
	child.kill(signal);
	const code = await exited;
	return { code, stderr, sentBefore, partial: partial! };
}

describe.each([
	['SIGINT', 130],
	['SIGTERM', 143],
] as const)('%s', (signal, exitCode) => {
	test(`test: stops sending, removes its partial results, one line, exit ${exitCode}`, async () => {
		const { cwd, promptDir } = await makeRegistry({ fixtures: FIXTURES });
		server.setLatency(10);
		const runsDir = path.join(promptDir, 'runs');
		const ended = await interrupt(['test', 'price-change', '--concurrency', '8'], cwd, runsDir, signal);
		expect(ended.code).toBe(exitCode);
		const lines = ended.stderr.trim().split('\n');
		expect(lines[lines.length - 1]).toBe(`interrupted by ${signal}: the run stopped and nothing was stored.`);
		expect(await fs.readdir(runsDir)).toEqual([]);
		// Stopped sending: far fewer calls than fixtures, and none once it exited.
		expect(server.completions - ended.sentBefore).toBeLessThan(100);
		const after = server.completions;
		await new Promise((r) => setTimeout(r, 100));
		expect(server.completions).toBe(after);
		expect((await cli(['validate'], cwd)).code).toBe(0);
	});
});

test('migrate: SIGINT discards the migration run it was writing', async () => {
	const { cwd, promptDir } = await makeRegistry({ fixtures: FIXTURES.slice(0, 1500) });
	server.setLatency(0);
	const env = serverEnv(server);
	expect((await cli(['commit', 'price-change', '-m', 'v1'], cwd, env)).code).toBe(0);
	expect((await cli(['test', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
	expect((await cli(['release', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
	const runsDir = path.join(promptDir, 'runs');
	const before = (await fs.readdir(runsDir)).sort();
	server.setLatency(10);
	const ended = await interrupt(['migrate', 'price-change', '--model', 'openai:claude-haiku-4-5', '--concurrency', '8'], cwd, runsDir, 'SIGINT');
	expect(ended.code).toBe(130);
	expect(ended.stderr).toContain('interrupted by SIGINT: the migration run stopped and nothing was stored.');
	expect((await fs.readdir(runsDir)).sort()).toEqual(before);
});

test('SIGKILL leaves the partial file: validate names it as an abandoned partial run, validate --fix removes it', async () => {
	const { cwd, promptDir } = await makeRegistry({ fixtures: FIXTURES });
	server.setLatency(10);
	const runsDir = path.join(promptDir, 'runs');
	const ended = await interrupt(['test', 'price-change', '--concurrency', '8'], cwd, runsDir, 'SIGKILL');
	expect(ended.code).toBeNull();
	expect(await fs.readdir(runsDir)).toEqual([ended.partial]);

	const validate = await cli(['validate'], cwd);
	expect(validate.code).toBe(2);
	expect(validate.stderr).toMatch(new RegExp(`prompts/price-change/runs/${ended.partial.replace(/\./g, '\\.')}: abandoned partial run [0-9TZ]+-[0-9a-f]+: the results of a run that never finished \\(\\d+ KB, last written [^;]+; its writer, process \\d+ on this host, is no longer running\\)\\. No run reads it: run "prompt-release validate --fix" to remove it`));
	const fixed = await cli(['validate', '--fix'], cwd);
	expect(fixed.code).toBe(0);
	expect(fixed.stdout).toMatch(/abandoned partial runs: 1 file removed \(\d+ KB\)/);
	expect(await fs.readdir(runsDir)).toEqual([]);
});
