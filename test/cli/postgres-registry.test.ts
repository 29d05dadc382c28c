/**
 * The CLI against a PostgreSQL registry, as CI and on-call use it: test and commit in the git folder,
 * publish (idempotent; a changed published version is refused), release and roll back by URL, and pull
 * production corrections back as fixture files (a fixture changed on both sides is reported, not overwritten).
 * The steps share one folder and one schema and run in order.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { recordCorrection } from '../../lib/corrections';
import { closeRegistryConnections, openRegistryStore } from '../../lib/registry/open';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { dropSchemas, pgUrl, sql, uniqueSchema } from '../support/postgres';
import { cli, FIXED_TEMPLATE, makeRegistry, promptYaml, RULES, serverEnv, tempDir } from './helpers';

const schema = uniqueSchema('cli_pg');
const url = pgUrl(schema);
let server: ModelServer;
let cwd: string;
let promptDir: string;
let env: Record<string, string>;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
	env = serverEnv(server);
	({ cwd, promptDir } = await makeRegistry({ template: FIXED_TEMPLATE }));
});

afterAll(async () => {
	await server.close();
	await closeRegistryConnections();
	await dropSchemas([schema]);
});

const run = (...args: string[]) => cli(args, cwd, env);

test('publish pushes versions, fixtures and runs, then changes nothing when run again', async () => {
	expect((await run('commit', 'price-change', '-m', 'first')).code).toBe(0);
	expect((await run('test', 'price-change', '--version', '1')).code).toBe(0);
	await fs.writeFile(path.join(promptDir, 'prompt.yaml'), promptYaml({ template: FIXED_TEMPLATE, instructions: 'Answer whether the email announces new prices.' }));
	expect((await run('commit', 'price-change', '-m', 'second')).code).toBe(0);
	expect((await run('test', 'price-change', '--version', '2')).code).toBe(0);

	// trust auth ignores the password; it must never be shown.
	const first = await run('publish', 'prompts', '--to', url.replace('postgres@', 'postgres:s3cret@'));
	expect(first.stderr).toBe('');
	expect(first.code).toBe(0);
	expect(first.stdout).toContain('price-change: versions 1, 2 added (0 already published), 4 fixture(s) written, 0 unchanged, 2 run(s) added');
	expect(first.stdout).toContain('channels unchanged');
	expect(first.stdout).toContain(`to postgres://postgres@127.0.0.1:5432/postgres?schema=${schema}`);
	expect(first.stdout).not.toContain('s3cret');

	const again = await run('publish', 'prompts', '--to', url);
	expect(again.code).toBe(0);
	expect(again.stdout).toContain('price-change: no new version (2 already published), 0 fixture(s) written, 4 unchanged, 0 run(s) added');
	expect(await sql(`SELECT count(*)::int AS n FROM "${schema}".releases`)).toEqual([{ n: 0 }]);
});

test('release, status and rollback work against the URL (flag or environment)', async () => {
	expect((await run('release', 'price-change', '--version', '1', '--registry', url)).code).toBe(0);
	const second = await run('release', 'price-change', '--version', '2', '--registry', url);
	expect(second.stderr).toBe('');
	expect(second.code).toBe(0);
	const status = await cli(['status', 'price-change'], cwd, { ...env, PROMPT_RELEASE_REGISTRY: url });
	expect(status.stdout).toMatch(/channels\s+production=v2/);
	const rolled = await run('rollback', 'price-change', '--registry', url, '--reason', 'bad answers');
	expect(rolled.stdout).toContain('rolled back price-change production: version 2 → 1');
	const after = await cli(['status', 'price-change', '--json'], cwd, { ...env, PROMPT_RELEASE_REGISTRY: url });
	expect(after.stdout).toContain('"version": 1');
	// The folder's own channels were never touched.
	expect(await fs.access(path.join(promptDir, 'releases.yaml')).then(() => true, () => false)).toBe(false);
});

test('a version published under the same number with other content is refused, naming it, and nothing is written', async () => {
	const other = await tempDir();
	await fs.cp(path.join(cwd, 'prompts'), path.join(other, 'prompts'), { recursive: true });
	await fs.rm(path.join(other, 'prompts', 'price-change', 'versions', '2.yaml'));
	await fs.writeFile(path.join(other, 'prompts', 'price-change', 'prompt.yaml'), promptYaml({ template: FIXED_TEMPLATE, instructions: 'Something else entirely.' }));
	expect((await cli(['commit', 'price-change', '-m', 'diverged'], other, env)).code).toBe(0);
	const refused = await cli(['publish', 'prompts', '--to', url], other, env);
	expect(refused.code).toBe(1);
	expect(refused.stderr).toMatch(/publish refused, nothing was written.*\n.*version 2 of "price-change": the folder has sha256:[0-9a-f]{64}, postgres:\/\/postgres@127\.0\.0\.1:5432\/postgres\?schema=\S+ has sha256:/);
	const draft = await sql<{ instructions: string }>(`SELECT draft->>'instructions' AS instructions FROM "${schema}".prompts`);
	expect(draft[0].instructions).toContain('new prices');
});

test('pull writes production corrections as fixture files and reports a fixture changed on both sides', async () => {
	const store = openRegistryStore(url);
	await recordCorrection(store, { promptId: 'price-change', version: 1, variables: { subject: 'New tariff', body: 'Our tariff changes in May.' }, modelOutput: false, corrected: 'true' });
	// `increase` changes in production and in the folder.
	const increase = (await store.readFixture('price-change', 'increase'))!;
	await store.writeFixture('price-change', { ...increase, note: 'changed in production' });
	const file = path.join(promptDir, 'fixtures', 'increase.yaml');
	const local = (await fs.readFile(file, 'utf8')).replace('"expected": true', '"expected": true,\n  "note": "changed in git"');
	await fs.writeFile(file, local);

	const pulled = await run('pull', '--from', url, 'prompts');
	expect(pulled.code).toBe(1);
	expect(pulled.stdout).toMatch(/new: prompts\/price-change\/fixtures\/correction-[0-9a-f]{16}\.yaml/);
	expect(pulled.stderr).toContain('CONFLICT price-change/fixtures/increase.yaml changed in the folder and in production');
	expect(await fs.readFile(file, 'utf8')).toBe(local);
	const written = (await fs.readdir(path.join(promptDir, 'fixtures'))).filter((f) => f.startsWith('correction-'));
	expect(written).toHaveLength(1);
	expect(await fs.readFile(path.join(promptDir, 'fixtures', written[0]), 'utf8')).toMatch(/expected: true\nsource: correction/);

	// Production's copy is written next to the file (not loaded as a fixture) to merge from.
	const copy = await fs.readFile(`${file}.production`, 'utf8');
	expect(copy).toMatch(/^# Production's copy of increase\.yaml/);
	expect(copy).toContain('note: changed in production');

	// Pulling again writes nothing new; publishing keeps the production change of `increase` loudly (exit 1).
	const again = await run('pull', '--from', url, 'prompts', '--runs');
	expect(again.stdout).not.toMatch(/new: /);
	const published = await run('publish', 'prompts', '--to', url);
	expect(published.code).toBe(1);
	expect(published.stderr).toContain('NOT PUBLISHED price-change/fixtures/increase.yaml');
	expect(published.stderr).toContain('--resolve price-change/increase');
	expect((await store.readFixture('price-change', 'increase'))?.note).toBe('changed in production');

	// Resolved by hand in git (neither side's note): --resolve makes the folder's file win; the next pull is clean.
	await fs.writeFile(file, local.replace('changed in git', 'merged by hand'));
	const resolved = await run('publish', 'prompts', '--to', url, '--resolve', 'price-change/increase');
	expect(resolved.stderr).toBe('');
	expect(resolved.code).toBe(0);
	expect(resolved.stdout).toContain('resolved increase');
	expect((await store.readFixture('price-change', 'increase'))?.note).toBe('merged by hand');
	const clean = await run('pull', '--from', url, 'prompts');
	expect(clean.code).toBe(0);
	expect(clean.stderr).toBe('');
	expect(await fs.access(`${file}.production`).then(() => true, () => false)).toBe(false);
});

test('a file that holds production\'s changes plus git\'s own is recognised as the resolution', async () => {
	const store = openRegistryStore(url);
	const list = (await store.readFixture('price-change', 'list'))!;
	await store.writeFixture('price-change', { ...list, segment: 'catalogue' });
	const file = path.join(promptDir, 'fixtures', 'list.yaml');
	const gitOnly = (await fs.readFile(file, 'utf8')).replace('"source": "manual"', '"source": "manual",\n  "note": "git edit"');
	await fs.writeFile(file, gitOnly);
	expect((await run('pull', '--from', url, 'prompts')).code).toBe(1);
	// The merge: production's segment taken over, git's note kept.
	await fs.writeFile(file, gitOnly.replace('"segment": "announcement"', '"segment": "catalogue"'));
	const pulled = await run('pull', '--from', url, 'prompts');
	expect(pulled.code).toBe(0);
	expect(pulled.stderr).toContain('resolved in the folder');
	const published = await run('publish', 'prompts', '--to', url);
	expect(published.code).toBe(0);
	expect(await store.readFixture('price-change', 'list')).toMatchObject({ segment: 'catalogue', note: 'git edit' });
	expect((await run('pull', '--from', url, 'prompts')).stderr).toBe('');
});

test('pull keeps the key order of the file it updates, and new files list inputs in declared order', async () => {
	const store = openRegistryStore(url);
	const delay = (await store.readFixture('price-change', 'delay'))!;
	await store.writeFixture('price-change', { ...delay, note: 'checked in production' });
	await recordCorrection(store, { promptId: 'price-change', version: 1, variables: { body: 'Ten percent more from June.', subject: 'Prices' }, modelOutput: false, corrected: 'true' });
	const pulled = await run('pull', '--from', url, 'prompts');
	expect(pulled.code).toBe(0);
	const text = await fs.readFile(path.join(promptDir, 'fixtures', 'delay.yaml'), 'utf8');
	expect(text.indexOf('id:')).toBeLessThan(text.indexOf('inputs:'));
	expect(text.indexOf('subject:')).toBeLessThan(text.indexOf('body:'));
	expect(text.indexOf('expected:')).toBeLessThan(text.indexOf('segment:'));
	expect(text).toContain('note: checked in production');
	const created = /new: (\S+)/.exec(pulled.stdout)![1];
	const fresh = await fs.readFile(path.join(cwd, created), 'utf8');
	expect(fresh.indexOf('subject:')).toBeLessThan(fresh.indexOf('body:'));
});

test('a run stored in PostgreSQL is named as a run in the database, not as a file path', async () => {
	const r = await run('test', 'price-change', '--version', '1', '--registry', url);
	expect(r.stderr).toBe('');
	expect(r.stdout).toMatch(new RegExp(`run: \\S+ \\(run \\S+ of "price-change" in postgres://postgres@127\\.0\\.0\\.1:5432/postgres\\?schema=${schema}\\)`));
	expect(r.stdout).not.toMatch(/runs\/\S+\.json/);
});
