/**
 * The first use of a registry schema in a process: migrate it when allowed (default), else check that it
 * is at the version this package expects. Done once per server, database and schema per process.
 */
import type { Pool } from 'pg';
import { ConfigError } from '../../errors';
import { migrate, schemaVersion, versionProblem } from './migrations';
import { connectionKey, locationOf, type PostgresSettings } from './settings';

const ready = new Map<string, Promise<void>>();

async function check(pool: Pool, settings: PostgresSettings): Promise<void> {
	let current: number;
	try {
		current = await schemaVersion(pool, settings.schema);
	} catch (error) {
		throw new ConfigError(`cannot reach the PostgreSQL registry ${locationOf(settings)}: ${(error as Error).message}. Check host, port, database, user, password and SSL.`);
	}
	const problem = versionProblem(settings.schema, current);
	if (!problem) return;
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
