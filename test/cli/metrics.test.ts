/**
 * `prompt-release metrics` through the CLI: text, --json, --prometheus and the --html overview (checked in
 * headless Chromium) from a registry with a failing run and a forced release; bad options exit 2.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { MetricsReport } from '../../lib/metrics/collect';
import { cli, makeRegistry, RULES, serverEnv } from './helpers';

let server: ModelServer;
let cwd: string;
let env: Record<string, string>;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
	env = serverEnv(server);
	({ cwd } = await makeRegistry());
	const run = (...args: string[]) => cli(args, cwd, env);
	await run('commit', 'price-change', '-m', 'first');
	await run('test', 'price-change', '--version', '1');
	await run('test', 'price-change', '--version', 'draft'); // an experiment: counted apart from the eval numbers
	await run('release', 'price-change', '--version', '1', '--force', '--reason', 'ERP go-live');
});

afterAll(async () => {
	await server.close();
});

const run = (...args: string[]) => cli(args, cwd, env);

test('text, JSON and Prometheus output from what the registry recorded', async () => {
	const text = await run('metrics');
	expect(text.code).toBe(0);
	expect(text.stdout).toContain('price-change — production v1 FORCED');
	expect(text.stdout).toContain('eval runs 1 of frozen versions, mean pass rate 75.0%');
	expect(text.stdout).toContain('; 1 draft run(s) not counted (experiments)');
	expect(text.stdout).toMatch(/FORCED release v1 on production by \S+ at .*: "ERP go-live"/);
	expect(text.stdout).toContain('pending reviews: 0');

	const json = JSON.parse((await run('metrics', 'price-change', '--json', '--since', '7d', '--period', 'day')).stdout) as MetricsReport;
	expect(json.period).toBe('day');
	expect(json.prompts[0]).toMatchObject({ id: 'price-change', evals: { runs: 1, meanPassRate: 0.75, draftRuns: 1 }, changes: { releases: 1, forced: 1 } });

	const prom = await run('metrics', '--prometheus');
	expect(prom.code).toBe(0);
	expect(prom.stdout).toContain('# TYPE prompt_release_forced_releases gauge\nprompt_release_forced_releases{prompt="price-change"} 1\n');
	expect(prom.stdout).toMatch(/prompt_release_eval_pass_rate\{prompt="price-change",version="1"\} 0\.75\n/);
	expect(prom.stdout.endsWith('\n')).toBe(true);
});

test('bad options exit 2 naming the option', async () => {
	expect((await run('metrics', '--since', 'soon')).stderr).toContain('--since "soon" is invalid');
	expect((await run('metrics', '--since', 'soon')).code).toBe(2);
	expect((await run('metrics', '--json', '--prometheus')).code).toBe(2);
	const future = await run('metrics', '--since', '2999-01-01', '--prometheus');
	expect(future.code).toBe(2);
	expect(future.stderr).toContain('--since "2999-01-01" is in the future');
	expect(future.stdout).toBe('');
	const absurd = await run('metrics', '--since', '1000000d');
	expect(absurd.code).toBe(2);
	expect(absurd.stderr).toContain('--since "1000000d" reaches back before 1970-01-01: give a shorter duration such as 30d');
	expect((await run('metrics', 'nope')).code).toBe(2);
});

const CHROMIUM = '/usr/bin/chromium';
(existsSync(CHROMIUM) || process.env.PROMPT_RELEASE_REQUIRE_BROWSER === '1' ? test : test.skip)(
	'--html writes the overview, which renders offline in headless chromium',
	async () => {
		const r = await run('metrics', '--html', 'overview.html');
		expect(r.code).toBe(0);
		expect(r.stdout).toContain('html: overview.html');
		const file = path.join(cwd, 'overview.html');
		const dom = await new Promise<string>((resolve, reject) => {
			const child = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage', `--user-data-dir=${path.join(cwd, 'chromium-profile')}`, '--dump-dom', `file://${file}`], { stdio: ['ignore', 'pipe', 'ignore'] });
			let out = '';
			child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
			child.on('error', reject);
			child.on('close', () => resolve(out));
		});
		expect(dom).toContain('<h1>Prompt operations overview</h1>');
		expect(dom).toContain('aria-label="Pass rate over time of price-change"');
		expect(dom).toContain('>75.0%<');
		expect((await fs.stat(file)).size).toBeGreaterThan(2000);
	},
	60_000,
);
