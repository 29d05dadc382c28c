/**
 * The CLI refuses what would split git and a PostgreSQL registry: versions made in the database (commit,
 * migrate --commit), a folder named after a URL (init), a mistyped schema read as an empty registry; a
 * damaged version row is repaired from git (publish --repair), only when git's own file is intact; pull warns
 * about versions only the database has; a rollback with nothing to roll back is refused (exit 1) as on a folder.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { closeRegistryConnections, openRegistryStore } from '../../lib/registry/open';
import { dropSchemas, pgUrl, sql, uniqueSchema } from '../support/postgres';
import { cli, makeRegistry } from './helpers';

const schema = uniqueSchema('cli_guard');
const url = pgUrl(schema);
let cwd: string;
let promptDir: string;

beforeAll(async () => {
	({ cwd, promptDir } = await makeRegistry());
	expect((await cli(['commit', 'price-change', '-m', 'first'], cwd)).code).toBe(0);
	expect((await cli(['publish', 'prompts', '--to', url], cwd)).code).toBe(0);
});

afterAll(async () => {
	await closeRegistryConnections();
	await dropSchemas([schema]);
});

test('commit and migrate --commit refuse a PostgreSQL registry (exit 2) and create no version', async () => {
	for (const args of [['commit', 'price-change', '--registry', url], ['migrate', 'price-change', '--model', 'openai:gpt-4.1-mini', '--commit', '--registry', url]]) {
		const r = await cli(args, cwd);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/refused on a PostgreSQL registry: versions are made in git: .* in the registry folder .*then publish/);
	}
	const env = await cli(['commit', 'price-change'], cwd, { PROMPT_RELEASE_REGISTRY: url });
	expect(env.code).toBe(2);
	expect(await sql(`SELECT version FROM "${schema}".versions`)).toEqual([{ version: 1 }]);
});

test('init with a URL refuses (exit 2) and creates no folder named after it', async () => {
	for (const r of [await cli(['init', '--registry', url], cwd), await cli(['init'], cwd, { PROMPT_RELEASE_REGISTRY: url }), await cli(['init', url], cwd)]) {
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/init needs a registry folder, not a database URL: init scaffolds a registry folder to keep in git.*publish/);
	}
	expect((await fs.readdir(cwd)).sort()).toEqual(['prompts']);
});

test('a mistyped schema is refused (exit 2) naming the registry schemas there are, and nothing is created', async () => {
	const typo = `${schema}x`;
	const r = await cli(['status', '--registry', pgUrl(typo)], cwd);
	expect(r.code).toBe(2);
	expect(r.stderr).toContain(`registry schema "${typo}" does not exist`);
	expect(r.stderr).toMatch(new RegExp(`registry schemas there: .*${schema}`));
	expect(await sql(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [typo])).toEqual([]);
});

test('a rollback with nothing to roll back is refused with exit 1, as on a folder', async () => {
	const r = await cli(['rollback', 'price-change', '--registry', url], cwd);
	expect(r.code).toBe(1);
	expect(r.stderr.trim()).toBe('prompt-release: prompt "price-change" has nothing released on channel "production": nothing to roll back');
	const folder = await cli(['rollback', 'price-change'], cwd);
	expect(folder.code).toBe(1);
	expect(folder.stderr).toBe(r.stderr);
});

test('a damaged version row names its repair, and publish --repair rewrites it from git only when git\'s own file is intact', async () => {
	await sql(`UPDATE "${schema}".versions SET body = jsonb_set(body, '{prompt,instructions}', '"tampered"') WHERE version = 1`);
	const status = await cli(['release', 'price-change', '--version', '1', '--registry', url], cwd);
	expect(status.code).toBe(2);
	expect(status.stderr).toContain(`re-publish version 1 from git: prompt-release publish <folder> --to ${url} --repair price-change@1`);
	expect(status.stderr).not.toContain('git checkout');

	const versionFile = path.join(promptDir, 'versions', '1.yaml');
	const good = await fs.readFile(versionFile, 'utf8');
	await fs.writeFile(versionFile, good.replace(/instructions: .*/, 'instructions: also tampered'));
	const refused = await cli(['publish', 'prompts', '--to', url, '--repair', 'price-change@1'], cwd);
	expect(refused.code).toBe(2);
	expect(refused.stderr).toMatch(/--repair price-change@1 refused, nothing was written: git's own version file cannot be used: .*content hash mismatch/);

	await fs.writeFile(versionFile, good);
	const repaired = await cli(['publish', 'prompts', '--to', url, '--repair', 'price-change@1'], cwd);
	expect(repaired.stderr).toBe('');
	expect(repaired.code).toBe(0);
	expect(repaired.stdout).toContain('repaired version(s) 1 from git');
	expect((await openRegistryStore(url).readVersion('price-change', 1)).prompt.instructions).not.toBe('tampered');
});

test('pull warns about versions that exist only in the database', async () => {
	const store = openRegistryStore(url);
	const v1 = await store.readVersion('price-change', 1);
	await store.createVersion('price-change', { ...v1, version: 2 });
	const r = await cli(['pull', '--from', url, 'prompts'], cwd);
	expect(r.stderr).toMatch(/WARNING price-change: version\(s\) 2 exist only in postgres:\/\/\S+, never in git: they were not reviewed/);
});
