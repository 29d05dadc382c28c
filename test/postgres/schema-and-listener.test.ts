/**
 * What only the PostgreSQL registry has: URL settings, migrations (versioned, race-free, clear version
 * errors) and release notifications dropping cache entries (and the TTL fallback while disconnected).
 */
import { Pool } from 'pg';
import { ReleaseCache } from '../../lib/release-cache';
import { migrate, LATEST_VERSION, MIGRATIONS, schemaVersion } from '../../lib/registry/postgres/migrations';
import { closeListeners, listenForReleases, reconnectDelay } from '../../lib/registry/postgres/listener';
import { isUnavailableDbError } from '../../lib/registry/unavailable';
import { forgetSchemaChecks } from '../../lib/registry/postgres/ready';
import { clientConfig, locationOf, parsePostgresUrl } from '../../lib/registry/postgres/settings';
import { PostgresRegistryStore } from '../../lib/registry/postgres/store';
import { closeRegistryConnections } from '../../lib/registry/open';
import { contentHash } from '../../lib/hash';
import { makeSpec } from '../unit/helpers';
import { dropSchemas, PG_BASE, pgUrl, sql, uniqueSchema } from '../support/postgres';

const schemas: string[] = [];
function schema(): string {
	const s = uniqueSchema('pgonly');
	schemas.push(s);
	return s;
}

afterAll(async () => {
	await closeRegistryConnections();
	await dropSchemas(schemas);
});

describe('registry URL', () => {
	it('parses settings and never shows the password', () => {
		const s = parsePostgresUrl('postgresql://ops:p%40ss@db.internal:6543/n8n?schema=prompts&sslmode=require&max=4&migrate=false');
		expect(s).toMatchObject({ host: 'db.internal', port: 6543, database: 'n8n', user: 'ops', password: 'p@ss', ssl: 'require', schema: 'prompts', maxConnections: 4, autoMigrate: false });
		expect(locationOf(s)).toBe('postgres://ops@db.internal:6543/n8n?schema=prompts');
	});

	it('names what to fix in a bad URL', () => {
		expect(() => parsePostgresUrl('postgres://u@h:5432/')).toThrow(/names no database/);
		expect(() => parsePostgresUrl('postgres://u@h/db?schema=Bad-Name')).toThrow(/schema "Bad-Name" is invalid/);
		expect(() => parsePostgresUrl('postgres://u@h/db?sslmode=sometimes')).toThrow(/sslmode "sometimes" is invalid .*use disable, allow, prefer, require, verify-ca, verify-full, no-verify/);
		expect(() => parsePostgresUrl('postgres://u@h/db?schem=x')).toThrow(/parameter "schem" is unknown/);
	});
});

describe('unavailable database', () => {
	const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

	it('counts a database that refuses connections for now as unavailable (SQLSTATE 55000, 57P03), not other 55000 errors', () => {
		expect(isUnavailableDbError(pgError('55000', 'database "n8n" is not currently accepting connections'))).toBe(true);
		expect(isUnavailableDbError(pgError('55000', 'database "n8n" does not allow connections'))).toBe(true);
		expect(isUnavailableDbError(pgError('57P03', 'the database system is starting up'))).toBe(true);
		expect(isUnavailableDbError(pgError('57P01', 'terminating connection due to administrator command'))).toBe(true);
		expect(isUnavailableDbError(pgError('55000', 'cannot execute nextval() in a read-only transaction state'))).toBe(false);
		expect(isUnavailableDbError(pgError('42P01', 'relation "x" does not exist'))).toBe(false);
	});

	it('a database without connections allowed is served stale by a warm cache', async () => {
		const db = `pr_noconn_${process.pid}`;
		await sql(`DROP DATABASE IF EXISTS ${db}`);
		await sql(`CREATE DATABASE ${db}`);
		try {
			const url = PG_BASE.replace(/\/[^/?]*$/, `/${db}`) + `?schema=noconn`;
			const store = new PostgresRegistryStore({ ...parsePostgresUrl(url), createSchema: true });
			const spec = makeSpec();
			await store.writeDraft(spec);
			await store.createVersion(spec.id, { version: 1, contentHash: contentHash(spec), createdAt: '2026-01-01T00:00:00.000Z', author: 't', prompt: spec });
			await store.updateReleases(spec.id, () => ({ channels: { production: { version: 1, contentHash: contentHash(spec), since: '2026-01-01T00:00:00.000Z' } }, history: [] }));
			let now = 1_000_000;
			const cache = new ReleaseCache(() => now);
			expect((await cache.resolve(store, spec.id, { channel: 'production' }, 1_000)).version).toBe(1);
			await sql(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
			await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [db]);
			await new Promise((r) => setTimeout(r, 300)); // the pool drops its terminated idle clients
			now += 2_000;
			const served = await cache.resolve(store, spec.id, { channel: 'production' }, 1_000);
			expect(served).toMatchObject({ version: 1, stale: { reason: expect.stringMatching(/does not allow connections|55000/) } });
		} finally {
			await closeRegistryConnections();
			await sql(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`).catch(() => undefined);
			await sql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
		}
	});
});

describe('release listener backoff', () => {
	it('doubles from 250 ms and is capped at 5 s, so a reconnect never waits long after an outage', () => {
		expect([0, 1, 2, 3, 4, 5, 10, 30].map((a) => reconnectDelay(a))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
		expect(reconnectDelay(3, { minBackoffMs: 20, maxBackoffMs: 100 })).toBe(100);
	});
});

describe('passwords with URL delimiters', () => {
	it('hint at percent-encoding and never show the password', () => {
		for (const bad of ['postgres://ops:Sekr/t@db:5432/n8n', 'postgres://ops:Sekr#t@db:5432/n8n', 'postgres://ops:Sekr%t@db:5432/n8n', 'postgres://ops:Sekr?x&t@db:5432/n8n']) {
			const error = (() => {
				try {
					parsePostgresUrl(bad);
				} catch (e) {
					return e as Error;
				}
				return undefined;
			})();
			expect(error?.message).toMatch(/percent-encode .*@ → %40.*# → %23/);
			expect(error?.message).not.toMatch(/Sekr/);
		}
		expect(parsePostgresUrl('postgres://ops:p%40%3A%2F%23%3F%25%26s@db/n8n').password).toBe('p@:/#?%&s');
	});
});

describe('SSL modes (libpq semantics, as pg-connection-string maps them with uselibpqcompat)', () => {
	const ssl = (mode: string) => clientConfig(parsePostgresUrl(`postgres://u@h/db?sslmode=${mode}`)).ssl;

	it('check the certificate only for verify-ca (chain) and verify-full (chain and host)', () => {
		expect(ssl('disable')).toBe(false);
		expect(ssl('allow')).toBe(false);
		expect(ssl('prefer')).toEqual({ rejectUnauthorized: false });
		expect(ssl('require')).toEqual({ rejectUnauthorized: false });
		expect(ssl('no-verify')).toEqual({ rejectUnauthorized: false });
		const ca = ssl('verify-ca') as { rejectUnauthorized: boolean; checkServerIdentity: () => unknown };
		expect(ca.rejectUnauthorized).toBe(true);
		expect(ca.checkServerIdentity()).toBeUndefined();
		expect(ssl('verify-full')).toEqual({ rejectUnauthorized: true });
		expect(clientConfig({ ...parsePostgresUrl('postgres://u@h/db?sslmode=verify-full'), allowUnauthorizedCerts: true }).ssl).toEqual({ rejectUnauthorized: false });
	});

	it('prefer falls back to a plain connection on a server without SSL; require fails there', async () => {
		forgetSchemaChecks();
		const s = schema();
		await new PostgresRegistryStore({ ...parsePostgresUrl(pgUrl(s)), createSchema: true }).listPrompts();
		expect(await new PostgresRegistryStore(parsePostgresUrl(pgUrl(s, '&sslmode=prefer'))).listPrompts()).toEqual([]);
		expect(await new PostgresRegistryStore(parsePostgresUrl(pgUrl(s, '&sslmode=allow'))).listPrompts()).toEqual([]);
		await expect(new PostgresRegistryStore(parsePostgresUrl(pgUrl(s, '&sslmode=require'))).listPrompts()).rejects.toThrow(/does not support SSL/);
	});
});

describe('migrations', () => {
	it('apply once when many processes start at once', async () => {
		const s = schema();
		const pools = Array.from({ length: 6 }, () => new Pool({ connectionString: PG_BASE, max: 1 }));
		try {
			const results = await Promise.all(pools.map((p) => migrate(p, s)));
			expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
			expect(await schemaVersion(pools[0], s)).toBe(LATEST_VERSION);
			expect(await sql(`SELECT version FROM "${s}".schema_migrations ORDER BY version`)).toEqual(Array.from({ length: LATEST_VERSION }, (_, i) => ({ version: i + 1 })));
		} finally {
			await Promise.all(pools.map((p) => p.end()));
		}
	});

	it('report "schema version N, expected M" when the store may not migrate, and migrate on first use otherwise', async () => {
		const s = schema();
		await sql(`CREATE SCHEMA "${s}"`);
		await sql(`CREATE TABLE "${s}".schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
		await sql(`INSERT INTO "${s}".schema_migrations VALUES (1, 'pretend')`);
		forgetSchemaChecks();
		const strict = new PostgresRegistryStore(parsePostgresUrl(pgUrl(s, '&migrate=false')));
		await expect(strict.listPrompts()).rejects.toThrow(`registry schema "${s}" is at schema version 1, expected ${LATEST_VERSION}: run prompt-release db migrate`);
		await sql(`DELETE FROM "${s}".schema_migrations`);
		const auto = new PostgresRegistryStore(parsePostgresUrl(pgUrl(s)));
		expect(await auto.listPrompts()).toEqual([]);
		expect(await schemaVersion(auto.pool, s)).toBe(LATEST_VERSION);
	});

	it('refuse a schema that does not exist unless the store may create it, naming the registry schemas there are', async () => {
		const real = schema();
		await new PostgresRegistryStore({ ...parsePostgresUrl(pgUrl(real)), createSchema: true }).listPrompts();
		const typo = schema();
		const reader = new PostgresRegistryStore(parsePostgresUrl(pgUrl(typo)));
		const error = await reader.listPrompts().then(() => undefined, (e: Error) => e);
		expect(error?.message).toMatch(new RegExp(`registry schema "${typo}" does not exist in postgres://postgres@127\\.0\\.0\\.1:5432/postgres: check \\?schema= .*registry schemas there: .*${real}`));
		expect(await sql(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [typo])).toEqual([]);
	});

	it('upgrade a registry from before the review queue (schema version 4) keeping its content', async () => {
		const s = schema();
		await sql(`CREATE SCHEMA "${s}"`);
		await sql(`CREATE TABLE "${s}".schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
		for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
			for (const statement of m.sql) await sql(statement.replaceAll('{s}', `"${s}"`));
			await sql(`INSERT INTO "${s}".schema_migrations VALUES ($1, $2)`, [m.version, m.description]);
		}
		await sql(`INSERT INTO "${s}".prompts (prompt_id, draft) VALUES ('price-change', $1)`, [makeSpec()]);
		await sql(`INSERT INTO "${s}".fixtures (prompt_id, fixture_id, body, inputs_key) VALUES ('price-change', 'a', $1, md5($2::jsonb::text))`, [{ id: 'a', inputs: { subject: 's', body: 'b' }, expected: true, source: 'manual' }, JSON.stringify({ subject: 's', body: 'b' })]);
		forgetSchemaChecks();
		const strict = new PostgresRegistryStore(parsePostgresUrl(pgUrl(s, '&migrate=false')));
		await expect(strict.listReviews('price-change')).rejects.toThrow(`registry schema "${s}" is at schema version 4, expected ${LATEST_VERSION}: run prompt-release db migrate`);
		const pool = new Pool({ connectionString: PG_BASE, max: 1 });
		try {
			expect((await migrate(pool, s)).applied.map((m) => m.version)).toEqual([5]);
		} finally {
			await pool.end();
		}
		forgetSchemaChecks();
		await strict.queueReviews('price-change', [{ kind: 'invalid', version: 'draft', inputs: { subject: 's', body: 'b' }, modelOutput: null, reason: 'refused', at: '2026-11-29T10:00:00.000Z' }]);
		expect((await strict.recordFixtureForInputs('price-change', { id: 'correction-x', inputs: { subject: 's', body: 'b' }, expected: false, source: 'correction' }))?.fixture.id).toBe('a');
		expect(await strict.listReviews('price-change')).toEqual([expect.objectContaining({ status: 'resolved', closed: expect.objectContaining({ fixtureId: 'a' }) })]);
	});

	it('refuse a schema newer than this package', async () => {
		const s = schema();
		const store = new PostgresRegistryStore({ ...parsePostgresUrl(pgUrl(s)), createSchema: true });
		await store.listPrompts();
		await sql(`INSERT INTO "${s}".schema_migrations VALUES (${LATEST_VERSION + 1}, 'from the future')`);
		forgetSchemaChecks();
		await expect(store.listPrompts()).rejects.toThrow(`schema version ${LATEST_VERSION + 1}, expected ${LATEST_VERSION}: it was upgraded by a newer prompt-release; upgrade this package`);
	});
});

describe('release notifications', () => {
	const spec = makeSpec();
	const frozen = (template: string, version: number) => {
		const p = makeSpec({ template });
		return { version, contentHash: contentHash(p), createdAt: '2026-01-01T00:00:00Z', prompt: p };
	};

	async function setUp() {
		const store = new PostgresRegistryStore({ ...parsePostgresUrl(pgUrl(schema())), createSchema: true });
		await store.writeDraft(spec);
		await store.createVersion(spec.id, frozen('One {{subject}} {{body}}', 1));
		await store.createVersion(spec.id, frozen('Two {{subject}} {{body}}', 2));
		const point = (version: number) =>
			store.updateReleases(spec.id, async (s) => ({ ...s, channels: { production: { version, contentHash: (await store.readVersion(spec.id, version)).contentHash, since: 'now' } } }));
		await point(1);
		return { store, point };
	}

	async function until(check: () => Promise<boolean>): Promise<void> {
		for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
	}

	it('drop the cached release of every process at commit, despite a long TTL', async () => {
		const { store, point } = await setUp();
		const cache = new ReleaseCache();
		const listener = listenForReleases(store, cache, { log: () => undefined });
		await listener.started;
		expect(listener.state).toBe('listening');
		const ttl = 3_600_000;
		expect((await cache.resolve(store, spec.id, { channel: 'production' }, ttl)).version).toBe(1);
		await point(2);
		await until(async () => (await cache.resolve(store, spec.id, { channel: 'production' }, ttl)).version === 2);
		expect((await cache.resolve(store, spec.id, { channel: 'production' }, ttl)).version).toBe(2);
		await closeListeners();
	});

	it('reconnect after the connection drops, logging it, and refresh what was cached meanwhile', async () => {
		const { store, point } = await setUp();
		const cache = new ReleaseCache();
		const logs: string[] = [];
		const listener = listenForReleases(store, cache, { log: (m) => logs.push(m), minBackoffMs: 20 });
		await listener.started;
		expect((await cache.resolve(store, spec.id, { channel: 'production' }, 3_600_000)).version).toBe(1);
		expect(listener.backendPid).toEqual(expect.any(Number));
		await sql(`SELECT pg_terminate_backend($1)`, [listener.backendPid]);
		await until(async () => logs.length > 0);
		expect(logs[0]).toMatch(/release notifications from postgres:\/\/postgres@127\.0\.0\.1:5432\/postgres (lost|connection ended).*fall back to their TTL; reconnecting in \d+ ms/);
		await point(2); // may be sent while nobody listens
		await until(async () => listener.state === 'listening');
		expect(listener.state).toBe('listening');
		expect(logs.some((l) => /restored after \d+ attempt/.test(l))).toBe(true);
		expect((await cache.resolve(store, spec.id, { channel: 'production' }, 3_600_000)).version).toBe(2);
		await closeListeners();
	});
});
