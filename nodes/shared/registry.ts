/**
 * The one place that turns the Prompt Registry credential into a RegistryStore.
 * Today a folder on the n8n host; a database store will be chosen here from new credential fields.
 */
import * as path from 'node:path';
import { NodeOperationError, type ICredentialDataDecryptedObject, type IExecuteFunctions, type ILoadOptionsFunctions, type INode } from 'n8n-workflow';
import { FileRegistryStore } from '../../lib/registry/file-store';
import type { RegistryStore } from '../../lib/registry/store';

export const REGISTRY_CREDENTIAL = 'promptRegistryApi';

/** Thrown when the credential cannot describe a store; `problem` says which field to fix. */
export class RegistryCredentialError extends Error {}

export function registryStoreFromCredential(data: ICredentialDataDecryptedObject | undefined): RegistryStore {
	const registryPath = typeof data?.registryPath === 'string' ? data.registryPath.trim() : '';
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
			description: 'Create a "Prompt Registry" credential pointing at your registry folder and select it in this node.',
		});
	}
	const data = await ctx.getCredentials(REGISTRY_CREDENTIAL);
	try {
		return registryStoreFromCredential(data);
	} catch (error) {
		throw new NodeOperationError(node, error instanceof RegistryCredentialError ? error.message : (error as Error));
	}
}
