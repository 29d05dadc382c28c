/**
 * The release lifecycle through the CLI: a failing version is refused, the fixed one is released,
 * regressions are measured against production's run, rollback walks the history back.
 * The steps share one registry and run in order.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { ReleasesState } from '../../lib/types';
import { cli, FIXED_TEMPLATE, makeRegistry, promptYaml, RULES, serverEnv } from './helpers';

let server: ModelServer;
let cwd: string;
let promptDir: string;
let env: Record<string, string>;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
	env = serverEnv(server);
	({ cwd, promptDir } = await makeRegistry());
});

afterAll(async () => {
	await server.close();
});

async function releases(): Promise<ReleasesState> {
	return parseYaml(await fs.readFile(path.join(promptDir, 'releases.yaml'), 'utf8')) as ReleasesState;
}

const run = (...args: string[]) => cli(args, cwd, env);

test('a version that fails a fixture is refused, naming the fixture', async () => {
	expect((await run('commit', 'price-change', '-m', 'first')).code).toBe(0);
	const tested = await run('test', 'price-change');
	expect(tested.code).toBe(1);
	expect(tested.stdout).toContain('testing price-change version 1 (the latest; nothing is on production yet)');

	const release = await run('release', 'price-change', '--version', '1');
	expect(release.code).toBe(1);
	expect(release.stdout).toBe('');
	expect(release.stderr).toContain('prompt-release: release of "price-change" version 1 to "production" refused:');
	expect(release.stderr).toMatch(/failed 1 of 4 fixtures: tricky \(expected false, got true\)/);
	expect(release.stderr).toContain('prompt-release: failing fixtures: tricky');
	expect(await fs.access(path.join(promptDir, 'releases.yaml')).then(() => true, () => false)).toBe(false);
});

test('the fixed version: a --model run is no evidence; its own passing run is, and it is released once', async () => {
	await fs.writeFile(path.join(promptDir, 'prompt.yaml'), promptYaml({ template: FIXED_TEMPLATE }));
	expect((await run('commit', 'price-change', '-m', 'read negations')).stdout).toMatch(/^committed price-change version 2 /);

	const other = await run('test', 'price-change', '--version', '2', '--model', 'anthropic:claude-haiku-4-5');
	expect(other.code).toBe(0);
	const refused = await run('release', 'price-change', '--version', '2');
	expect(refused.code).toBe(1);
	expect(refused.stderr).toMatch(/no stored test run of version 2 \(sha256:[0-9a-f]{64}\)/);

	const tested = await run('test', 'price-change', '--version', '2', '--json');
	expect(tested.code).toBe(0);
	const { runId } = JSON.parse(tested.stdout) as { runId: string };
	const released = await run('release', 'price-change', '--version', '2', '--reason', 'fixes negations');
	expect(released.code).toBe(0);
	expect(released.stdout.trim()).toBe(`released price-change version 2 to production (run ${runId})`);

	const again = await run('release', 'price-change', '--version', '2');
	expect(again.code).toBe(0);
	expect(again.stdout).toMatch(/^price-change version 2 is already on production \(since .+\): nothing changed/);
	const state = await releases();
	expect(state.channels.production).toMatchObject({ version: 2, runId });
	expect(state.history).toHaveLength(1);
	expect(state.history[0]).toMatchObject({ action: 'release', version: 2, by: 'tester', reason: 'fixes negations', runId });
});

test('a second version is released over the first; a worse run reports regressions against production', async () => {
	await fs.writeFile(path.join(promptDir, 'prompt.yaml'), promptYaml({ template: FIXED_TEMPLATE, instructions: 'Answer true only when our prices change.' }));
	expect((await run('commit', 'price-change')).code).toBe(0);
	const tested = await run('test', 'price-change', '--version', '3');
	expect(tested.stdout).toMatch(/regressions: none against run \S+ \(production, version 2\)/);
	expect(tested.code).toBe(0);
	const released = await run('release', 'price-change', '--version', '3');
	expect(released.stdout).toMatch(/^released price-change version 3 to production \(run \S+\); was version 2/);

	// The model gets worse: it now answers false to everything.
	server.enqueue(...Array.from({ length: 4 }, () => ({ kind: 'answer' as const, text: '{"value": false}' })));
	const worse = await run('test', 'price-change', '--json');
	expect(worse.code).toBe(1);
	const summary = JSON.parse(worse.stdout) as { regressions: string[]; failed: number };
	expect(summary.regressions.sort()).toEqual(['increase', 'list']);
	expect(summary.failed).toBe(2);
	expect(worse.stderr).toContain('testing price-change version 3 (on production)');
	const productionRun = (await releases()).channels.production.runId;
	const stored = JSON.parse(await fs.readFile(path.join(promptDir, 'runs', `${JSON.parse(worse.stdout).runId}.json`), 'utf8'));
	expect(stored.baselineRunId).toBe(productionRun);
});

test('rollback points production back at the previous release and records why', async () => {
	const rolled = await run('rollback', 'price-change', '--reason', 'model drift');
	expect(rolled.code).toBe(0);
	expect(rolled.stdout.trim()).toBe('rolled back price-change production: version 3 → 2');
	const state = await releases();
	expect(state.channels.production.version).toBe(2);
	expect(state.history.map((e) => [e.action, e.from, e.version])).toEqual([
		['release', undefined, 2],
		['release', 2, 3],
		['rollback', 3, 2],
	]);
	expect(state.history[2]).toMatchObject({ by: 'tester', reason: 'model drift' });

	const status = await run('status', 'price-change');
	expect(status.code).toBe(0);
	expect(status.stdout).toMatch(/^price-change — Does a supplier email announce a price change\?/);
	expect(status.stdout).toMatch(/versions +1, 2, 3\n/);
	expect(status.stdout).toMatch(/draft += v3\n/);
	expect(status.stdout).toMatch(/channels +production=v2 \(since \d{4}-\d\d-\d\d \d\d:\d\dZ\)\n/);
	expect(status.stdout).toMatch(/fixtures +4 \(manual 4\)\n/);
	expect(status.stdout).toMatch(/last run +v3 2\/4 50\.0%, 2 regressions \(run \S+\)\n/);
	expect(status.stdout).toMatch(/last change +rollback production v3 → v2 by tester at \d{4}-\d\d-\d\d \d\d:\d\dZ: "model drift"\n/);

	const nothingLeft = await run('rollback', 'price-change');
	expect(nothingLeft.code).toBe(1);
	expect(nothingLeft.stderr.trim()).toBe('prompt-release: nothing to roll back to: version 2 is the only release left on "price-change" channel "production"');
});

test("a missing run behind production stops test and release (exit 2, the file named), never skipping regressions", async () => {
	const runId = (await releases()).channels.production.runId!;
	const file = path.join(promptDir, 'runs', `${runId}.json`);
	const saved = await fs.readFile(file, 'utf8');
	await fs.rm(file);
	const runsBefore = await fs.readdir(path.join(promptDir, 'runs'));
	try {
		const tested = await run('test', 'price-change', '--version', '3');
		expect(tested.code).toBe(2);
		expect(tested.stderr).toContain(`prompt-release: prompts/price-change/runs/${runId}.json: channel "production" of "price-change" was released with run ${runId}, but that run cannot be read`);
		expect(tested.stderr).toContain(`restore runs/${runId}.json from git`);
		expect(await fs.readdir(path.join(promptDir, 'runs'))).toEqual(runsBefore);
		const released = await run('release', 'price-change', '--version', '3');
		expect(released.code).toBe(2);
		expect(released.stderr).toContain(`restore runs/${runId}.json from git`);
		expect((await releases()).channels.production.version).toBe(2);
	} finally {
		await fs.writeFile(file, saved);
	}
});
