/**
 * Record Correction on PostgreSQL runs as a named prepared statement (lib/registry/postgres/prepared.ts):
 * parsed once per connection and planned for its parameters each time, one name per exact SQL text, so
 * schemas sharing a pool never collide, and a table changed by a later migration is re-analysed by the
 * server, not an error.
 */
import { recordCorrection } from '../../lib/corrections';
import { contentHash } from '../../lib/hash';
import { closeRegistryConnections } from '../../lib/registry/open';
import { preparedStatement } from '../../lib/registry/postgres/prepared';
import { parsePostgresUrl } from '../../lib/registry/postgres/settings';
import { PostgresRegistryStore } from '../../lib/registry/postgres/store';
import { verifiedVersions } from '../../lib/registry/version-cache';
import { makeSpec } from '../unit/helpers';
import { dropSchemas, pgUrl, sql, uniqueSchema } from '../support/postgres';

const schemas: string[] = [];

afterAll(async () => {
	await closeRegistryConnections();
	await dropSchemas(schemas);
});

/** A registry schema with one prompt and its version 1, reached through a pool of one connection (`max=1`). */
async function registry(): Promise<{ store: PostgresRegistryStore; schema: string }> {
	const schema = uniqueSchema('prepared');
	schemas.push(schema);
	const store = new PostgresRegistryStore({ ...parsePostgresUrl(pgUrl(schema, '&max=1')), createSchema: true });
	const spec = makeSpec();
	await store.writeDraft(spec);
	await store.createVersion(spec.id, { version: 1, contentHash: contentHash(spec), createdAt: '2026-01-01T00:00:00.000Z', author: 't', prompt: spec });
	return { store, schema };
}

const correct = (store: PostgresRegistryStore, subject: string) =>
	recordCorrection(store, { promptId: 'price-change', version: 1, variables: { subject, body: 'b' }, modelOutput: false, corrected: true });

describe('preparedStatement', () => {
	it('names a text by its hash, within PostgreSQL’s 63-byte identifier limit', () => {
		const a = preparedStatement('SELECT 1 FROM "a".fixtures');
		expect(a).toEqual(preparedStatement('SELECT 1 FROM "a".fixtures'));
		expect(a.name).toMatch(/^prompt_release_[0-9a-f]{24}$/);
		expect(a.name.length).toBeLessThanOrEqual(63);
		expect(preparedStatement('SELECT 1 FROM "b".fixtures').name).not.toBe(a.name);
	});
});

describe('Record Correction as a prepared statement', () => {
	beforeEach(() => verifiedVersions.clear());

	it('is prepared once on the connection and reused by later corrections', async () => {
		const { store, schema } = await registry();
		expect(await correct(store, 'one')).toMatchObject({ created: true });
		expect(await correct(store, 'one')).toMatchObject({ created: false });
		expect(await correct(store, 'two')).toMatchObject({ created: true });
		// max=1: this query runs on the connection the corrections used.
		const prepared = await store.query<{ name: string; statement: string }>(`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'prompt_release_%'`);
		const mine = prepared.filter((p) => p.statement.includes(`"${schema}".fixtures`));
		expect(mine).toHaveLength(1);
		expect((await store.listFixtures('price-change')).map((f) => f.inputs.subject).sort()).toEqual(['one', 'two']);
	});

	it('is planned for its parameters every time, never with a generic plan that would read every fixture of the prompt', async () => {
		const { store, schema } = await registry();
		for (let i = 0; i < 12; i++) await correct(store, `item ${i}`);
		expect(await store.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')).toEqual([{ plan_cache_mode: 'force_custom_plan' }]);
		const [plans] = await store.query<{ generic_plans: string; custom_plans: string }>(
			`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'prompt_release_%' AND statement LIKE '%"' || $1 || '".fixtures%'`,
			[schema],
		);
		expect(plans).toEqual({ generic_plans: '0', custom_plans: '12' });
	});

	it('two schemas sharing one pool each get their own statement, writing to their own schema', async () => {
		const a = await registry();
		const b = await registry();
		expect(a.store.pool).toBe(b.store.pool); // same server settings: one shared pool of one connection
		await correct(a.store, 'in a');
		await correct(b.store, 'in b');
		await correct(a.store, 'in a');
		expect((await a.store.listFixtures('price-change')).map((f) => f.inputs.subject)).toEqual(['in a']);
		expect((await b.store.listFixtures('price-change')).map((f) => f.inputs.subject)).toEqual(['in b']);
		const names = await a.store.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE statement LIKE '%"' || $1 || '".fixtures%' OR statement LIKE '%"' || $2 || '".fixtures%'`, [a.schema, b.schema]);
		expect(new Set(names.map((n) => n.name)).size).toBe(2);
	});

	it('a table changed after the statement was prepared is re-planned by the server, not an error', async () => {
		const { store, schema } = await registry();
		await correct(store, 'before');
		await sql(`ALTER TABLE "${schema}".fixtures ADD COLUMN later_column text`);
		expect(await correct(store, 'after')).toMatchObject({ created: true, fixture: { inputs: { subject: 'after' } } });
		expect(await correct(store, 'before')).toMatchObject({ created: false });
	});
});
