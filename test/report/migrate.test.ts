/**
 * `prompt-release migrate` through the CLI. Production runs v1 on gpt-4o-mini (served by the "old"
 * loopback model). The new model `gpt-new` is a second server: a worse one that answers `list` and
 * `delay` wrong, and a good one that answers like the old model. Production never changes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { FrozenVersion, RunReport } from '../../lib/types';
import { cli, exists, FIXED_TEMPLATE, makeRegistry, newestStoredRun, RULES, serverEnv } from '../cli/helpers';

const MODELS = ['gpt-4o-mini', 'gpt-new'];
const WORSE = {
	models: MODELS,
	rules: [
		{ prompt: 'price-change', when: 'new price list', value: false },
		{ prompt: 'price-change', when: 'ships on Thursday', value: true },
		...RULES.rules,
	],
};

let oldModel: ModelServer;
let worse: ModelServer;
let good: ModelServer;
let cwd: string;
let promptDir: string;

beforeAll(async () => {
	oldModel = await startModelServer({ rules: RULES });
	worse = await startModelServer({ rules: WORSE });
	good = await startModelServer({ rules: { models: MODELS, rules: RULES.rules } });
	({ cwd, promptDir } = await makeRegistry({ template: FIXED_TEMPLATE }));
	const env = serverEnv(oldModel);
	expect((await cli(['commit', 'price-change', '-m', 'first'], cwd, env)).code).toBe(0);
	expect((await cli(['test', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
	expect((await cli(['release', 'price-change', '--version', '1'], cwd, env)).code).toBe(0);
});

afterAll(async () => {
	await Promise.all([oldModel.close(), worse.close(), good.close()]);
});

async function snapshot(): Promise<{ releases: string; draft: string; versions: string[] }> {
	return {
		releases: await fs.readFile(path.join(promptDir, 'releases.yaml'), 'utf8'),
		draft: await fs.readFile(path.join(promptDir, 'prompt.yaml'), 'utf8'),
		versions: (await fs.readdir(path.join(promptDir, 'versions'))).sort(),
	};
}

/** The newest stored run: its summary document plus its results file (run format 2). */
async function newestRun(): Promise<RunReport> {
	return newestStoredRun(promptDir);
}

test('a model that is worse on some fixtures is rejected with exactly those fixtures named; nothing changes', async () => {
	const before = await snapshot();
	const r = await cli(['migrate', 'price-change', '--model', 'openai:gpt-new', '--commit', '--out', 'migration.md'], cwd, serverEnv(worse));
	expect(r.stderr).toContain('report (md): migration.md');
	expect(r.code).toBe(1);
	expect(r.stdout).toContain('migrate price-change: version 1 (production) from openai:gpt-4o-mini to openai:gpt-new');
	expect(r.stdout).toContain('4 fixtures: 2 passed, 2 failed, pass rate 50.0%');
	const named = /regressions on openai:gpt-new: (.*)/.exec(r.stdout)![1].split(', ').sort();
	expect(named).toEqual(['delay', 'list']);
	expect(r.stdout).toMatch(/\[maxRegressions\] regressions against the run behind "production" \(\S+\): (delay, list|list, delay)/);
	expect(r.stdout).toContain('REFUSED: the migration to openai:gpt-new does not pass the gate; no version was created. Production is unchanged.');
	// Only the new model was asked, and only for the fixtures.
	expect(worse.requests.every((q) => (q.body as { model?: string }).model === 'gpt-new')).toBe(true);

	expect(await snapshot()).toEqual(before);
	expect(await exists(path.join(promptDir, 'versions', '2.yaml'))).toBe(false);
	const run = await newestRun();
	expect(run).toMatchObject({ kind: 'migrate', version: 1, model: { provider: 'openai', name: 'gpt-new' }, summary: { regressions: expect.arrayContaining(['delay', 'list']) } });
	expect(run.summary.regressions).toHaveLength(2);
	const v1 = parseYaml(await fs.readFile(path.join(promptDir, 'versions', '1.yaml'), 'utf8')) as FrozenVersion;
	expect(run.contentHash).not.toBe(v1.contentHash);
	const releases = parseYaml(before.releases) as { channels: { production: { runId: string } } };
	expect(run.baselineRunId).toBe(releases.channels.production.runId);

	const md = await fs.readFile(path.join(cwd, 'migration.md'), 'utf8');
	expect(md).toContain('— ❌ 2 regressions');
	expect(md).toContain('(a migration)');
	expect(md).toContain('| `model.name` | `"gpt-4o-mini"` | `"gpt-new"` |');

	const report = await cli(['report', 'price-change', run.runId, '--format', 'json'], cwd, {});
	expect(report.code).toBe(0);
	expect(JSON.parse(report.stdout).regressions.map((x: { fixtureId: string }) => x.fixtureId).sort()).toEqual(['delay', 'list']);
});

test('a migration that passes with --commit creates version N+1 with the new model only; production unchanged', async () => {
	const before = await snapshot();
	const r = await cli(['migrate', 'price-change', '--model', 'openai:gpt-new', '--commit'], cwd, serverEnv(good));
	// The draft is not touched, so it is still on the old model: the next `commit` would revert the migration.
	expect(r.stderr.trim()).toBe(
		'warning: the draft still uses openai:gpt-4o-mini; set model.name in prompts/price-change/prompt.yaml to gpt-new ' +
			"(or copy prompts/price-change/versions/2.yaml's prompt) before your next commit, " +
			'or "prompt-release commit price-change" will silently revert this migration to openai:gpt-4o-mini.',
	);
	expect(r.code).toBe(0);
	expect(r.stdout).toContain('4 fixtures: 4 passed, 0 failed, pass rate 100.0%');
	expect(r.stdout).toMatch(/gate passed: created version 2 \(sha256:[0-9a-f]{64}\) with openai:gpt-new, message "migrate to openai:gpt-new"/);
	expect(r.stdout).toContain('production is unchanged (still version 1): release it with "prompt-release release price-change --version 2"');

	const after = await snapshot();
	expect(after.releases).toBe(before.releases);
	expect(after.draft).toBe(before.draft);
	expect(after.versions).toEqual(['1.yaml', '2.yaml']);
	const v1 = parseYaml(await fs.readFile(path.join(promptDir, 'versions', '1.yaml'), 'utf8')) as FrozenVersion;
	const v2 = parseYaml(await fs.readFile(path.join(promptDir, 'versions', '2.yaml'), 'utf8')) as FrozenVersion;
	expect(v2).toMatchObject({ version: 2, author: 'tester', message: 'migrate to openai:gpt-new' });
	expect(v2.prompt).toEqual({ ...v1.prompt, model: { ...v1.prompt.model, name: 'gpt-new' } });

	const run = await newestRun();
	expect(run).toMatchObject({ kind: 'migrate', version: 2, contentHash: v2.contentHash });

	// `validate` accepts the new version; the migration run is its release evidence: `release` needs no new test.
	expect((await cli(['validate'], cwd, {})).code).toBe(0);
	const diff = await cli(['diff', 'price-change', 'production', '2'], cwd, {});
	expect(diff.stdout).toContain('changed fields (1):\n  model.name: "gpt-4o-mini" → "gpt-new"');
	expect(diff.stdout).toContain('pass rate: 100.0% → 100.0% (±0.0 pp)');
	const release = await cli(['release', 'price-change', '--version', '2'], cwd, {});
	expect(release.stderr).toBe('');
	expect(release.code).toBe(0);
});

test('usage: --model is required and must name a provider; the same model is nothing to migrate', async () => {
	const none = await cli(['migrate', 'price-change'], cwd, {});
	expect(none.code).toBe(2);
	expect(none.stderr).toContain('which model?');
	const bad = await cli(['migrate', 'price-change', '--model', 'gpt-new'], cwd, {});
	expect(bad.code).toBe(2);
	expect(bad.stderr).toContain('--model "gpt-new" is invalid');
	const same = await cli(['migrate', 'price-change', '--model', 'openai:gpt-new'], cwd, serverEnv(good)); // v2 is on production now
	expect(same.code).toBe(2);
	expect(same.stderr).toContain('version 2 of "price-change" on production already uses openai:gpt-new: nothing to migrate');
});
