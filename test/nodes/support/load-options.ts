/**
 * Calls a node's listSearch / loadOptions / credentialTest methods the way the n8n editor backend does:
 * with n8n-core's LoadOptionsContext over a workflow holding the node, and credentials through the
 * harness's credentials helper (encrypted store, n8n-core checks).
 */
import { LoadOptionsContext } from 'n8n-core';
import {
	Workflow,
	type ICredentialTestFunctions,
	type ICredentialType,
	type INode,
	type INodeParameters,
	type INodeType,
	type INodeTypes,
	type IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';
import { HarnessCredentialsHelper, type HarnessCredential } from '../../support/n8n-harness';
import { HarnessCredentialTypes } from '../../support/n8n-harness/credentials';
import { ensureN8nEnvironment } from '../../support/n8n-harness/environment';

export interface LoadOptionsSetup {
	nodeType: INodeType;
	typeName: string;
	parameters: INodeParameters;
	credentials: Record<string, HarnessCredential>;
	credentialTypes: ICredentialType[];
}

export async function loadOptionsContext(setup: LoadOptionsSetup): Promise<LoadOptionsContext> {
	ensureN8nEnvironment();
	const helper = new HarnessCredentialsHelper(new HarnessCredentialTypes(setup.credentialTypes));
	await helper.load(setup.credentials);
	const node: INode = {
		id: 'load-options-node',
		name: 'Node',
		type: setup.typeName,
		typeVersion: 1,
		position: [0, 0],
		parameters: setup.parameters,
		credentials: Object.fromEntries(Object.keys(setup.credentials).map((type) => [type, helper.reference(type)!])),
	};
	const nodeTypes: INodeTypes = {
		getByName: () => setup.nodeType,
		getByNameAndVersion: () => setup.nodeType,
		getKnownTypes: () => ({}),
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	const additionalData = { credentialsHelper: helper, currentNodeParameters: setup.parameters } as unknown as IWorkflowExecuteAdditionalData;
	return new LoadOptionsContext(workflow, node, additionalData, 'parameters.prompt');
}

/** What n8n passes as `this` to a credential test method (only logger and helpers). */
export function credentialTestContext(): ICredentialTestFunctions {
	return { logger: console, helpers: {} } as unknown as ICredentialTestFunctions;
}
