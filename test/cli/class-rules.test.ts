/**
 * Per-class metrics through the CLI: `test` prints the confusion matrix and per-class precision/recall/F1
 * (and `--json` carries them), `gate` refuses under `minRecall` naming the fixture, in the output, JUnit
 * and the GitHub step summary; a bad policy value exits 2 naming file and field.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { RunSummary } from '../../lib/types';
import { cli, makeRegistry, RULES, serverEnv, write } from './helpers';

let server: ModelServer;
let cwd: string;
let promptDir: string;
let registry: string;
let env: Record<string, string>;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
	env = serverEnv(server);
	({ cwd, promptDir, registry } = await makeRegistry());
});

afterAll(async () => {
	await server.close();
});

const run = (...args: string[]) => cli(args, cwd, env);

test('test prints and stores per-class metrics; gate refuses under minRecall naming the missed fixture', async () => {
	await write(promptDir, 'policy.yaml', 'minPassRate: 0.5\nminRecall: {false: 1.0}\nminPrecision: {true: 0.5}\n');
	expect((await run('commit', 'price-change', '-m', 'first')).code).toBe(0);
	const tested = await run('test', 'price-change', '--version', '1');
	expect(tested.stdout).toContain('classes (the answer):');
	expect(tested.stdout).toMatch(/true\s+66\.7%\s+100\.0%\s+80\.0%\s+2/);
	expect(tested.stdout).toMatch(/false\s+100\.0%\s+50\.0%\s+66\.7%\s+2/);
	expect(tested.stdout).toContain('confusion matrix (rows expected, columns answered):');
	const json = JSON.parse((await run('test', 'price-change', '--version', '1', '--json')).stdout) as RunSummary;
	expect(json.classes?.value.matrix).toEqual({ true: { true: 2, false: 0 }, false: { true: 1, false: 1 } });
	const stored = JSON.parse(await fs.readFile(path.join(promptDir, 'runs', `${json.runId}.json`), 'utf8')) as { summary: RunSummary };
	expect(stored.summary.classes?.value.classes.false.recall).toBe(0.5);

	const summaryFile = path.join(cwd, 'summary.md');
	const gate = await cli(['gate', 'price-change', '--version', '1', '--junit', 'gate.xml'], cwd, { ...env, GITHUB_STEP_SUMMARY: summaryFile });
	expect(gate.code).toBe(1);
	expect(gate.stdout).toContain('✗ [minRecall] run');
	expect(gate.stdout).toContain('recall of class false is 50% (1 of 2 fixtures expecting it) — below minRecall 100%; missed: tricky');
	expect(gate.stdout).toContain('– [minF1] skipped (not set)');
	expect(gate.stdout).not.toContain('[minPrecision]');
	const xml = await fs.readFile(path.join(cwd, 'gate.xml'), 'utf8');
	expect(xml).toMatch(/<testcase name="minRecall \(minRecall false ≥ 1\)" classname="policy">\s*<failure message="run \S+: recall of class false is 50%/);
	expect(xml).toContain('<testcase name="minPrecision (minPrecision true ≥ 0.5)" classname="policy"/>');
	expect(xml).toMatch(/<testcase name="tricky" classname="fixture">\s*<failure message="minRecall: expected false, got true"/);
	const md = await fs.readFile(summaryFile, 'utf8');
	expect(md).toMatch(/\| minRecall \| minRecall false ≥ 1 \| ❌ run \S+: recall of class false is 50%/);
	expect(md).toContain('| minF1 | minF1 not set | ➖ skipped (not set) |');

	const released = await run('release', 'price-change', '--version', '1');
	expect(released.code).toBe(1);
	expect(released.stderr).toContain('[minRecall]');
});

test('a per-class minimum outside 0–1 is a configuration error naming the file and field (exit 2)', async () => {
	await write(promptDir, 'policy.yaml', 'minRecall: {true: 100}\n');
	const gate = await run('gate', 'price-change', '--version', '1');
	expect(gate.code).toBe(2);
	expect(gate.stderr).toMatch(/price-change[/\\]policy\.yaml.*minRecall\.true.*between 0 and 1/);
});

test('validate checks the registry-wide policy.yaml against each prompt: a class the output lacks is an error naming file, field and prompt', async () => {
	await write(promptDir, 'policy.yaml', 'minPassRate: 0.5\n');
	await write(registry, 'policy.yaml', 'minRecall: {maybe: 1.0}\n');
	const checked = await run('validate');
	expect(checked.code).toBe(2);
	expect(checked.stdout).not.toContain('ok:');
	expect(checked.stderr).toMatch(/prompts[/\\]policy\.yaml field "minRecall": applies to prompt "price-change", which does not fit it: minRecall\.maybe: "maybe" is not a class of the output \(classes: (true, false|false, true)\)/);
	// The prompt's own rule overrides the registry-wide one for it, so validate passes again.
	await write(promptDir, 'policy.yaml', 'minRecall: {true: 1.0}\n');
	const overridden = await run('validate');
	expect(overridden.stderr).toBe('');
	expect(overridden.code).toBe(0);
	await fs.rm(path.join(registry, 'policy.yaml'));
});
