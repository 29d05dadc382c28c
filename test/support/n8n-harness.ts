/**
 * In-process n8n workflow runner for node tests.
 *
 * Builds a real `Workflow` (n8n-workflow) and runs it with n8n-core's `WorkflowExecute`, the same
 * engine n8n 2.x uses, so a node under test sees what it sees in n8n: parameters with `={{ }}`
 * expressions evaluated by n8n's expression engine, `this.getCredentials()` through n8n-core's
 * checks and a credentials helper modelled on n8n's, multiple outputs routed over connections,
 * pairedItem lineage, `continueOnFail` / `onError`, `alwaysOutputData`, `executeOnce`, retries.
 *
 * See test/harness.test.ts for examples. Wiring: ./n8n-harness/environment.ts (DI),
 * ./n8n-harness/credentials.ts (credentials).
 */
import { randomUUID } from 'node:crypto';

import { ExecutionLifecycleHooks, ExternalSecretsProxy, WorkflowExecute } from 'n8n-core';
import {
	NodeConnectionTypes,
	NodeHelpers,
	Workflow,
	createRunExecutionData,
	deepCopy,
	type ExecutionError,
	type ExecutionStatus,
	type ICredentialType,
	type IConnections,
	type IDataObject,
	type INode,
	type INodeExecutionData,
	type INodeType,
	type INodeTypes,
	type IPinData,
	type IRun,
	type IRunData,
	type ITaskData,
	type ITriggerFunctions,
	type ITriggerResponse,
	type IVersionedNodeType,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
	type IWorkflowSettings,
	type NodeConnectionType,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import {
	HarnessCredentialTypes,
	HarnessCredentialsHelper,
	anthropicApiCredentialStandIn,
	openAiApiCredentialStandIn,
	type HarnessCredential,
} from './n8n-harness/credentials';
import {
	activeExpressionEngine,
	createRunScope,
	disposeExpressionEngine,
	ensureN8nEnvironment,
	runScope,
	useExpressionEngine,
	type ExpressionEngine,
	type HttpHandler,
	type RecordedHttpRequest,
} from './n8n-harness/environment';

export {
	HarnessCredentialsHelper,
	activeExpressionEngine,
	anthropicApiCredentialStandIn,
	disposeExpressionEngine,
	openAiApiCredentialStandIn,
	useExpressionEngine,
	type ExpressionEngine,
	type HarnessCredential,
	type HttpHandler,
	type RecordedHttpRequest,
};

// The VM engine keeps isolates alive; release them when the importing test file is done.
if (typeof afterAll === 'function') afterAll(disposeExpressionEngine);

/** Type name of the built-in start node. */
export const HARNESS_TRIGGER_TYPE = 'n8n-harness.trigger';
/** Name the built-in start node gets when the workflow does not contain one. */
export const DEFAULT_TRIGGER_NAME = 'Trigger';

/** A node as in workflow JSON; `id`, `typeVersion`, `position` and `parameters` may be left out. */
export type HarnessNode = Omit<INode, 'id' | 'typeVersion' | 'position' | 'parameters'> &
	Partial<Pick<INode, 'id' | 'typeVersion' | 'position' | 'parameters'>>;

export interface RunWorkflowOptions {
	/** Node types under test by type name as used in `nodes[].type`, e.g. `'n8n-nodes-prompt-release.extractSignal'`. */
	nodeTypes: Record<string, INodeType | IVersionedNodeType>;
	/**
	 * The workflow's nodes. A start node of type {@link HARNESS_TRIGGER_TYPE} named
	 * {@link DEFAULT_TRIGGER_NAME} is added unless one is present (see {@link triggerNode}) or
	 * `startNode` is given.
	 */
	nodes: HarnessNode[];
	/** Connections as in workflow JSON; {@link connect} builds them. */
	connections: IConnections;
	/** Credentials by credential type name. Stored encrypted, decrypted by n8n-core's `Credentials`. */
	credentials?: Record<string, HarnessCredential>;
	/**
	 * Credential types the nodes use. `openAiApi` / `anthropicApi` stand-ins are always
	 * available; a type passed here with the same name replaces the stand-in.
	 */
	credentialTypes?: ICredentialType[];
	/**
	 * Fill `node.credentials[type]` for every credential type the node declares and the test
	 * supplies, as the n8n editor does when one credential of that type exists. Default `true`;
	 * pass `false` to test nodes without credentials set.
	 */
	autoAssignCredentials?: boolean;
	/** Items the start node emits. Default `[{ json: {} }]`. */
	triggerItems?: INodeExecutionData[];
	/**
	 * Name of the node to start from; it receives `triggerItems` as its input (no trigger node is
	 * added then). Default: the harness trigger node.
	 */
	startNode?: string;
	/** Execution mode. Default `'manual'` (`$execution.mode === 'test'`); `'trigger'` for production. */
	mode?: WorkflowExecuteMode;
	/** Workflow settings. Default `{ executionOrder: 'v1' }`, as for workflows created in n8n 1.x/2.x. */
	settings?: IWorkflowSettings;
	/** Pinned output per node name. */
	pinData?: IPinData;
	/** `$vars`. */
	variables?: IDataObject;
	/** External secrets by provider, for `{{ $secrets.<provider>.<name> }}` in credentials. */
	secrets?: Record<string, Record<string, unknown>>;
	/** Workflow static data (`this.getWorkflowStaticData()`). */
	staticData?: IDataObject;
	/**
	 * Answers outgoing `this.helpers.httpRequest` / `httpRequestWithAuthentication` /
	 * `request*` calls (after credentials were applied) with the response body, or with
	 * `{ body, headers, statusCode }` if the request asks for `returnFullResponse`. A throw is a
	 * failed request. Without a handler, any request fails (no network in tests).
	 */
	http?: HttpHandler;
	workflowId?: string;
	workflowName?: string;
	executionId?: string;
}

export interface WorkflowRunResult {
	/** The full `IRun` n8n-core returned. */
	run: IRun;
	status: ExecutionStatus;
	runData: IRunData;
	/** Node names in the order they finished. */
	executionOrder: string[];
	/**
	 * Error that stopped the workflow (a node failed without continueOnFail / onError).
	 * As in n8n's `IRun`, a plain copy of the error (`message`, `description`, `node`, ...).
	 */
	error?: ExecutionError;
	/** Items on one output of a node (default output 0, run 0). Throws if the node did not run. */
	outputOf(nodeName: string, outputIndex?: number, runIndex?: number): INodeExecutionData[];
	/** All main outputs of a node for one run. Throws if the node did not run. */
	outputsOf(nodeName: string, runIndex?: number): INodeExecutionData[][];
	/** Task data of one run of a node, or undefined. */
	taskOf(nodeName: string, runIndex?: number): ITaskData | undefined;
	/** Error recorded on one run of a node, or undefined. */
	nodeError(nodeName: string, runIndex?: number): ExecutionError | undefined;
	/** Outgoing HTTP requests, as n8n-core handed them to the transport. */
	httpRequests: RecordedHttpRequest[];
	/** Errors n8n-core sent to its ErrorReporter (Sentry in production). */
	reportedErrors: unknown[];
	/** The run's credentials helper, e.g. `await result.credentials.storedData('myApi')`. */
	credentials: HarnessCredentialsHelper;
	/** Workflow static data after the run. */
	staticData: IDataObject;
}

/** The built-in start node, for workflows that name or place it themselves. */
export function triggerNode(name: string = DEFAULT_TRIGGER_NAME): HarnessNode {
	return { id: `harness-${name}`, name, type: HARNESS_TRIGGER_TYPE, typeVersion: 1, position: [0, 0], parameters: {} };
}

/**
 * Builds `IConnections` from `[from, to]` or `[from, to, fromOutput, toInput]` tuples
 * (main connections only), e.g. `connect(['Trigger', 'Route'], ['Route', 'High', 0], ['Route', 'Low', 1])`.
 */
export function connect(
	...links: Array<[from: string, to: string, fromOutput?: number, toInput?: number]>
): IConnections {
	const connections: IConnections = {};
	for (const [from, to, fromOutput = 0, toInput = 0] of links) {
		const main = ((connections[from] ??= {})[NodeConnectionTypes.Main] ??= []);
		while (main.length <= fromOutput) main.push([]);
		(main[fromOutput] ??= []).push({ node: to, type: NodeConnectionTypes.Main, index: toInput });
	}
	return connections;
}

function createTriggerNodeType(items: INodeExecutionData[]): INodeType {
	return {
		description: {
			displayName: 'Harness Trigger',
			name: 'harnessTrigger',
			group: ['trigger'],
			version: 1,
			description: 'Emits the items given to runWorkflow({ triggerItems })',
			defaults: { name: DEFAULT_TRIGGER_NAME },
			inputs: [],
			outputs: [NodeConnectionTypes.Main],
			properties: [],
		},
		// Manual mode: n8n-core calls trigger() and waits for emit(), like the Manual Trigger.
		// Other modes: n8n-core passes the execution stack's data (the same items) through.
		async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
			return {
				manualTriggerFunction: async () => {
					this.emit([deepCopy(items)]);
				},
			};
		},
	};
}

class HarnessNodeTypes implements INodeTypes {
	constructor(private readonly types: Record<string, INodeType | IVersionedNodeType>) {}

	getByName(type: string): INodeType | IVersionedNodeType {
		const nodeType = this.types[type];
		if (!nodeType) {
			throw new Error(
				`n8n-harness: unknown node type "${type}"; known: ${Object.keys(this.types).join(', ')}`,
			);
		}
		return nodeType;
	}

	getByNameAndVersion(type: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(type), version);
	}

	getKnownTypes() {
		return {};
	}
}

function latestVersion(nodeType: INodeType | IVersionedNodeType): number {
	if ('nodeVersions' in nodeType) return nodeType.currentVersion;
	const { version } = nodeType.description;
	return Array.isArray(version) ? Math.max(...version) : version;
}

function toNode(node: HarnessNode, nodeTypes: HarnessNodeTypes): INode {
	const copy = deepCopy(node) as HarnessNode;
	return {
		...copy,
		id: copy.id ?? randomUUID(),
		typeVersion: copy.typeVersion ?? latestVersion(nodeTypes.getByName(copy.type)),
		position: copy.position ?? [0, 0],
		parameters: copy.parameters ?? {},
	};
}

function assignCredentials(
	nodes: INode[],
	nodeTypes: HarnessNodeTypes,
	credentialsHelper: HarnessCredentialsHelper,
): void {
	for (const node of nodes) {
		const declared = nodeTypes.getByNameAndVersion(node.type, node.typeVersion).description.credentials ?? [];
		for (const { name } of declared) {
			const reference = credentialsHelper.reference(name);
			if (!reference || node.credentials?.[name]) continue;
			node.credentials = { ...node.credentials, [name]: reference };
		}
	}
}

function createAdditionalData(options: {
	hooks: ExecutionLifecycleHooks;
	credentialsHelper: HarnessCredentialsHelper;
	executionId: string;
	workflowId: string;
	variables: IDataObject;
	secrets: Record<string, Record<string, unknown>>;
}): IWorkflowExecuteAdditionalData {
	const unsupported = (what: string) => async () => {
		throw new Error(`n8n-harness: ${what} is not supported`);
	};
	const baseUrl = 'http://localhost:5678';
	const { secrets } = options;
	const externalSecretsProxy = new ExternalSecretsProxy();
	externalSecretsProxy.setManager({
		hasProvider: (provider) => provider in secrets,
		hasSecret: (provider, name) => name in (secrets[provider] ?? {}),
		getSecret: (provider, name) => secrets[provider]?.[name],
		getSecretNames: (provider) => Object.keys(secrets[provider] ?? {}),
		getProviderNames: () => Object.keys(secrets),
	});
	return {
		externalSecretsProxy,
		hooks: options.hooks,
		credentialsHelper: options.credentialsHelper,
		executionId: options.executionId,
		workflowId: options.workflowId,
		userId: 'harness-user',
		projectId: 'harness-project',
		currentNodeExecutionIndex: 0,
		variables: options.variables,
		restApiUrl: `${baseUrl}/rest`,
		instanceBaseUrl: `${baseUrl}/`,
		formBaseUrl: `${baseUrl}/form`,
		formWaitingBaseUrl: `${baseUrl}/form-waiting`,
		formTestBaseUrl: `${baseUrl}/form-test`,
		webhookBaseUrl: `${baseUrl}/webhook`,
		webhookWaitingBaseUrl: `${baseUrl}/webhook-waiting`,
		webhookTestBaseUrl: `${baseUrl}/webhook-test`,
		mcpBaseUrl: `${baseUrl}/mcp`,
		mcpTestBaseUrl: `${baseUrl}/mcp-test`,
		executeWorkflow: unsupported('executing sub-workflows'),
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		startRunnerTask: unsupported('the task runner (Code node)'),
		logAiEvent: () => {},
	} as IWorkflowExecuteAdditionalData;
}

/** Runs a workflow through n8n-core's WorkflowExecute and returns what it produced. */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRunResult> {
	await ensureN8nEnvironment();

	const mode = options.mode ?? 'manual';
	const triggerItems = options.triggerItems ?? [{ json: {} }];
	const executionId = options.executionId ?? randomUUID();
	const workflowId = options.workflowId ?? 'harness-workflow';

	const credentialTypes = new HarnessCredentialTypes([
		openAiApiCredentialStandIn,
		anthropicApiCredentialStandIn,
		...(options.credentialTypes ?? []),
	]);
	const credentialsHelper = new HarnessCredentialsHelper(credentialTypes);
	await credentialsHelper.load(options.credentials ?? {});

	const nodeTypes = new HarnessNodeTypes({
		[HARNESS_TRIGGER_TYPE]: createTriggerNodeType(triggerItems),
		...options.nodeTypes,
	});

	const addTrigger =
		options.startNode === undefined && !options.nodes.some((node) => node.type === HARNESS_TRIGGER_TYPE);
	const givenNodes = addTrigger ? [triggerNode(), ...options.nodes] : options.nodes;
	const nodes = givenNodes.map((node) => toNode(node, nodeTypes));
	if (options.autoAssignCredentials !== false) assignCredentials(nodes, nodeTypes, credentialsHelper);

	const settings: IWorkflowSettings = { executionOrder: 'v1', ...options.settings };
	const connections = deepCopy(options.connections);
	const workflow = new Workflow({
		id: workflowId,
		name: options.workflowName ?? 'Harness workflow',
		nodes,
		connections,
		active: false,
		nodeTypes,
		settings,
		staticData: options.staticData,
		pinData: options.pinData,
	});

	const startName =
		options.startNode ?? nodes.find((node) => node.type === HARNESS_TRIGGER_TYPE)!.name;
	const startNode = workflow.getNode(startName);
	if (!startNode) throw new Error(`n8n-harness: start node "${startName}" is not in the workflow`);

	const workflowData: IWorkflowBase = {
		id: workflowId,
		name: workflow.name ?? '',
		active: false,
		isArchived: false,
		activeVersionId: null,
		createdAt: new Date(),
		updatedAt: new Date(),
		nodes,
		connections,
		settings,
		pinData: options.pinData,
	};
	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	const scope = createRunScope(options.http);
	const executionOrder: string[] = [];
	hooks.addHandler('nodeExecuteBefore', (nodeName) => {
		scope.currentNode = nodeName;
	});
	hooks.addHandler('nodeExecuteAfter', (nodeName) => {
		executionOrder.push(nodeName);
		scope.currentNode = undefined;
	});

	const additionalData = createAdditionalData({
		hooks,
		credentialsHelper,
		executionId,
		workflowId,
		variables: options.variables ?? {},
		secrets: options.secrets ?? {},
	});

	const runExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [
				{ node: startNode, data: { main: [deepCopy(triggerItems)] }, source: null },
			],
		},
		resultData: { pinData: options.pinData },
	});

	const run = await runScope.run(scope, async () => {
		const workflowExecute = new WorkflowExecute(additionalData, mode, runExecutionData);
		return await workflowExecute.processRunExecutionData(workflow);
	});

	const { runData } = run.data.resultData;
	const taskOf = (nodeName: string, runIndex = 0) => runData[nodeName]?.[runIndex];
	const outputsOf = (nodeName: string, runIndex = 0): INodeExecutionData[][] => {
		const task = taskOf(nodeName, runIndex);
		if (!task) {
			const ran = Object.keys(runData).join(', ') || 'none';
			const why = run.data.resultData.error ? `; workflow error: ${run.data.resultData.error.message}` : '';
			throw new Error(`n8n-harness: node "${nodeName}" has no run #${runIndex} (ran: ${ran})${why}`);
		}
		if (task.error) {
			throw new Error(`n8n-harness: node "${nodeName}" failed: ${task.error.message}`);
		}
		const main = task.data?.[NodeConnectionTypes.Main as NodeConnectionType] ?? [];
		return main.map((items) => items ?? []);
	};

	return {
		run,
		status: run.status,
		runData,
		executionOrder,
		error: run.data.resultData.error,
		outputOf: (nodeName, outputIndex = 0, runIndex = 0) => outputsOf(nodeName, runIndex)[outputIndex] ?? [],
		outputsOf,
		taskOf,
		nodeError: (nodeName, runIndex = 0) => taskOf(nodeName, runIndex)?.error,
		httpRequests: scope.requests,
		reportedErrors: scope.reportedErrors,
		credentials: credentialsHelper,
		staticData: workflow.staticData,
	};
}
