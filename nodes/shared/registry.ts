/**
 * The one place that turns the Prompt Registry credential into a RegistryStore: a folder on the n8n host,
 * or PostgreSQL (queue mode). PostgreSQL stores share one pool per connection settings per process, and the
 * process listens for channel changes so a rollback or freeze drops cached releases at once.
 */
import * as path from 'node:path';
import { NodeOperationError, type ICredentialDataDecryptedObject, type IExecuteFunctions, type ILoadOptionsFunctions, type INode } from 'n8n-workflow';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { listenForReleases } from '../../lib/registry/postgres/listener';
import { DEFAULT_SCHEMA, SCHEMA_NAME, type PostgresSettings, type SslMode } from '../../lib/registry/postgres/settings';
import { PostgresRegistryStore } from '../../lib/registry/postgres/store';
import type { RegistryStore } from '../../lib/registry/store';

export const REGISTRY_CREDENTIAL = 'promptRegistryApi';

/** Thrown when the credential cannot describe a store; `problem` says which field to fix. */
export class RegistryCredentialError extends Error {}

function text(data: ICredentialDataDecryptedObject | undefined, key: string, fallback = ''): string {
	const v = data?.[key];
	return typeof v === 'string' && v.trim() ? v.trim() : fallback;
}

const CREDENTIAL_SSL = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** PostgreSQL settings from the credential's fields (names as in n8n's own Postgres credential). */
export function postgresSettingsFromCredential(data: ICredentialDataDecryptedObject | undefined): PostgresSettings {
	const port = data?.port === undefined || data.port === '' ? 5432 : Number(data.port);
	if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RegistryCredentialError(`Port "${String(data?.port)}" is invalid: enter the PostgreSQL port (usually 5432)`);
	const ssl = text(data, 'ssl', 'disable');
	if (!CREDENTIAL_SSL.includes(ssl)) throw new RegistryCredentialError(`SSL "${ssl}" is invalid: choose Disable, Allow, Prefer, Require, Verify CA or Verify Full`);
	const allowUnauthorizedCerts = data?.allowUnauthorizedCerts === true;
	const schema = text(data, 'schema', DEFAULT_SCHEMA);
	if (!SCHEMA_NAME.test(schema)) {
		throw new RegistryCredentialError(`Schema "${schema}" is invalid: use lower-case letters, digits and "_", starting with a letter or "_", at most 63 characters (e.g. prompts)`);
	}
	const password = typeof data?.password === 'string' && data.password !== '' ? data.password : undefined;
	return {
		host: text(data, 'host', 'localhost'),
		port,
		database: text(data, 'database', 'postgres'),
		user: text(data, 'user', 'postgres'),
		password,
		// n8n's credential hides SSL when "Ignore SSL Issues" is on: that means SSL without certificate checks.
		// The modes mean what they mean in libpq (lib/registry/postgres/ssl.ts): Require does not check the certificate.
		ssl: allowUnauthorizedCerts ? 'require' : (ssl as SslMode),
		allowUnauthorizedCerts,
		schema,
		maxConnections: 10,
		autoMigrate: true,
	};
}

export function registryStoreFromCredential(data: ICredentialDataDecryptedObject | undefined): RegistryStore {
	const storage = text(data, 'storage', 'folder');
	if (storage === 'postgres') return new PostgresRegistryStore(postgresSettingsFromCredential(data));
	if (storage !== 'folder') throw new RegistryCredentialError(`Storage "${storage}" is invalid: choose Folder or PostgreSQL`);
	const registryPath = text(data, 'registryPath');
	if (!registryPath) {
		throw new RegistryCredentialError('the Prompt Registry credential has no Registry Folder: enter the folder that holds the prompts (e.g. /data/prompts)');
	}
	if (!path.isAbsolute(registryPath)) {
		throw new RegistryCredentialError(`Registry Folder "${registryPath}" is not an absolute path: enter the full path on the n8n host (e.g. /data/prompts)`);
	}
	return new FileRegistryStore(registryPath);
}

type RegistryContext = Pick<IExecuteFunctions | ILoadOptionsFunctions, 'getCredentials' | 'getNode'>;

export async function getRegistryStore(ctx: RegistryContext): Promise<RegistryStore> {
	const node: INode = ctx.getNode();
	if (!node.credentials?.[REGISTRY_CREDENTIAL]) {
		throw new NodeOperationError(node, 'No Prompt Registry credential selected', {
			description: 'Create a "Prompt Registry" credential pointing at your registry folder or PostgreSQL database and select it in this node.',
		});
	}
	const data = await ctx.getCredentials(REGISTRY_CREDENTIAL);
	let store: RegistryStore;
	try {
		store = registryStoreFromCredential(data);
	} catch (error) {
		throw new NodeOperationError(node, error instanceof RegistryCredentialError ? error.message : (error as Error));
	}
	// Channel changes on the database drop this process's cached releases at once (the TTL stays the fallback).
	if (store instanceof PostgresRegistryStore) listenForReleases(store);
	return store;
}
