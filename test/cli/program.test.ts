/** The program itself: help, version, usage errors, the registry option, status of all prompts, model-server. */
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLI, cleanEnv, cli, makeRegistry, promptYaml, RULES, tempDir, write } from './helpers';

const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };

test('--help and --version exit 0; usage errors exit 2 with "prompt-release:"', async () => {
	const cwd = await tempDir();
	const [help, testHelp, version, unknownCommand, unknownOption, missingArg, noVersion] = await Promise.all([
		cli(['--help'], cwd),
		cli(['test', '--help'], cwd),
		cli(['--version'], cwd),
		cli(['deploy'], cwd),
		cli(['status', '--colour'], cwd),
		cli(['commit'], cwd),
		cli(['release', 'price-change'], cwd),
	]);
	expect(help.code).toBe(0);
	expect(help.stdout).toMatch(/Usage: prompt-release \[options\] \[command\]/);
	for (const name of ['init', 'validate', 'commit', 'fixtures', 'test', 'release', 'rollback', 'status', 'model-server']) expect(help.stdout).toContain(`  ${name} `);
	expect(help.stdout).toContain('Exit codes: 0 ok, 1 a fixture failed or a release was refused, 2 usage');
	expect(testHelp.code).toBe(0);
	expect(testHelp.stdout).toContain('--junit <file>');
	expect(version.code).toBe(0);
	expect(version.stdout.trim()).toBe(pkg.version);
	expect(unknownCommand.code).toBe(2);
	expect(unknownCommand.stderr).toMatch(/^prompt-release: unknown command 'deploy'/);
	expect(unknownOption.code).toBe(2);
	expect(unknownOption.stderr).toMatch(/^prompt-release: unknown option '--colour'/);
	expect(missingArg.code).toBe(2);
	expect(missingArg.stderr).toMatch(/^prompt-release: missing required argument 'prompt'/);
	expect(noVersion.code).toBe(2);
});

test('status of all prompts; the registry comes from --registry (before or after the command) or PROMPT_RELEASE_REGISTRY', async () => {
	const { cwd, registry } = await makeRegistry();
	await write(registry, 'invoice-total/prompt.yaml', promptYaml({ id: 'invoice-total' }));
	const elsewhere = await tempDir();
	const [after, before, fromEnv, json, defaultMissing] = await Promise.all([
		cli(['status', '--registry', registry], elsewhere),
		cli(['--registry', registry, 'status'], elsewhere),
		cli(['status'], elsewhere, { PROMPT_RELEASE_REGISTRY: registry }),
		cli(['status', '--json'], cwd),
		cli(['status'], elsewhere),
	]);
	for (const r of [after, before, fromEnv]) {
		expect(r.code).toBe(0);
		const lines = r.stdout.trim().split('\n');
		expect(lines[0]).toMatch(/^PROMPT +MODEL +VERSIONS +DRAFT +CHANNELS +FIXTURES +PENDING REVIEWS +LAST RUN$/);
		expect(lines[1]).toMatch(/^invoice-total +openai:gpt-4o-mini +- +new \(not committed\) +- +0 +0 +-$/);
		expect(lines[2]).toMatch(/^price-change +openai:gpt-4o-mini +- +new \(not committed\) +- +4 \(manual 4\) +0 +-$/);
		expect(lines).toHaveLength(3);
	}
	const list = JSON.parse(json.stdout) as Array<{ id: string; fixtures: { total: number } }>;
	expect(list.map((s) => [s.id, s.fixtures.total])).toEqual([
		['invoice-total', 0],
		['price-change', 4],
	]);
	expect(defaultMissing.code).toBe(2);
	expect(defaultMissing.stderr).toMatch(/^prompt-release: prompts: registry folder not found/);
});

/** Start `prompt-release model-server` with `args`; resolves with its base URL once the banner is printed. */
async function startServer(cwd: string, args: string[]) {
	const child = spawn(process.execPath, [CLI, 'model-server', '--port', '0', ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8');
	child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
	const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
	await new Promise<void>((resolve, reject) => {
		child.stdout.on('data', (d: string) => {
			stdout += d;
			if (stdout.includes('stop with Ctrl-C')) resolve();
		});
		child.on('close', (code) => reject(new Error(`model-server exited with ${code}: ${stderr}`)));
	});
	const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1];
	return { child, url, banner: () => stdout, stderr: () => stderr, exited };
}

test('model-server --rate-limit-rps / --tokens-per-minute: 429 with retry-after beyond the limit; test still passes every fixture, paced by it', async () => {
	const cwd = await tempDir();
	expect((await cli(['init'], cwd)).code).toBe(0);
	await write(cwd, 'rules.yaml', JSON.stringify(RULES));
	const bad = await cli(['model-server', '--rate-limit-rps', 'fast'], cwd);
	expect(bad.code).toBe(2);
	expect(bad.stderr).toContain('--rate-limit-rps "fast" is invalid: give a number above 0');
	const zeroTokens = await cli(['model-server', '--tokens-per-minute', '0'], cwd);
	expect(zeroTokens.code).toBe(2);
	expect(zeroTokens.stderr).toContain('--tokens-per-minute "0" is invalid');

	const server = await startServer(cwd, ['--rules', 'rules.yaml', '--rate-limit-rps', '2', '--tokens-per-minute', '1000000']);
	try {
		expect(server.banner()).toContain('rate limit 2 requests/s and 1000000 tokens/min: beyond it a completion gets 429 with retry-after');
		// Five requests at once against a bucket of two: the rest are refused the way OpenAI refuses them.
		const ask = () =>
			fetch(`${server.url}/v1/chat/completions`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
				body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_completion_tokens: 10 }),
			});
		const answers = await Promise.all(Array.from({ length: 5 }, ask));
		const statuses = answers.map((r) => r.status).sort();
		expect(statuses).toEqual([200, 200, 429, 429, 429]);
		const refused = answers.find((r) => r.status === 429)!;
		expect(Number(refused.headers.get('retry-after-ms'))).toBeGreaterThan(0);
		expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('2');
		expect(answers.find((r) => r.status === 200)!.headers.get('x-ratelimit-limit-tokens')).toBe('1000000');

		// The adaptive limiter follows the 429s and headers: every fixture still gets its answer.
		const run = await cli(['test', 'price-change', '--json', '--concurrency', '8'], cwd, { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: 'x' });
		expect(JSON.parse(run.stdout)).toMatchObject({ total: 7, passed: 7, failed: 0 });
	} finally {
		server.child.kill('SIGTERM');
	}
	expect(await server.exited).toBe(0);
	expect(server.stderr()).toMatch(/model-server: answered \d+ completion requests, ([3-9]|\d{2,}) of them with 429 \(rate limit\)/);
});

test('model-server serves the deterministic model until SIGTERM; init + test pass against it', async () => {
	const cwd = await tempDir();
	expect((await cli(['init'], cwd)).code).toBe(0);
	await write(cwd, 'rules.yaml', JSON.stringify(RULES));
	const child = spawn(process.execPath, [CLI, 'model-server', '--rules', 'rules.yaml', '--port', '0'], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	child.stdout.setEncoding('utf8');
	const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
	try {
		const banner = await new Promise<string>((resolve, reject) => {
			child.stdout.on('data', (d: string) => {
				stdout += d;
				if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
			});
			child.on('close', (code) => reject(new Error(`model-server exited with ${code}`)));
		});
		const m = /^Deterministic test model \(not an LLM\) listening on (http:\/\/127\.0\.0\.1:\d+) — OpenAI base URL (\S+), Anthropic base URL (\S+); answers from rules\.yaml$/.exec(banner);
		expect(m).not.toBeNull();
		expect(m![2]).toBe(`${m![1]}/v1`);
		expect(m![3]).toBe(m![1]);
		const test = await cli(['test', 'price-change', '--json'], cwd, { OPENAI_BASE_URL: m![2], OPENAI_API_KEY: 'x' });
		expect(JSON.parse(test.stdout)).toMatchObject({ total: 7, passed: 7, failed: 0, passRate: 1 });
		expect(test.code).toBe(0);
	} finally {
		child.kill('SIGTERM');
	}
	expect(await exited).toBe(0);
	// One run stored: its summary document and its results file (run format 2).
	const runFiles = (await fs.readdir(path.join(cwd, 'prompts/price-change/runs'))).sort();
	expect(runFiles).toHaveLength(2);
	const runId = runFiles[0].replace(/\.json$/, '');
	expect(runFiles).toEqual([`${runId}.json`, `${runId}.results.jsonl`]);
});
