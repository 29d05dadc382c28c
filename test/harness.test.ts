import {
	NodeConnectionTypes,
	NodeOperationError,
	VersionedNodeType,
	type ICredentialType,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { activeExpressionEngine, connect, runWorkflow, useExpressionEngine } from './support/n8n-harness';

const description = (overrides: Partial<INodeTypeDescription>): INodeTypeDescription => ({
	displayName: overrides.name ?? 'Test',
	name: 'test',
	group: ['transform'],
	version: 1,
	description: 'harness self-test node',
	defaults: { name: overrides.name ?? 'Test' },
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main],
	properties: [],
	...overrides,
});

/** Two outputs: items whose evaluated `score` reaches `threshold` go to "high" (0), others to "low" (1). */
class RouteNode implements INodeType {
	description = description({
		name: 'route',
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['high', 'low'],
		properties: [
			{ displayName: 'Score', name: 'score', type: 'number', default: 0 },
			{ displayName: 'Threshold', name: 'threshold', type: 'number', default: 5 },
			{ displayName: 'Label', name: 'label', type: 'string', default: '' },
		],
	});

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const high: INodeExecutionData[] = [];
		const low: INodeExecutionData[] = [];
		const items = this.getInputData();
		for (let i = 0; i < items.length; i++) {
			const score = this.getNodeParameter('score', i) as number;
			const threshold = this.getNodeParameter('threshold', i) as number;
			const label = this.getNodeParameter('label', i) as string;
			const out = { json: { ...items[i].json, score, label, mode: this.getMode() }, pairedItem: { item: i } };
			(score >= threshold ? high : low).push(out);
		}
		return [high, low];
	}
}

/** Adds a value computed from an expression that walks pairedItem back to the trigger. */
class AnnotateNode implements INodeType {
	description = description({
		name: 'annotate',
		properties: [{ displayName: 'Origin', name: 'origin', type: 'string', default: '' }],
	});

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [
			this.getInputData().map((item, i) => ({
				json: { ...item.json, origin: this.getNodeParameter('origin', i) },
				pairedItem: { item: i },
			})),
		];
	}
}

const testApiCredential: ICredentialType = {
	name: 'testApi',
	displayName: 'Test API',
	properties: [
		{ displayName: 'API Key', name: 'apiKey', type: 'string', typeOptions: { password: true }, default: '' },
		{ displayName: 'Base URL', name: 'url', type: 'string', default: 'https://default.example' },
		{ displayName: 'Tenant', name: 'tenant', type: 'string', default: '' },
	],
};

/** Reads a credential and echoes one field (the field name is itself a parameter). */
class EchoCredentialNode implements INodeType {
	description = description({
		name: 'echoCredential',
		credentials: [{ name: 'testApi', required: true }],
		properties: [{ displayName: 'Field', name: 'field', type: 'string', default: 'apiKey' }],
	});

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const out: INodeExecutionData[] = [];
		const items = this.getInputData();
		for (let i = 0; i < items.length; i++) {
			const credentials = await this.getCredentials('testApi', i);
			const field = this.getNodeParameter('field', i) as string;
			out.push({ json: { field, value: credentials[field], url: credentials.url }, pairedItem: { item: i } });
		}
		return [out];
	}
}

/** Calls an API through n8n-core's authenticated request helper with the openAiApi stand-in. */
class ListModelsNode implements INodeType {
	description = description({
		name: 'listModels',
		credentials: [{ name: 'openAiApi', required: true }],
	});

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const credentials = await this.getCredentials('openAiApi');
		const response = (await this.helpers.httpRequestWithAuthentication.call(this, 'openAiApi', {
			method: 'GET',
			url: `${credentials.url as string}/models`,
			json: true,
		})) as { data: Array<{ id: string }> };
		return [response.data.map((model) => ({ json: model, pairedItem: { item: 0 } }))];
	}
}

/** Fails items with `fail: true`; honours continueOnFail the way n8n nodes do. */
class FailNode implements INodeType {
	description = description({ name: 'fail' });

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const out: INodeExecutionData[] = [];
		const items = this.getInputData();
		for (let i = 0; i < items.length; i++) {
			try {
				if (items[i].json.fail === true) {
					throw new NodeOperationError(this.getNode(), `cannot process ${items[i].json.subject as string}`, {
						itemIndex: i,
					});
				}
				out.push({ json: { ok: items[i].json.subject }, pairedItem: { item: i } });
			} catch (error) {
				if (this.continueOnFail()) {
					out.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
					continue;
				}
				throw error;
			}
		}
		return [out];
	}
}

/** A versioned node type: v1 and v2 tag items differently. */
class TagNode extends VersionedNodeType {
	constructor() {
		const tagger = (version: number): INodeType => ({
			description: description({ name: 'tag', version }),
			async execute(this: IExecuteFunctions) {
				return [this.getInputData().map((item, i) => ({ json: { ...item.json, version }, pairedItem: { item: i } }))];
			},
		});
		super({ 1: tagger(1), 2: tagger(2) }, { displayName: 'Tag', name: 'tag', group: ['transform'], description: '', defaultVersion: 2 });
	}
}

const nodeTypes = {
	'TEST.route': new RouteNode(),
	'TEST.annotate': new AnnotateNode(),
	'TEST.echoCredential': new EchoCredentialNode(),
	'TEST.listModels': new ListModelsNode(),
	'TEST.fail': new FailNode(),
	'TEST.tag': new TagNode(),
};

const subjects = [
	{ json: { subject: 'alpha', score: 9 } },
	{ json: { subject: 'beta', score: 2 } },
	{ json: { subject: 'gamma', score: 7 } },
];

describe('n8n workflow harness', () => {
	describe.each(['legacy', 'vm'] as const)('routing, expressions and pairedItem (%s expression engine)', (engine) => {
		beforeAll(async () => {
			await useExpressionEngine(engine);
		});

		const route = {
			name: 'Route',
			type: 'TEST.route',
			parameters: {
				score: '={{ $json.score }}',
				threshold: '={{ $vars.threshold }}',
				label: '={{ $json.subject.toTitleCase() }} ({{ $execution.mode }})',
			},
		};
		const annotate = (name: string, position: [number, number]) => ({
			name,
			type: 'TEST.annotate',
			position,
			parameters: { origin: "={{ $('Trigger').item.json.subject + '#' + $itemIndex }}" },
		});
		const run = () =>
			runWorkflow({
				nodeTypes,
				nodes: [route, annotate('High', [400, 0]), annotate('Low', [400, 200])],
				connections: connect(['Trigger', 'Route'], ['Route', 'High', 0], ['Route', 'Low', 1]),
				triggerItems: subjects,
				variables: { threshold: 5 },
			});

		it('routes items to two outputs by an expression-evaluated parameter', async () => {
			const result = await run();

			expect(activeExpressionEngine()).toBe(engine);
			expect(result.error).toBeUndefined();
			expect(result.status).toBe('success');
			expect(result.outputOf('Trigger').map((item) => item.json.subject)).toEqual(['alpha', 'beta', 'gamma']);
			expect(result.outputOf('Route', 0).map((item) => item.json)).toEqual([
				{ subject: 'alpha', score: 9, label: 'Alpha (test)', mode: 'manual' },
				{ subject: 'gamma', score: 7, label: 'Gamma (test)', mode: 'manual' },
			]);
			expect(result.outputOf('Route', 1).map((item) => item.json.subject)).toEqual(['beta']);
			// executionOrder v1: branches run top to bottom by canvas position
			expect(result.executionOrder).toEqual(['Trigger', 'Route', 'High', 'Low']);
		});

		it('keeps pairedItem lineage across outputs and resolves $() through it', async () => {
			const result = await run();

			expect(result.outputOf('Route', 0).map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
			expect(result.outputOf('Route', 1).map((item) => item.pairedItem)).toEqual([{ item: 1 }]);
			expect(result.outputOf('High').map((item) => item.json.origin)).toEqual(['alpha#0', 'gamma#1']);
			expect(result.outputOf('Low').map((item) => item.json.origin)).toEqual(['beta#0']);
			expect(result.taskOf('High')?.source).toEqual([{ previousNode: 'Route', previousNodeOutput: 0, previousNodeRun: 0 }]);
			expect(result.taskOf('Low')?.source).toEqual([{ previousNode: 'Route', previousNodeOutput: 1, previousNodeRun: 0 }]);
		});

		it('runs in production mode when asked', async () => {
			const result = await runWorkflow({
				nodeTypes,
				nodes: [route],
				connections: connect(['Trigger', 'Route']),
				triggerItems: subjects.slice(0, 1),
				variables: { threshold: 5 },
				mode: 'trigger',
			});
			expect(result.outputOf('Route')[0].json).toMatchObject({ label: 'Alpha (production)', mode: 'trigger' });
		});

		it('fails the node on an expression error, as n8n does', async () => {
			const result = await runWorkflow({
				nodeTypes,
				nodes: [{ ...route, parameters: { ...route.parameters, score: "={{ $('Nope').item.json.score }}" } }],
				connections: connect(['Trigger', 'Route']),
				triggerItems: subjects.slice(0, 1),
				variables: { threshold: 5 },
			});
			expect(result.status).toBe('error');
			expect(result.error?.message).toBe("Referenced node doesn't exist");
			expect(result.nodeError('Route')?.message).toBe("Referenced node doesn't exist");
		});
	});

	describe('node types', () => {
		it('picks the version of a versioned node type (default: defaultVersion)', async () => {
			const result = await runWorkflow({
				nodeTypes,
				nodes: [
					{ name: 'Latest', type: 'TEST.tag' },
					{ name: 'V1', type: 'TEST.tag', typeVersion: 1 },
				],
				connections: connect(['Trigger', 'Latest'], ['Latest', 'V1']),
			});
			expect(result.outputOf('Latest')[0].json).toEqual({ version: 2 });
			expect(result.outputOf('V1')[0].json).toEqual({ version: 1 });
		});

		it('starts at the node under test with startNode (triggerItems are its input)', async () => {
			const result = await runWorkflow({
				nodeTypes,
				nodes: [{ name: 'Route', type: 'TEST.route', parameters: { score: '={{ $json.score }}' } }],
				connections: {},
				startNode: 'Route',
				triggerItems: subjects,
			});
			expect(result.executionOrder).toEqual(['Route']);
			expect(result.outputOf('Route', 1)).toEqual([
				{ json: { subject: 'beta', score: 2, label: '', mode: 'manual' }, pairedItem: { item: 1 } },
			]);
		});
	});

	describe('credentials', () => {
		const echo = (parameters = {}) => ({ name: 'Echo', type: 'TEST.echoCredential', parameters });

		it('resolves credentials through getCredentials with defaults and per-item expressions', async () => {
			const result = await runWorkflow({
				nodeTypes,
				credentialTypes: [testApiCredential],
				credentials: {
					testApi: { data: { apiKey: '={{ $secrets.vault.apiKey }}', tenant: '={{ "tenant-" + $json.subject }}' } },
				},
				secrets: { vault: { apiKey: 'secret-123' } },
				nodes: [echo({ field: '={{ $json.field }}' })],
				connections: connect(['Trigger', 'Echo']),
				triggerItems: [
					{ json: { subject: 'alpha', field: 'apiKey' } },
					{ json: { subject: 'beta', field: 'tenant' } },
				],
			});

			expect(result.error).toBeUndefined();
			expect(result.outputOf('Echo').map((item) => item.json)).toEqual([
				{ field: 'apiKey', value: 'secret-123', url: 'https://default.example' },
				{ field: 'tenant', value: 'tenant-beta', url: 'https://default.example' },
			]);
			// stored encrypted, as in n8n's database; the raw value keeps the expression
			expect(await result.credentials.storedData('testApi')).toEqual({
				apiKey: '={{ $secrets.vault.apiKey }}',
				tenant: '={{ "tenant-" + $json.subject }}',
			});
			expect(result.runData.Echo[0].executionStatus).toBe('success');
		});

		it('applies n8n-core checks: a node without credentials set fails', async () => {
			const result = await runWorkflow({
				nodeTypes,
				credentialTypes: [testApiCredential],
				credentials: { testApi: { data: { apiKey: 'x' } } },
				autoAssignCredentials: false,
				nodes: [echo()],
				connections: connect(['Trigger', 'Echo']),
			});
			expect(result.status).toBe('error');
			expect(result.error?.message).toBe('Node does not have any credentials set');
		});

		it('rejects a credential id that does not exist', async () => {
			const result = await runWorkflow({
				nodeTypes,
				credentialTypes: [testApiCredential],
				credentials: { testApi: { id: 'cred-1', data: { apiKey: 'x' } } },
				nodes: [{ ...echo(), credentials: { testApi: { id: 'cred-2', name: 'Other' } } }],
				connections: connect(['Trigger', 'Echo']),
			});
			expect(result.error?.message).toBe('Credential with ID "cred-2" does not exist for type "testApi".');
		});

		it('authenticates helper requests with the credential type (openAiApi stand-in)', async () => {
			const result = await runWorkflow({
				nodeTypes,
				credentials: { openAiApi: { data: { apiKey: 'sk-test', url: 'https://llm.example/v1' } } },
				nodes: [{ name: 'Models', type: 'TEST.listModels' }],
				connections: connect(['Trigger', 'Models']),
				http: (request) => {
					expect(request.url).toBe('https://llm.example/v1/models');
					return { data: [{ id: 'model-a' }, { id: 'model-b' }] };
				},
			});

			expect(result.error).toBeUndefined();
			expect(result.outputOf('Models').map((item) => item.json.id)).toEqual(['model-a', 'model-b']);
			expect(result.httpRequests).toHaveLength(1);
			expect(result.httpRequests[0].nodeName).toBe('Models');
			expect(result.httpRequests[0].options.headers).toMatchObject({
				Authorization: 'Bearer sk-test',
				'OpenAI-Organization': '',
			});
		});

		it('blocks the network when no http handler is given', async () => {
			const result = await runWorkflow({
				nodeTypes,
				credentials: { openAiApi: { data: { apiKey: 'sk-test' } } },
				nodes: [{ name: 'Models', type: 'TEST.listModels' }],
				connections: connect(['Trigger', 'Models']),
			});
			expect(result.status).toBe('error');
			expect(result.httpRequests[0].options.url).toBe('https://api.openai.com/v1/models');
		});
	});

	describe('errors and continueOnFail', () => {
		const items = [
			{ json: { subject: 'alpha' } },
			{ json: { subject: 'beta', fail: true } },
			{ json: { subject: 'gamma' } },
		];
		const workflow = (failNode: Record<string, unknown>) => ({
			nodeTypes,
			nodes: [
				{ name: 'Fail', type: 'TEST.fail', ...failNode },
				{ name: 'After', type: 'TEST.annotate', parameters: { origin: "={{ $('Trigger').item.json.subject }}" } },
			],
			connections: connect(['Trigger', 'Fail'], ['Fail', 'After']),
			triggerItems: items,
		});

		it('turns a failing item into an error item with continueOnFail', async () => {
			const result = await runWorkflow(workflow({ continueOnFail: true }));

			expect(result.error).toBeUndefined();
			expect(result.outputOf('Fail')).toEqual([
				{ json: { ok: 'alpha' }, pairedItem: { item: 0 } },
				{ json: { error: 'cannot process beta' }, pairedItem: { item: 1 } },
				{ json: { ok: 'gamma' }, pairedItem: { item: 2 } },
			]);
			expect(result.outputOf('After').map((item) => item.json.origin)).toEqual(['alpha', 'beta', 'gamma']);
		});

		it('routes error items to the error output with onError: continueErrorOutput', async () => {
			const result = await runWorkflow({
				...workflow({ onError: 'continueErrorOutput' }),
				connections: connect(['Trigger', 'Fail'], ['Fail', 'After', 1]),
			});

			expect(result.outputOf('Fail', 0).map((item) => item.json)).toEqual([{ ok: 'alpha' }, { ok: 'gamma' }]);
			expect(result.outputOf('Fail', 1)).toEqual([
				{ json: { subject: 'beta', fail: true, error: 'cannot process beta' }, pairedItem: { item: 1 } },
			]);
			expect(result.outputOf('After').map((item) => item.json.origin)).toEqual(['beta']);
		});

		it('stops the workflow without continueOnFail', async () => {
			const result = await runWorkflow(workflow({}));

			expect(result.status).toBe('error');
			expect(result.error?.message).toBe('cannot process beta');
			expect(result.nodeError('Fail')?.message).toBe('cannot process beta');
			expect(result.runData.After).toBeUndefined();
			expect(() => result.outputOf('After')).toThrow(/has no run/);
		});
	});
});
