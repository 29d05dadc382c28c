/**
 * Credential side of the harness: a credential-type registry and an `ICredentialsHelper`
 * modelled on n8n's CLI `CredentialsHelper` (packages/cli/src/credentials-helper.ts), with the
 * database replaced by an in-memory store of *encrypted* credential records.
 *
 * What runs for real when a node calls `this.getCredentials(type)`:
 *  - n8n-core's `NodeExecutionContext._getCredentials` checks (credential declared by the node
 *    type, displayOptions, `required`, node.credentials set, restrictToSupportedNodes);
 *  - decryption through n8n-core's `Credentials` + `Cipher`;
 *  - defaults from the credential type's properties (`NodeHelpers.getNodeParameters`);
 *  - `={{ ... }}` expressions inside credential values, resolved by the workflow's expression
 *    engine with the current item (as n8n does when `expressionResolveValues` are given).
 * And for `this.helpers.httpRequestWithAuthentication`: `authenticate` (function or generic,
 * generic values resolved with `$credentials`) and `preAuthentication`.
 */
import { Credentials, getAdditionalKeys } from 'n8n-core';
import {
	ICredentialsHelper,
	NodeHelpers,
	Workflow,
	isExpression,
	type ICredentialDataDecryptedObject,
	type ICredentialType,
	type ICredentialsExpressionResolveValues,
	type IExecuteData,
	type IHttpRequestHelper,
	type IHttpRequestOptions,
	type INode,
	type INodeCredentialsDetails,
	type INodeParameters,
	type INodeProperties,
	type INodeType,
	type INodeTypes,
	type IRequestOptionsSimplified,
	type IWorkflowDataProxyAdditionalKeys,
	type IWorkflowExecuteAdditionalData,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

/** A credential as the test supplies it (decrypted). */
export interface HarnessCredential {
	/** Credential id. When set, a node referencing another id for this type gets "not found". */
	id?: string;
	name?: string;
	data: ICredentialDataDecryptedObject;
}

interface StoredCredential {
	id: string;
	name: string;
	type: string;
	/** Whether the test pinned the id (then node.credentials[type].id must match). */
	idPinned: boolean;
	/** Ciphertext, as n8n keeps it in the `credentials_entity.data` column. */
	data: string;
}

export class HarnessCredentialTypes {
	private readonly types = new Map<string, ICredentialType>();

	constructor(types: ICredentialType[]) {
		for (const type of types) this.types.set(type.name, type);
	}

	recognizes(name: string): boolean {
		return this.types.has(name);
	}

	getByName(name: string): ICredentialType {
		const type = this.types.get(name);
		if (!type) {
			throw new Error(
				`n8n-harness: unknown credential type "${name}"; pass it in runWorkflow({ credentialTypes })`,
			);
		}
		return type;
	}

	getParentTypes(name: string): string[] {
		const parents = this.types.get(name)?.extends ?? [];
		return parents.flatMap((parent) => [parent, ...this.getParentTypes(parent)]);
	}
}

const mockNode: INode = {
	id: 'harness-credential-node',
	name: '',
	typeVersion: 1,
	type: 'mock',
	position: [0, 0],
	parameters: {},
};

const mockNodeTypes: INodeTypes = {
	getByName: () => mockNodeType,
	getByNameAndVersion: () => mockNodeType,
	getKnownTypes: () => ({}),
};
const mockNodeType: INodeType = {
	description: {
		displayName: 'Mock',
		name: 'mock',
		group: [],
		version: 1,
		description: '',
		defaults: {},
		inputs: [],
		outputs: [],
		properties: [],
	},
};

export class HarnessCredentialsHelper extends ICredentialsHelper {
	private readonly store = new Map<string, StoredCredential>();

	constructor(private readonly credentialTypes: HarnessCredentialTypes) {
		super();
	}

	/** Encrypts and stores the test's credentials (one per credential type). */
	async load(credentials: Record<string, HarnessCredential>): Promise<void> {
		for (const [type, credential] of Object.entries(credentials)) {
			this.credentialTypes.getByName(type); // fail early on unknown types
			const id = credential.id ?? `${type}-credential`;
			const name = credential.name ?? `${type} account`;
			const entity = new Credentials({ id, name }, type);
			await entity.setData(credential.data);
			this.store.set(type, {
				id,
				name,
				type,
				idPinned: credential.id !== undefined,
				data: entity.getDataToSave().data!,
			});
		}
	}

	/** `{ id, name }` of the stored credential for `type`, as a node's `credentials` entry. */
	reference(type: string): INodeCredentialsDetails | undefined {
		const stored = this.store.get(type);
		return stored ? { id: stored.id, name: stored.name } : undefined;
	}

	/** The stored (re-decrypted) data, e.g. to assert what `updateCredentials` wrote. */
	async storedData(type: string): Promise<ICredentialDataDecryptedObject | undefined> {
		const stored = this.store.get(type);
		if (!stored) return undefined;
		return await new Credentials({ id: stored.id, name: stored.name }, type, stored.data).getData();
	}

	private findStored(nodeCredentials: INodeCredentialsDetails, type: string): StoredCredential {
		const stored = this.store.get(type);
		if (!nodeCredentials.id) {
			// Same message as n8n's CredentialMissingIdError (@n8n/cli)
			throw new Error(
				`Cannot find credential "${nodeCredentials.name}" of type "${type}" because it has no ID. Please select the credential again.`,
			);
		}
		if (!stored || (stored.idPinned && stored.id !== nodeCredentials.id)) {
			// Same message as n8n's CredentialNotFoundError
			throw new Error(`Credential with ID "${nodeCredentials.id}" does not exist for type "${type}".`);
		}
		return stored;
	}

	getParentTypes(name: string): string[] {
		return this.credentialTypes.getParentTypes(name);
	}

	isCredentialUsableByNode(credentialType: string, nodeType: string): boolean {
		if (!this.credentialTypes.recognizes(credentialType)) return true;
		const typeDef = this.credentialTypes.getByName(credentialType);
		if (!typeDef.restrictToSupportedNodes) return true;
		return (typeDef.supportedNodes ?? []).some(
			(supported) => supported === nodeType || nodeType.endsWith(`.${supported}`),
		);
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		incomingRequestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		const requestOptions = incomingRequestOptions as IHttpRequestOptions;
		const { authenticate } = this.credentialTypes.getByName(typeName);
		if (typeof authenticate === 'function') {
			return await authenticate(credentials, requestOptions);
		}
		if (typeof authenticate === 'object' && authenticate.type === 'generic') {
			if (!workflow || !node) {
				throw new Error('Workflow and node are required for declarative credential authentication');
			}
			requestOptions.headers ??= {};
			for (const [outerKey, outerValue] of Object.entries(authenticate.properties)) {
				const target = requestOptions as unknown as Record<string, Record<string, unknown>>;
				for (const [key, value] of Object.entries(outerValue as Record<string, unknown>)) {
					const keyResolved = this.resolveValue(key, { $credentials: credentials }, workflow, node);
					const valueResolved = this.resolveValue(value as string, { $credentials: credentials }, workflow, node);
					target[outerKey] ??= {};
					target[outerKey][keyResolved] = valueResolved;
				}
			}
		}
		return requestOptions;
	}

	private resolveValue(
		parameterValue: string,
		additionalKeys: IWorkflowDataProxyAdditionalKeys,
		workflow: Workflow,
		node: INode,
	): string {
		if (!isExpression(parameterValue)) return parameterValue;
		const value = workflow.expression.getSimpleParameterValue(
			node,
			parameterValue,
			'internal',
			additionalKeys,
			undefined,
			'',
		);
		return value ? value.toString() : '';
	}

	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.credentialTypes.getByName(typeName);
		const expirable = credentialType.properties.find(
			(property) => property.type === 'hidden' && property.typeOptions?.expirable === true,
		);
		if (expirable?.name === undefined || typeof credentialType.preAuthentication !== 'function') {
			return undefined;
		}
		if (credentials[expirable.name] !== '' && !credentialsExpired) return undefined;

		const output = (await credentialType.preAuthentication.call(helpers, credentials)) as ICredentialDataDecryptedObject;
		if (output[expirable.name] === undefined) return undefined;

		const nodeCredentials = node.credentials?.[credentialType.name];
		if (nodeCredentials) {
			const stored = await (await this.getCredentials(nodeCredentials, credentialType.name)).getData();
			const toPersist: ICredentialDataDecryptedObject = { ...stored };
			for (const [key, value] of Object.entries(output)) {
				if (key === expirable.name || !isExpression(stored[key])) toPersist[key] = value;
			}
			await this.updateCredentials(nodeCredentials, credentialType.name, toPersist);
		}
		return Object.assign(credentials, output);
	}

	async runPreAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.credentialTypes.getByName(typeName);
		if (typeof credentialType.preAuthentication !== 'function') return undefined;
		const output = await credentialType.preAuthentication.call(helpers, credentials);
		return (output as ICredentialDataDecryptedObject | undefined) ?? undefined;
	}

	async getCredentials(nodeCredentials: INodeCredentialsDetails, type: string): Promise<Credentials> {
		const stored = this.findStored(nodeCredentials, type);
		return new Credentials({ id: stored.id, name: stored.name }, stored.type, stored.data);
	}

	async getDecrypted(
		additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		raw?: boolean,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		const credentials = await this.getCredentials(nodeCredentials, type);
		const decrypted = await credentials.getData();
		if (raw === true) return decrypted;
		return await this.applyDefaults(additionalData, decrypted, type, mode, executeData, expressionResolveValues);
	}

	private async applyDefaults(
		additionalData: IWorkflowExecuteAdditionalData,
		decryptedOriginal: ICredentialDataDecryptedObject,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		const properties = this.getCredentialsProperties(type);
		let data = NodeHelpers.getNodeParameters(
			properties,
			decryptedOriginal as INodeParameters,
			true,
			false,
			null,
			null,
		) as ICredentialDataDecryptedObject;
		if (decryptedOriginal.oauthTokenData !== undefined) {
			data.oauthTokenData = decryptedOriginal.oauthTokenData;
		}

		const additionalKeys = getAdditionalKeys(additionalData, mode, null, { isCredential: true });
		if (expressionResolveValues) {
			try {
				data = expressionResolveValues.workflow.expression.getParameterValue(
					data as INodeParameters,
					expressionResolveValues.runExecutionData,
					expressionResolveValues.runIndex,
					expressionResolveValues.itemIndex,
					expressionResolveValues.node.name,
					expressionResolveValues.connectionInputData,
					mode,
					additionalKeys,
					executeData,
					false,
					data,
				) as ICredentialDataDecryptedObject;
			} catch (error) {
				(error as Error).message += ' [Error resolving credentials]';
				throw error;
			}
		} else {
			const workflow = new Workflow({
				nodes: [mockNode],
				connections: {},
				active: false,
				nodeTypes: mockNodeTypes,
			});
			const unresolved = data;
			data = await workflow.expression.withIsolate(
				async () =>
					workflow.expression.getComplexParameterValue(
						mockNode,
						unresolved as INodeParameters,
						mode,
						additionalKeys,
						undefined,
						undefined,
						unresolved,
					) as ICredentialDataDecryptedObject,
			);
		}
		return data;
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		const typeData = this.credentialTypes.getByName(type);
		if (typeData.extends === undefined) {
			if (['oAuth1Api', 'oAuth2Api'].includes(type)) {
				return [
					...typeData.properties,
					{ displayName: 'oauthTokenData', name: 'oauthTokenData', type: 'json', required: false, default: {} },
				];
			}
			return typeData.properties;
		}
		const combined: INodeProperties[] = [];
		for (const parent of typeData.extends) {
			NodeHelpers.mergeNodeProperties(combined, this.getCredentialsProperties(parent));
		}
		NodeHelpers.mergeNodeProperties(combined, typeData.properties);
		return combined;
	}

	async updateCredentials(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		const stored = this.findStored(nodeCredentials, type);
		const credentials = new Credentials({ id: stored.id, name: stored.name }, type);
		await credentials.setData(data);
		stored.data = credentials.getDataToSave().data!;
	}

	async updateCredentialsOauthTokenData(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		const credentials = await this.getCredentials(nodeCredentials, type);
		await credentials.updateData({ oauthTokenData: data.oauthTokenData });
		this.findStored(nodeCredentials, type).data = credentials.getDataToSave().data!;
	}
}

/**
 * Stand-in shaped like n8n's own `openAiApi` credential (n8n-nodes-base): apiKey,
 * organizationId, url. Authenticates declaratively (generic `Authorization: Bearer ...`), so the
 * expression path of `authenticate` is exercised.
 */
export const openAiApiCredentialStandIn: ICredentialType = {
	name: 'openAiApi',
	displayName: 'OpenAI (harness stand-in)',
	properties: [
		{ displayName: 'API Key', name: 'apiKey', type: 'string', typeOptions: { password: true }, required: true, default: '' },
		{ displayName: 'Organization ID (optional)', name: 'organizationId', type: 'string', default: '' },
		{ displayName: 'Base URL', name: 'url', type: 'string', default: 'https://api.openai.com/v1' },
	],
	authenticate: {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
				'OpenAI-Organization': '={{$credentials.organizationId}}',
			},
		},
	},
};

/**
 * Stand-in shaped like n8n's own `anthropicApi` credential (@n8n/n8n-nodes-langchain): apiKey,
 * url. Authenticates with a function (`x-api-key` header), like the real one.
 */
export const anthropicApiCredentialStandIn: ICredentialType = {
	name: 'anthropicApi',
	displayName: 'Anthropic (harness stand-in)',
	properties: [
		{ displayName: 'API Key', name: 'apiKey', type: 'string', typeOptions: { password: true }, required: true, default: '' },
		{ displayName: 'Base URL', name: 'url', type: 'string', default: 'https://api.anthropic.com' },
	],
	authenticate: async (credentials, requestOptions) => {
		requestOptions.headers ??= {};
		requestOptions.headers['x-api-key'] = credentials.apiKey;
		return requestOptions;
	},
};
