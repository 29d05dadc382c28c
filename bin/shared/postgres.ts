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

/** Versions are frozen in git and reach PostgreSQL by publish: `what` (a command) refuses a PostgreSQL registry (exit 2). */
export function refuseVersionsInDatabase(location: string, what: string): void {
	if (isPostgresUrl(location)) {
		throw new UsageError(
			`${what} refused on a PostgreSQL registry: versions are made in git: ${what} in the registry folder (--registry <folder>), then publish ("prompt-release publish <folder> --to <postgres-url>"); nothing was written`,
		);
	}
}

/** A command that scaffolds or writes a folder was given a database URL: refused (exit 2) with what to do instead. */
export function refuseUrlAsFolder(location: string, what: string, instead: string): void {
	if (isPostgresUrl(location)) throw new UsageError(`${what} needs a registry folder, not a database URL: ${instead}; nothing was written`);
}

/** The git registry folder of publish/pull (a URL there is a usage error). */
export function folderStore(folder: string, role: string): FileRegistryStore {
	if (isPostgresUrl(folder)) throw new UsageError(`${role} must be a registry folder (the git checkout), not a database URL`);
	const store = new FileRegistryStore(folder);
	return store;
}

