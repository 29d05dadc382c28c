/**
 * The policy gate through the CLI: `gate` (exit codes, --junit, $GITHUB_STEP_SUMMARY), `release --force`,
 * a cost-increase rule, `test --baseline`, and the canary lifecycle with `status`.
 * The steps share one registry and run in order.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { ReleasesState, RunReport } from '../../lib/types';
import { cli, FIXED_TEMPLATE, makeRegistry, promptYaml, readJson, RULES, serverEnv } from './helpers';

let server: ModelServer;
let cwd: string;
let registry: string;
let promptDir: string;
let env: Record<string, string>;
const runIds: Record<number, string> = {};

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
	env = serverEnv(server);
	({ cwd, registry, promptDir } = await makeRegistry());
});

afterAll(async () => {
	await server.close();
});

const run = (...args: string[]) => cli(args, cwd, env);
const releases = async () => parseYaml(await fs.readFile(path.join(promptDir, 'releases.yaml'), 'utf8')) as ReleasesState;

test('gate refuses a failing version: exit 1, rules and fixtures named, --junit and the GitHub step summary written', async () => {
	expect((await run('commit', 'price-change', '-m', 'first')).code).toBe(0);
	const tested = await run('test', 'price-change', '--version', '1', '--json');
	expect(tested.code).toBe(1);
	runIds[1] = (JSON.parse(tested.stdout) as { runId: string }).runId;
	const summaryFile = path.join(cwd, 'step-summary.md');
	await fs.writeFile(summaryFile, '# earlier step\n');
	const gate = await cli(['gate', 'price-change', '--version', '1', '--junit', 'gate.xml'], cwd, { ...env, GITHUB_STEP_SUMMARY: summaryFile });
	expect(gate.code).toBe(1);
	expect(gate.stdout).toContain(`gate price-change version 1 → production: REFUSED (run ${runIds[1]})`);
	expect(gate.stdout).toMatch(/✗ \[minPassRate\] run \S+ failed 1 of 4 fixtures: tricky \(expected false, got true\)/);
	expect(gate.stdout).toContain('failing fixtures: tricky');
	const xml = await fs.readFile(path.join(cwd, 'gate.xml'), 'utf8');
	expect(xml).toContain('<testsuites name="prompt-release gate" tests="14" failures="2"');
	expect(xml).toMatch(/<testcase name="minPassRate \(minPassRate 1\)" classname="policy">\s*<failure message="run \S+ failed 1 of 4/);
	// Nothing is released yet: the rules that need a baseline (or are not set) are skipped, not passed.
	expect(gate.stdout).toContain('– [maxRegressions] skipped (no baseline: nothing with a run is released on "production")');
	expect(gate.stdout).toContain('– [maxCostIncreasePct] skipped (not set)');
	expect(xml).toContain('skipped="9"');
	expect(xml).toMatch(/<testcase name="maxRegressions \(maxRegressions 0\)" classname="policy">\s*<skipped message="no baseline: nothing with a run is released on &quot;production&quot;"\/>/);
	expect(xml).toMatch(/<testcase name="maxCostIncreasePct \(maxCostIncreasePct not set\)" classname="policy">\s*<skipped message="not set"\/>/);
	expect(xml).toContain('<testcase name="repeat (repeat 1)" classname="policy"/>');
	expect(xml).toContain('<testcase name="maxEvidenceAgeHours (maxEvidenceAgeHours 24)" classname="policy"/>');
	expect(xml).toMatch(/<testcase name="tricky" classname="fixture">\s*<failure message="minPassRate: expected false, got true"/);
	expect(xml).toContain('<property name="verdict" value="refused"/>');
	const md = await fs.readFile(summaryFile, 'utf8');
	expect(md.startsWith('# earlier step\n')).toBe(true);
	expect(md).toContain('### ❌ prompt-release gate: `price-change` v1 → `production`: REFUSED');
	expect(md).toMatch(/\| minPassRate \| minPassRate 1 \| ❌ run \S+ failed 1 of 4 fixtures/);
	expect(md).toContain('| maxRegressions | maxRegressions 0 | ➖ skipped (no baseline: nothing with a run is released on "production") |');
	expect(md).toContain('| repeat | repeat 1 | ✅ |');
	expect(md).toContain('Failing fixtures: `tricky`');
	// Nothing changed.
	expect(await fs.access(path.join(promptDir, 'releases.yaml')).then(() => true, () => false)).toBe(false);
	// Usage errors exit 2.
	expect((await run('gate', 'price-change')).code).toBe(2);
});

test('release --force needs --reason (exit 2); a forced release is loud in output, history and status', async () => {
	const noReason = await run('release', 'price-change', '--version', '1', '--force');
	expect(noReason.code).toBe(2);
	expect(noReason.stderr).toContain('--force needs --reason');
	const refused = await run('release', 'price-change', '--version', '1');
	expect(refused.code).toBe(1);
	expect(refused.stderr).toMatch(/\[minPassRate\] run \S+ failed 1 of 4 fixtures/);
	const forced = await run('release', 'price-change', '--version', '1', '--force', '--reason', 'ERP migration needs it today');
	expect(forced.code).toBe(0);
	expect(forced.stderr).toContain('prompt-release: WARNING: FORCED past the gate: ERP migration needs it today');
	expect(forced.stdout).toContain('released price-change version 1 to production');
	expect(forced.stdout).toContain('FORCED past the gate');
	const state = await releases();
	expect(state.channels.production).toMatchObject({ version: 1, forced: true, runId: runIds[1] });
	expect(state.history[0]).toMatchObject({ action: 'release', forced: true, reason: 'ERP migration needs it today' });
	const status = await run('status', 'price-change');
	expect(status.stdout).toMatch(/channels +production=v1 FORCED/);
	expect(status.stdout).toMatch(/!! production v1 FORCED past the gate: ERP migration needs it today \(by tester at /);
	expect(status.stdout).toMatch(/last change +release production v1 by tester at \S+ \S+ FORCED: "ERP migration needs it today"/);
	const json = JSON.parse((await run('status', 'price-change', '--json')).stdout) as { forced: unknown[] };
	expect(json.forced).toEqual([expect.objectContaining({ channel: 'production', version: 1, reason: 'ERP migration needs it today' })]);
});

test('gate passes a fixed version: exit 0, junit without failures, a ✅ summary', async () => {
	await fs.writeFile(path.join(promptDir, 'prompt.yaml'), promptYaml({ template: FIXED_TEMPLATE }));
	expect((await run('commit', 'price-change')).code).toBe(0);
	const tested = await run('test', 'price-change', '--version', '2', '--json');
	expect(tested.code).toBe(0);
	runIds[2] = (JSON.parse(tested.stdout) as { runId: string }).runId;
	const summaryFile = path.join(cwd, 'step-summary-2.md');
	const gate = await cli(['gate', 'price-change', '--version', '2', '--junit', 'gate2.xml'], cwd, { ...env, GITHUB_STEP_SUMMARY: summaryFile });
	expect(gate.code).toBe(0);
	expect(gate.stdout).toContain(`gate price-change version 2 → production: PASS (run ${runIds[2]}, baseline ${runIds[1]})`);
	expect(await fs.readFile(path.join(cwd, 'gate2.xml'), 'utf8')).toContain('tests="13" failures="0"');
	expect(await fs.readFile(summaryFile, 'utf8')).toContain('### ✅ prompt-release gate: `price-change` v2 → `production`: PASS');
	const json = JSON.parse((await run('gate', 'price-change', '--version', '2', '--json')).stdout) as { ok: boolean; violations: unknown[]; policy: { minPassRate: number } };
	expect(json).toMatchObject({ ok: true, violations: [], policy: { minPassRate: 1, maxRegressions: 0, repeat: 1 } });
});

test('a registry-wide policy: maxCostIncreasePct refuses a costlier version; repeat asks for more attempts', async () => {
	const long = `Answer whether the email announces a change to the prices we pay. ${'Read every line of the email with great care before answering. '.repeat(20)}`;
	await fs.writeFile(path.join(promptDir, 'prompt.yaml'), promptYaml({ template: FIXED_TEMPLATE, instructions: long }));
	expect((await run('commit', 'price-change')).code).toBe(0);
	expect((await run('test', 'price-change', '--version', '3')).code).toBe(0);
	await fs.writeFile(path.join(registry, 'policy.yaml'), 'maxCostIncreasePct: 10\n');
	const gate = await run('gate', 'price-change', '--version', '3');
	expect(gate.code).toBe(1);
	expect(gate.stdout).toMatch(/✗ \[maxCostIncreasePct\] cost per fixture rose \d+(\.\d)?% .* above maxCostIncreasePct 10%/);
	// The prompt's own policy wins key by key.
	await fs.writeFile(path.join(promptDir, 'policy.yaml'), 'maxCostIncreasePct: 100000\nrepeat: 2\n');
	const again = await run('gate', 'price-change', '--version', '3');
	expect(again.code).toBe(1);
	expect(again.stdout).toMatch(/\[repeat\] run \S+ ran each fixture 1 time\(s\) but the policy asks for repeat 2/);
	const repeated = await run('test', 'price-change', '--version', '3');
	expect(repeated.stdout).toContain('repeat: each fixture runs 2 times');
	expect((await run('gate', 'price-change', '--version', '3')).code).toBe(0);
	await fs.rm(path.join(registry, 'policy.yaml'));
	await fs.rm(path.join(promptDir, 'policy.yaml'));
	const broken = path.join(promptDir, 'policy.yaml');
	await fs.writeFile(broken, 'minPassRate: high\n');
	const bad = await run('gate', 'price-change', '--version', '3');
	expect(bad.code).toBe(2);
	expect(bad.stderr).toContain('prompts/price-change/policy.yaml:1 field "minPassRate"');
	expect((await run('validate')).stderr).toContain('prompts/price-change/policy.yaml:1 field "minPassRate"');
	await fs.rm(broken);
});

test('test --baseline takes a version (its newest run) or a run id', async () => {
	const byVersion = await run('test', 'price-change', '--version', '3', '--baseline', '2');
	expect(byVersion.code).toBe(0);
	expect(byVersion.stdout).toMatch(new RegExp(`regressions: none against run ${runIds[2]} \\(--baseline version 2\\)`));
	const byRun = await run('test', 'price-change', '--version', '3', '--baseline', runIds[1], '--json');
	expect(byRun.code).toBe(0);
	const stored = await readJson<RunReport>(path.join(promptDir, 'runs', `${(JSON.parse(byRun.stdout) as { runId: string }).runId}.json`));
	expect(stored.baselineRunId).toBe(runIds[1]);
	// Default: the run behind production.
	const byDefault = await run('test', 'price-change', '--version', '2', '--json');
	const stored2 = await readJson<RunReport>(path.join(promptDir, 'runs', `${(JSON.parse(byDefault.stdout) as { runId: string }).runId}.json`));
	expect(stored2.baselineRunId).toBe(runIds[1]);
	runIds[2] = stored2.runId; // now the newest run of version 2: the evidence of its canary below
	const missing = await run('test', 'price-change', '--baseline', '9');
	expect(missing.code).toBe(2);
	expect(missing.stderr).toContain('no version 9');
	const unknownRun = await run('test', 'price-change', '--baseline', 'no-such-run');
	expect(unknownRun.code).toBe(2);
	expect(unknownRun.stderr).toContain('run "no-such-run" not found');
});

test('canary: start with a percentage, refuse a full release meanwhile, status shows the arms, rollback ends it', async () => {
	const started = await run('release', 'price-change', '--version', '2', '--canary', '25', '--reason', 'try v2');
	expect(started.code).toBe(0);
	expect(started.stdout).toMatch(/^canary canary-\S+: price-change version 2 on production for 25% of traffic; version 1 stays stable for the rest/);
	const state = await releases();
	const canary = state.channels.production.canary!;
	expect(canary).toMatchObject({ version: 2, percent: 25 });
	expect(state.history.at(-1)).toMatchObject({ action: 'canary', version: 2, from: 1, percent: 25, canaryId: canary.id });

	const full = await run('release', 'price-change', '--version', '3');
	expect(full.code).toBe(1);
	expect(full.stderr).toContain('a canary of version 2 is running on "price-change" channel "production": promote it');

	await fs.mkdir(path.join(promptDir, 'outcomes', canary.id), { recursive: true });
	const rows = [
		{ arm: 'stable', version: 1, outcome: 'valid' },
		{ arm: 'stable', version: 1, outcome: 'valid' },
		{ arm: 'canary', version: 2, outcome: 'valid' },
		{ arm: 'canary', version: 2, outcome: 'invalid' },
	];
	await fs.writeFile(path.join(promptDir, 'outcomes', canary.id, 'test.jsonl'), rows.map((r) => JSON.stringify({ at: '2026-06-01T00:00:00.000Z', ...r })).join('\n') + '\n');
	const status = await run('status', 'price-change');
	expect(status.stdout).toMatch(/channels +production=v1 FORCED\+canary v2/);
	expect(status.stdout).toMatch(new RegExp(`canary production: stable v1 / canary v2 \\(25%\\) since \\S+ \\S+ \\[${canary.id}\\]`));
	expect(status.stdout).toMatch(/stable v1: 2 items, 2 valid, 0 invalid, 0 corrected; invalid rate 0\.0%, correction rate 0\.0%/);
	expect(status.stdout).toMatch(/canary v2: 2 items, 1 valid, 1 invalid, 0 corrected; invalid rate 50\.0%, correction rate 0\.0%/);
	const json = JSON.parse((await run('status', 'price-change', '--json')).stdout) as { canaries: Array<{ arms: { canary: { invalidRate: number } } }> };
	expect(json.canaries[0].arms.canary.invalidRate).toBe(0.5);
	const all = await run('status');
	expect(all.stdout).toMatch(/price-change canary production: stable v1 \/ canary v2 \(25%\)/);

	const ended = await run('rollback', 'price-change', '--reason', 'seen enough');
	expect(ended.code).toBe(0);
	expect(ended.stdout.trim()).toBe(`ended canary ${canary.id} of price-change production: version 2 removed, version 1 serves 100%`);
	expect((await releases()).channels.production).not.toHaveProperty('canary');
});

test('canary by segments, then promote to 100 %', async () => {
	expect((await run('release', 'price-change', '--version', '2', '--canary', '10', '--segments', 'a')).code).toBe(2);
	expect((await run('release', 'price-change', '--version', '2', '--canary', '100')).code).toBe(2);
	const started = await run('release', 'price-change', '--version', '2', '--segments', 'internal,acme-metals');
	expect(started.code).toBe(0);
	expect(started.stdout).toContain('for segments internal, acme-metals');
	expect((await run('status', 'price-change')).stdout).toMatch(/canary production: stable v1 \/ canary v2 \(segments internal, acme-metals\)/);
	const promoted = await run('promote', 'price-change', '--reason', 'good numbers');
	expect(promoted.code).toBe(0);
	expect(promoted.stdout.trim()).toBe('promoted price-change production: canary version 2 now serves 100% (was stable version 1)');
	const state = await releases();
	expect(state.channels.production).toMatchObject({ version: 2, runId: runIds[2] });
	expect(state.channels.production.canary).toBeUndefined();
	expect(state.channels.production.forced).toBeUndefined();
	expect(state.history.at(-1)).toMatchObject({ action: 'promote', version: 2, from: 1, reason: 'good numbers' });
	const status = await run('status', 'price-change');
	expect(status.stdout).toMatch(/channels +production=v2 \(since/);
	expect(status.stdout).not.toContain('FORCED past the gate');
	expect((await run('promote', 'price-change')).code).toBe(2);
	// promote counts as a release: rollback goes back to v1.
	const back = await run('rollback', 'price-change');
	expect(back.stdout.trim()).toBe('rolled back price-change production: version 2 → 1');
});

test('promote re-runs the gate: a frozen canary is refused (exit 1) unless --force with --reason (exit 2 without)', async () => {
	expect((await run('release', 'price-change', '--version', '2', '--canary', '30')).code).toBe(0);
	const state = await releases();
	const canary = state.channels.production.canary!;
	// Freeze it as the freeze rule would.
	state.channels.production.canary = { ...canary, frozen: { at: '2026-06-02T00:00:00.000Z', reason: 'invalid rate 40 points above stable' } };
	await fs.writeFile(path.join(promptDir, 'releases.yaml'), stringifyYaml(state));
	const refused = await run('promote', 'price-change');
	expect(refused.code).toBe(1);
	expect(refused.stderr).toMatch(/promotion of canary \S+ \(version 2\) on "price-change" channel "production" refused:\n.* {2}- \[frozen\] the canary was frozen at 2026-06-02T00:00:00.000Z: invalid rate 40 points above stable/);
	const noReason = await run('promote', 'price-change', '--force');
	expect(noReason.code).toBe(2);
	expect(noReason.stderr).toContain('--force needs --reason');
	expect((await releases()).channels.production.canary?.id).toBe(canary.id);
	const forced = await run('promote', 'price-change', '--force', '--reason', 'the invalid answers were a data glitch');
	expect(forced.code).toBe(0);
	expect(forced.stderr).toContain('WARNING: FORCED past the gate: the invalid answers were a data glitch');
	expect(forced.stderr).toContain('ignored [frozen]');
	expect(forced.stdout).toContain('promoted price-change production: canary version 2 now serves 100% (was stable version 1) — FORCED past the gate');
	const after = await releases();
	expect(after.channels.production).toMatchObject({ version: 2, forced: true });
	expect(after.history.at(-1)).toMatchObject({ action: 'promote', forced: true, reason: 'the invalid answers were a data glitch', canaryId: canary.id });
	expect((await run('status', 'price-change')).stdout).toMatch(/!! production v2 FORCED past the gate: the invalid answers were a data glitch/);
});
