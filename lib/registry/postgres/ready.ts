/**
 * The first use of a registry schema in a process: migrate it when allowed (default), else check that it
 * is at the version this package expects. Done once per server, database and schema per process.
 */
import type { Pool } from 'pg';
import { ConfigError } from '../../errors';
import { migrate, schemaVersion, versionProblem } from './migrations';
import { clientConfig, connectionKey, locationOf, type PostgresSettings } from './settings';
import { settleSsl } from './ssl';

const ready = new Map<string, Promise<void>>();

/** The schemas of this database that hold a registry (a `schema_migrations` and a `prompts` table). */
export async function registrySchemas(pool: Pool): Promise<string[]> {
	const { rows } = await pool.query<{ s: string }>(
		`SELECT m.table_schema AS s FROM information_schema.tables m JOIN information_schema.tables p ON p.table_schema = m.table_schema AND p.table_name = 'prompts'
		 WHERE m.table_name = 'schema_migrations' ORDER BY 1`,
	);
	return rows.map((r) => r.s);
}

/**
 * A schema that does not exist is a mistyped `?schema=` for every use but publish and `db migrate`: refused (exit 2),
 * naming the registry schemas there are, instead of creating an empty registry that answers "no prompts yet".
 */
async function assertSchemaExists(pool: Pool, settings: PostgresSettings): Promise<void> {
	const { rows } = await pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [settings.schema]);
	if (rows.length) return;
	const there = await registrySchemas(pool);
	throw new ConfigError(
		`registry schema "${settings.schema}" does not exist in ${locationOf(settings).replace(/\?schema=.*$/, '')}: check ?schema= in the registry URL (${
			there.length ? `registry schemas there: ${there.join(', ')}` : 'that database has no registry schema yet'
		}); a new registry is created by "prompt-release publish <folder> --to <url>" or "prompt-release db migrate --registry <url>"`,
	);
}

async function check(pool: Pool, settings: PostgresSettings): Promise<void> {
	let current: number;
	try {
		await settleSsl(pool, connectionKey(settings), clientConfig(settings), settings.ssl);
		current = await schemaVersion(pool, settings.schema);
	} catch (error) {
		throw new ConfigError(`cannot reach the PostgreSQL registry ${locationOf(settings)}: ${(error as Error).message}. Check host, port, database, user, password and SSL.`);
	}
	const problem = versionProblem(settings.schema, current);
	if (!problem) return;
	if (current === 0 && !settings.createSchema) await assertSchemaExists(pool, settings);
	if (settings.autoMigrate) {
		await migrate(pool, settings.schema);
		const after = await schemaVersion(pool, settings.schema);
		const still = versionProblem(settings.schema, after);
		if (still) throw new ConfigError(still);
		return;
	}
	throw new ConfigError(problem);
}

/** Resolves when the schema is usable; throws ConfigError ("schema version N, expected M: run prompt-release db migrate") otherwise. A failure is retried on the next call. */
export function ensureSchema(pool: Pool, settings: PostgresSettings): Promise<void> {
	const key = `${connectionKey(settings)}|${settings.schema}`;
	let p = ready.get(key);
	if (!p) {
		p = check(pool, settings);
		ready.set(key, p);
		p.catch(() => {
			if (ready.get(key) === p) ready.delete(key);
		});
	}
	return p;
}

/** Forget that schemas were checked (after `db migrate` in this process, or in tests that drop schemas). */
export function forgetSchemaChecks(): void {
	ready.clear();
}
