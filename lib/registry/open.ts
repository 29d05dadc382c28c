/**
 * Open the registry a location names: a `postgres://` / `postgresql://` URL (n8n queue mode) or a folder.
 * The CLI (`--registry`, $PROMPT_RELEASE_REGISTRY) and the n8n credential both come through here.
 */
import { FileRegistryStore } from './file-store';
import { closeListeners } from './postgres/listener';
import { closePools } from './postgres/pool';
import { isPostgresUrl, parsePostgresUrl } from './postgres/settings';
import { PostgresRegistryStore } from './postgres/store';
import type { RegistryStore } from './store';

/** A store for `location`; throws ConfigError for a malformed URL (naming the part to fix). No connection is made yet. */
export function openRegistryStore(location: string): RegistryStore {
	return isPostgresUrl(location) ? new PostgresRegistryStore(parsePostgresUrl(location)) : new FileRegistryStore(location);
}

/** Close every database pool and listener of this process (the CLI calls it before exiting). */
export async function closeRegistryConnections(): Promise<void> {
	await closeListeners();
	await closePools();
}
