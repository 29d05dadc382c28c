/**
 * `report` and `diff` through the CLI on one registry: v1 released (all fixtures pass), v2 changes
 * instructions, template, model and schema and regresses on `tricky`. The steps run in order.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { cli, FIXED_TEMPLATE, makeRegistry, promptYaml, RULES, serverEnv } from '../cli/helpers';

let server: ModelServer;
let cwd: string;
let promptDir: string;
let env: Record<string, string>;
const run = (...args: string[]) => cli(args, cwd, env);

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
	env = serverEnv(server);
	({ cwd, promptDir } = await makeRegistry({ template: FIXED_TEMPLATE }));
	expect((await run('commit', 'price-change', '-m', 'first')).code).toBe(0);
	expect((await run('test', 'price-change', '--version', '1')).code).toBe(0);
	expect((await run('release', 'price-change', '--version', '1')).code).toBe(0);
	const v2 = promptYaml({ instructions: 'Decide whether the email announces a price change.', model: 'claude-haiku-4-5' }).replace('output: {type: boolean}', 'output: {type: boolean, nullable: true}');
	await fs.writeFile(path.join(promptDir, 'prompt.yaml'), v2);
	expect((await run('commit', 'price-change', '-m', 'second')).code).toBe(0);
	expect((await run('test', 'price-change', '--version', '2')).code).toBe(1); // tricky regresses
});

afterAll(async () => {
	await server.close();
});

test('report (default: newest run, markdown) shows the regression, segments, deltas and the prompt diff', async () => {
	const r = await run('report', 'price-change');
	expect(r.stderr).toBe('');
	expect(r.code).toBe(0);
	expect(r.stdout).toContain('### Evaluation: `price-change` — ❌ 1 regression');
	expect(r.stdout).toMatch(/\*\*Run:\*\* v2 · `openai:claude-haiku-4-5`/);
	expect(r.stdout).toMatch(/\*\*Baseline:\*\* v1 · `openai:gpt-4o-mini`/);
	expect(r.stdout).toContain('**Pass rate 75.0%** (3/4), baseline 100.0% (−25.0 pp) · regressions **1** · fixes **0** · still failing **0**');
	expect(r.stdout).toContain('| logistics | 1/2 | 50.0% | 100.0% | −50.0 pp |');
	expect(r.stdout).toContain('| announcement | 2/2 | 100.0% | 100.0% | ±0.0 pp |');
	expect(r.stdout).toMatch(/\| `tricky` \| logistics \| `false` \| `true` \| `false` \|/);
	expect(r.stdout).toMatch(/\| Latency p95 \| \d+ ms \| \d+ ms \|/);
	expect(r.stdout).toContain('| `model.name` | `"gpt-4o-mini"` | `"claude-haiku-4-5"` |');
	expect(r.stdout).toContain('| `output.nullable` | *(absent)* | `true` |');
	expect(r.stdout).toContain('-Careful: a negated mention is not a change.');
	expect(r.stdout).toContain('+Decide whether the email announces a price change.');
});

test('report --format html --out writes one self-contained file; json is the bundle; a run id picks the run', async () => {
	const html = await run('report', 'price-change', '--format', 'html', '--out', 'out/report.html');
	expect(html.code).toBe(0);
	expect(html.stdout).toBe('');
	expect(html.stderr).toMatch(/^report \(html\) of run \S+: out\/report\.html\n$/);
	const text = await fs.readFile(path.join(cwd, 'out', 'report.html'), 'utf8');
	expect(text).not.toMatch(/https?:\/\/|<script|src=|href=/i);
	expect(text).toContain('Pass rate by segment');
	expect((await fs.readdir(path.join(cwd, 'out'))).sort()).toEqual(['report.html']); // atomic: no temp file left

	const runs = (await fs.readdir(path.join(promptDir, 'runs'))).sort();
	const first = runs[0].replace(/\.json$/, '');
	const json = await run('report', 'price-change', first, '--format', 'json');
	expect(json.code).toBe(0);
	const bundle = JSON.parse(json.stdout);
	expect(bundle.run.runId).toBe(first);
	expect(bundle.run.version).toBe(1);
	expect(bundle.baseline).toBeUndefined();
	expect(bundle.passRate.overall.passRate).toBe(1);

	const bad = await run('report', 'price-change', '--format', 'pdf');
	expect(bad.code).toBe(2);
	expect(bad.stderr).toContain('--format "pdf" is invalid: use md, html, json');
	const missing = await run('report', 'price-change', 'nope-123');
	expect(missing.code).toBe(2);
	expect(missing.stderr).toContain('run "nope-123" not found');
});

test('diff 1 2: field changes, unified diffs and the eval delta of the newest runs', async () => {
	const r = await run('diff', 'price-change', '1', '2');
	expect(r.code).toBe(0);
	expect(r.stdout).toContain('diff price-change: version 1 → version 2');
	expect(r.stdout).toContain('changed fields (2):\n  model.name: "gpt-4o-mini" → "claude-haiku-4-5"\n  output.nullable: (absent) → true');
	expect(r.stdout).toContain('--- a/instructions (version 1)\n+++ b/instructions (version 2)\n@@ -1 +1 @@\n-Answer whether the email announces a change to the prices we pay.\n+Decide whether the email announces a price change.');
	expect(r.stdout).toContain('--- a/template (version 1)\n+++ b/template (version 2)\n@@ -1,4 +1,3 @@\n-Careful: a negated mention is not a change.\n Subject: {{subject}}');
	expect(r.stdout).toMatch(/eval delta \(run \S+ → run \S+\):\n {2}pass rate: 100\.0% → 75\.0% \(−25\.0 pp\)/);
	expect(r.stdout).toContain('  segment logistics: 100.0% → 50.0% (−50.0 pp)');
	expect(r.stdout).toMatch(/ {2}latency p95: \d+ ms → \d+ ms, [+−±]\d+ ms/);
	expect(r.stdout).toMatch(/ {2}cost: \$\S+ → \$\S+/);
});

test('diff with a channel and the draft; "no differences" exits 0; --json', async () => {
	const c = await run('diff', 'price-change', 'production', 'draft');
	expect(c.code).toBe(0);
	expect(c.stdout).toContain('diff price-change: production (version 1) → draft');
	expect(c.stdout).toContain('model.name: "gpt-4o-mini" → "claude-haiku-4-5"');
	expect(c.stdout).toContain('eval delta: not available (no stored run of draft;');

	const same = await run('diff', 'price-change', '2', 'draft');
	expect(same.code).toBe(0);
	expect(same.stdout).toContain('no differences');

	const json = await run('diff', 'price-change', 'v1', 'production', '--json');
	expect(json.code).toBe(0);
	const parsed = JSON.parse(json.stdout);
	expect(parsed).toMatchObject({ same: true, fields: [], instructions: '', template: '', a: { label: 'version 1' }, b: { label: 'production (version 1)' } });
	expect(parsed.eval.passRate).toEqual({ current: 1, baseline: 1, delta: 0 , deltaPct: 0 });

	const unknown = await run('diff', 'price-change', '1', 'staging');
	expect(unknown.code).toBe(2);
	expect(unknown.stderr).toContain('has nothing released on channel "staging"');
});
