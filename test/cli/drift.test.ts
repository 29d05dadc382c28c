/**
 * `prompt-release drift` over the wire: the same model name answering differently after the release is
 * reported (exit 1, naming the fixture) even when both answers pass; unchanged answers exit 0.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { cli, makeRegistry, RULES, serverEnv, tempDir, write } from './helpers';

let before: ModelServer;
let after: ModelServer;
let scripted: ModelServer;

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** After a silent model update, "maybe" emails read as price changes. */
const UPDATED_RULES = { ...RULES, rules: [{ prompt: 'price-change', when: 'maybe', value: true }, ...RULES.rules] };

beforeAll(async () => {
	before = await startModelServer({ rules: RULES });
	after = await startModelServer({ rules: UPDATED_RULES });
	// The example registry's own model: it answers every example fixture as its stored runs say.
	scripted = await startModelServer({ rules: path.join(REPO_ROOT, 'examples', 'scripted-model.yaml') });
});

afterAll(async () => {
	await Promise.all([before.close(), after.close(), scripted.close()]);
});

async function released(): Promise<string> {
	const { cwd } = await makeRegistry({ fixtures: [
		{ id: 'increase', subject: 'Price increase from March', body: 'All items +4% from 1 March.', expected: true, segment: 'announcement' },
		{ id: 'delay', subject: 'Delivery update', body: 'Your order ships on Thursday.', expected: false, segment: 'logistics' },
	] });
	// Either answer passes this fixture: a change here is drift that no pass rate shows.
	await write(cwd, 'prompts/price-change/fixtures/either.yaml', 'id: either\ninputs: {subject: "Prices", body: "We maybe review prices next year."}\nexpected: false\nsource: manual\ncompare:\n  value: {oneOf: [true, false]}\n');
	const env = serverEnv(before);
	expect((await cli(['commit', 'price-change', '-m', 'v1'], cwd, env)).code).toBe(0);
	expect((await cli(['test', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
	expect((await cli(['release', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
	return cwd;
}

test('unchanged answers: exit 0; changed answers: exit 1 naming the fixture with before and after, even though both pass', async () => {
	const cwd = await released();
	const same = await cli(['drift', 'price-change', '--cache-dir', path.join(cwd, 'cache')], cwd, { ...serverEnv(before), PROMPT_RELEASE_CACHE: 'on' });
	expect(same.code).toBe(0);
	expect(same.stdout).toMatch(/unchanged: all 3 answers as in the released run/);
	expect(same.stderr).toMatch(/fresh answers \(no cache\)/);

	after.reset();
	const changed = await cli(['drift', 'price-change', '--out', 'drift.md'], cwd, serverEnv(after));
	expect(changed.code).toBe(1);
	expect(after.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
	expect(changed.stdout).toMatch(/✗ either .* was false, now true/);
	expect(changed.stdout).toMatch(/CHANGED: 1 answer of 3 changed: either/);
	const md = await fs.readFile(path.join(cwd, 'drift.md'), 'utf8');
	expect(md).toMatch(/Model drift: `price-change` — ⚠️ 1 of 3 answers changed/);
	expect(md).toContain('| either | default | `false` | `false` | `true` |');

	const json = await cli(['drift', 'price-change', '--json'], cwd, serverEnv(after));
	expect(json.code).toBe(1);
	const report = JSON.parse(json.stdout) as Record<string, any>;
	expect(report).toMatchObject({ promptId: 'price-change', channel: 'production', version: 1, changed: true, compared: 3 });
	expect(report.changes).toEqual([
		expect.objectContaining({ fixtureId: 'either', before: expect.objectContaining({ value: false, passed: true }), after: expect.objectContaining({ value: true, passed: true }) }),
	]);
	// Drift never stores a run: the release evidence stays the run behind it.
	expect((await fs.readdir(path.join(cwd, 'prompts/price-change/runs'))).filter((f) => f.endsWith('.json'))).toHaveLength(1);
});

test('progress: plain lines on stderr off a terminal, nothing with --json (migrate too)', async () => {
	const cwd = await released();
	const env = { ...serverEnv(before), PROMPT_RELEASE_PROGRESS_MS: '0' };
	const plain = await cli(['drift', 'price-change'], cwd, env);
	expect(plain.code).toBe(0);
	expect(plain.stderr).toMatch(/^progress: 1\/3 fixtures \(33%\), [\d.]+\/s/m);
	expect(plain.stderr).toMatch(/^progress: 3\/3 fixtures \(100%\)/m);
	expect(plain.stdout).not.toMatch(/progress:/);
	const json = await cli(['drift', 'price-change', '--json'], cwd, env);
	expect(json.stderr).not.toMatch(/progress:/);
	const migrated = await cli(['migrate', 'price-change', '--model', 'anthropic:claude-haiku-4-5'], cwd, env);
	expect(migrated.stderr).toMatch(/^progress: 3\/3 fixtures \(100%\)/m);
});

test('nothing released: exit 2 saying what to do', async () => {
	const { cwd } = await makeRegistry();
	const result = await cli(['drift', 'price-change'], cwd, serverEnv(before));
	expect(result.code).toBe(2);
	expect(result.stderr).toMatch(/nothing released on channel "production"/);
});

/** A copy of the example registry's price-change prompt: released v1, its run stored as one document without inputs hashes (run format 1). */
async function exampleRegistry(): Promise<string> {
	const cwd = await tempDir();
	await fs.cp(path.join(REPO_ROOT, 'examples', 'registry', 'price-change'), path.join(cwd, 'prompts', 'price-change'), { recursive: true });
	return cwd;
}

/** Give a fixture of the copy other inputs: the scripted model no longer reads a price change in it. */
async function editInputs(cwd: string, fixtureId: string): Promise<void> {
	const file = path.join(cwd, 'prompts', 'price-change', 'fixtures', `${fixtureId}.yaml`);
	const text = await fs.readFile(file, 'utf8');
	const start = text.indexOf('inputs:');
	const end = text.indexOf('\nexpected:');
	await fs.writeFile(file, `${text.slice(0, start)}inputs:\n  subject: Delivery schedule\n  body: Your order ships on Thursday.${text.slice(end)}`);
}

describe('a release whose run predates inputs hashes (run format 1)', () => {
	test('unchanged fixtures: every answer compared, exit 0', async () => {
		const cwd = await exampleRegistry();
		const result = await cli(['drift', 'price-change'], cwd, serverEnv(scripted));
		expect(result.stderr).not.toMatch(/internal error/);
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/unchanged: all 12 answers as in the released run/);
	});

	test('an edited fixture whose answer differs is not called drift: listed as not compared (cannot tell whether its inputs changed), exit 0', async () => {
		const cwd = await exampleRegistry();
		await editInputs(cwd, 'rheinland-din933-adjustment');
		const result = await cli(['drift', 'price-change'], cwd, serverEnv(scripted));
		expect(result.code).toBe(0);
		expect(result.stdout).not.toMatch(/CHANGED|✗ rheinland/);
		expect(result.stdout).toMatch(/- rheinland-din933-adjustment: not compared, cannot tell whether its inputs changed since run 20261121T090016227Z-ac6f70 \(the run predates inputs hashes\); the answer differs: was true, now /);
		expect(result.stdout).toMatch(/unchanged: all 11 compared answers as in the released run; 1 fixture not compared/);

		const json = await cli(['drift', 'price-change', '--json'], cwd, serverEnv(scripted));
		expect(json.code).toBe(0);
		const report = JSON.parse(json.stdout) as Record<string, any>;
		expect(report).toMatchObject({ changed: false, compared: 11, changes: [] });
		expect(report.skipped).toEqual([expect.objectContaining({ fixtureId: 'rheinland-din933-adjustment', kind: 'inputs-unknown', before: expect.objectContaining({ value: true }) })]);
	});
});

test('a run with inputs hashes: a fixture edited since the release is not compared (inputs changed) and not sent to the model', async () => {
	const cwd = await released();
	await write(cwd, 'prompts/price-change/fixtures/delay.yaml', JSON.stringify({ id: 'delay', inputs: { subject: 'Price increase', body: 'All items +4%.' }, expected: false, source: 'manual' }));
	after.reset();
	const result = await cli(['drift', 'price-change'], cwd, serverEnv(after));
	expect(result.code).toBe(1); // "either" drifted (the updated model); "delay" is not compared
	expect(after.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
	expect(result.stdout).toMatch(/- delay: not compared, inputs changed since run /);
	expect(result.stdout).toMatch(/CHANGED: 1 answer of 2 changed: either/);
});
