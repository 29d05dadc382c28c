/**
 * The gate's lists at size, through the CLI: 130 fixtures whose answers are only stale (cached longer ago than
 * maxEvidenceAgeHours) are not called failing; 130 failing fixtures are named 20 at a time in `gate`, `release`
 * and the step summary, and `gate --json` carries the first 100 with counts.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { cli, listFiles, makeRegistry, readJson, RULES, serverEnv, type FixtureSpec } from './helpers';

const N = 130;
let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
});

afterAll(async () => {
	await server.close();
});

/** N fixtures "Delivery update": the model answers false, so they pass when `expected` is false and fail when true. */
function fixtures(expected: boolean): FixtureSpec[] {
	return Array.from({ length: N }, (_, i) => ({ id: `f${String(i).padStart(3, '0')}`, subject: 'Delivery update', body: `Order ${i} ships on Thursday.`, expected }));
}

interface GateJson {
	violations: Array<{ rule: string; fixtures: string[]; fixtureCount: number }>;
	failingFixtures: string[];
	failingCount: number;
}

test('passing fixtures answered from a stale cache are stale evidence, not failing; every printed line stays short', async () => {
	const { cwd } = await makeRegistry({ fixtures: fixtures(false) });
	const cacheDir = path.join(cwd, 'cache');
	const env = { ...serverEnv(server), PROMPT_RELEASE_CACHE: 'on' };
	expect((await cli(['commit', 'price-change', '-m', 'v1'], cwd, env)).code).toBe(0);
	expect((await cli(['test', 'price-change', '--version', '1', '--cache-dir', cacheDir], cwd, env)).code).toBe(0);
	// Every cached answer fetched three days ago: the rerun below uses them all.
	const old = new Date(Date.now() - 72 * 3_600_000).toISOString();
	for (const f of (await listFiles(cacheDir)).filter((name) => name.endsWith('.json') && !name.startsWith('batches') && !name.startsWith('parsed-yaml'))) {
		const file = path.join(cacheDir, f);
		await fs.writeFile(file, JSON.stringify({ ...(await readJson<object>(file)), fetchedAt: old }));
	}
	expect((await cli(['test', 'price-change', '--version', '1', '--cache-dir', cacheDir], cwd, env)).code).toBe(0);

	const summaryFile = path.join(cwd, 'step-summary.md');
	const gate = await cli(['gate', 'price-change', '--version', '1'], cwd, { ...env, GITHUB_STEP_SUMMARY: summaryFile });
	expect(gate.code).toBe(1);
	expect(gate.stdout).toMatch(/✗ \[maxEvidenceAgeHours\] run \S+ used cached answers older than maxEvidenceAgeHours 24: f000 \(fetched .* f019 \(fetched [^)]+\) and 110 more\. /);
	expect(gate.stdout).not.toMatch(/failing/i);
	expect(Math.max(...gate.stdout.split('\n').map((l) => l.length))).toBeLessThan(3_000);
	expect(await fs.readFile(summaryFile, 'utf8')).not.toMatch(/Failing fixtures/);

	const json = JSON.parse((await cli(['gate', 'price-change', '--version', '1', '--json'], cwd, env)).stdout) as GateJson;
	expect(json).toMatchObject({ failingFixtures: [], failingCount: 0 });
	expect(json.violations).toEqual([expect.objectContaining({ rule: 'maxEvidenceAgeHours', fixtureCount: N })]);
	expect(json.violations[0].fixtures).toHaveLength(100);
});

test('130 failing fixtures: named 20 at a time by gate, release and the step summary; gate --json lists 100 with counts', async () => {
	const { cwd } = await makeRegistry({ fixtures: fixtures(true) });
	const env = serverEnv(server);
	expect((await cli(['commit', 'price-change', '-m', 'v1'], cwd, env)).code).toBe(0);
	expect((await cli(['test', 'price-change', '--version', '1'], cwd, env)).code).toBe(1);

	const summaryFile = path.join(cwd, 'step-summary.md');
	const gate = await cli(['gate', 'price-change', '--version', '1'], cwd, { ...env, GITHUB_STEP_SUMMARY: summaryFile });
	expect(gate.code).toBe(1);
	expect(gate.stdout).toMatch(/✗ \[minPassRate\] run \S+ failed 130 of 130 fixtures: f000 \(expected true, got false\); .*f019 \(expected true, got false\) and 110 more — pass rate 0%/);
	expect(gate.stdout).toContain(`failing fixtures: ${Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(3, '0')}`).join(', ')} and 110 more\n`);
	expect(await fs.readFile(summaryFile, 'utf8')).toMatch(/Failing fixtures: `f000`, .*`f019` and 110 more\n/);

	const json = JSON.parse((await cli(['gate', 'price-change', '--version', '1', '--json'], cwd, env)).stdout) as GateJson;
	expect(json.failingCount).toBe(N);
	expect(json.failingFixtures).toHaveLength(100);
	expect(json.violations[0]).toMatchObject({ rule: 'minPassRate', fixtureCount: N });
	expect(json.violations[0].fixtures).toHaveLength(100);

	const release = await cli(['release', 'price-change', '--version', '1'], cwd, env);
	expect(release.code).toBe(1);
	expect(release.stderr).toMatch(/prompt-release: failing fixtures: f000, .* f019 and 110 more\n/);
	expect(Math.max(...release.stderr.split('\n').map((l) => l.length))).toBeLessThan(3_000);
});
