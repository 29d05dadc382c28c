/** Opening the two sides of publish/pull: a registry folder and a PostgreSQL registry URL. */
import { FileRegistryStore, isPostgresUrl, parsePostgresUrl, PostgresRegistryStore } from '../../lib';
import { UsageError } from './exit';

/**
 * The PostgreSQL registry a `--to`/`--from`/`--registry` value names; a folder there is a usage error.
 * Only with `createSchema` (publish) may its first use create a schema that does not exist.
 */
export function postgresStore(url: string | undefined, option: string, createSchema = false): PostgresRegistryStore {
	if (!url || !isPostgresUrl(url)) {
		throw new UsageError(`${option} needs a PostgreSQL registry URL such as postgres://user@host:5432/db?schema=prompts${url ? ` (got "${url}")` : ''}`);
	}
	return new PostgresRegistryStore({ ...parsePostgresUrl(url), createSchema });
}

/** The git registry folder of publish/pull (a URL there is a usage error). */
export function folderStore(folder: string, role: string): FileRegistryStore {
	if (isPostgresUrl(folder)) throw new UsageError(`${role} must be a registry folder (the git checkout), not a database URL`);
	const store = new FileRegistryStore(folder);
	return store;
}

