/**
 * The workflows the queue-mode test imports: each is a production webhook (served by the main, executed
 * by a worker) whose response is the last node's first item plus the execution id, so every answer can
 * be traced to the worker that ran it.
 */
import { nodeType } from '../support/package';

type Json = Record<string, any>;

export const CREDENTIALS = {
	promptRegistryApi: { id: 'promptRegQueue01', name: 'Prompt Registry (queue mode)' },
	openAiApi: { id: 'openAiQueue00001', name: 'OpenAI (queue mode)' },
};

/** n8n credentials to import: the registry every worker reads (credential fields), and the loopback model server. */
export function credentialsFile(registry: Record<string, unknown>, openaiBaseUrl: string): Json[] {
	return [
		{ ...CREDENTIALS.promptRegistryApi, type: 'promptRegistryApi', data: registry },
		{ ...CREDENTIALS.openAiApi, type: 'openAiApi', data: { apiKey: 'sk-queue-mode', url: openaiBaseUrl } },
	];
}

function uuid(n: number, m: number): string {
	return `7a0d${String(n).padStart(4, '0')}-0000-4000-8000-${String(m).padStart(12, '0')}`;
}

/** Webhook → <node> → Answer (all the node's outputs) with `executionId` added; responds with Answer's first item. */
function webhookWorkflow(n: number, id: string, webhookPath: string, node: Json, outputs: number): Json {
	const answer = 'Answer';
	return {
		id,
		name: `Queue mode: ${webhookPath}`,
		active: true,
		settings: { executionOrder: 'v1' },
		connections: {
			Webhook: { main: [[{ node: node.name, type: 'main', index: 0 }]] },
			[node.name]: { main: Array.from({ length: outputs }, () => [{ node: answer, type: 'main', index: 0 }]) },
		},
		nodes: [
			{
				id: uuid(n, 1),
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: uuid(n, 99),
				parameters: { httpMethod: 'POST', path: webhookPath, responseMode: 'lastNode', options: {} },
			},
			{ id: uuid(n, 2), position: [240, 0], ...node },
			{
				id: uuid(n, 3),
				name: answer,
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [480, 0],
				parameters: {
					mode: 'manual',
					includeOtherFields: true,
					assignments: { assignments: [{ id: 'exec-id', name: 'executionId', value: '={{ $execution.id }}', type: 'string' }] },
					options: {},
				},
			},
		],
	};
}

/** Extract Signal of one prompt on channel production (field `flag`), routing key from the body, cache TTL in seconds. */
export function signalWorkflow(n: number, id: string, webhookPath: string, promptId: string, ttlSeconds: number): Json {
	return webhookWorkflow(
		n,
		id,
		webhookPath,
		{
			name: 'Extract Signal',
			type: nodeType('extractSignal'),
			typeVersion: 1,
			parameters: {
				signals: { signal: [{ field: 'flag', prompt: promptId, release: 'production' }] },
				variableSource: 'mapping',
				variables: { variable: [{ name: 'email_body', value: '={{ $json.body.text }}' }] },
				routingKey: '={{ $json.body.key }}',
				options: { cacheTtlSeconds: ttlSeconds, maxRetries: 0 },
			},
			credentials: CREDENTIALS,
		},
		2,
	);
}

/** Record Correction (manual fields) of `promptId` version 1: inputs and corrected value from the body. */
export function correctionWorkflow(n: number, id: string, webhookPath: string, promptId: string): Json {
	return webhookWorkflow(
		n,
		id,
		webhookPath,
		{
			name: 'Record Correction',
			type: nodeType('recordCorrection'),
			typeVersion: 1,
			parameters: {
				source: 'manual',
				prompt: { __rl: true, mode: 'id', value: promptId },
				promptVersion: '1',
				variablesJson: '={{ { email_body: $json.body.text } }}',
				modelOutput: 'model said something else',
				correctedValue: '={{ $json.body.corrected }}',
				options: {},
			},
			credentials: { promptRegistryApi: CREDENTIALS.promptRegistryApi },
		},
		1,
	);
}
