/**
 * Workflows for the real-n8n comparison (bench/n8n-extract.ts): `n` supplier emails through Extract Signal
 * (this package, as n8n installs it) or through n8n's own Information Extractor with an OpenAI Chat Model
 * sub-node, both calling the loopback model server through n8n's openAiApi credential.
 *
 * Every workflow first runs the same node over 16 other emails ("Warm-up …"), so module loading and the
 * first connections of a fresh `n8n execute` process fall outside the measured node; the measured node then
 * gets the `n` emails from a Code node that ignores its input.
 */
import { email } from './throughput';

export const CREDENTIALS = {
	promptRegistryApi: { id: 'benchRegistry001', name: 'Prompt Registry (bench)' },
	openAiApi: { id: 'benchOpenAi00001', name: 'OpenAI (bench, loopback)' },
};

/** Items the warm-up node processes before the measured one (one model call each). */
export const WARM_UP_ITEMS = 16;

export type Contender = 'extractSignal' | 'informationExtractor';

export interface BenchWorkflow {
	id: string;
	name: string;
	/** The node whose run is timed. */
	measured: string;
	contender: Contender;
	/** Concurrency (Extract Signal) or batch size (Information Extractor); undefined: the node's default. */
	parallel?: number;
	workflow: Record<string, unknown>;
}

function emailsNode(name: string, from: number, count: number, position: [number, number]): Record<string, unknown> {
	const items = Array.from({ length: count }, (_, k) => ({ id: `email-${from + k}`, ...email(from + k) }));
	return {
		id: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
		name,
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		position,
		parameters: { jsCode: `return ${JSON.stringify(items)}.map((json) => ({ json }));` },
	};
}

function extractSignal(name: string, parallel: number | undefined, position: [number, number]): Record<string, unknown> {
	return {
		id: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
		name,
		type: 'n8n-nodes-prompt-release.extractSignal',
		typeVersion: 1,
		position,
		parameters: {
			signals: { signal: [{ field: 'priceChange', prompt: 'price-change', release: 'draft' }] },
			variableSource: 'mapping',
			variables: { variable: [{ name: 'subject', value: '={{ $json.subject }}' }, { name: 'body', value: '={{ $json.body }}' }] },
			options: parallel === undefined ? {} : { concurrency: parallel },
		},
		credentials: CREDENTIALS,
	};
}

/** The Information Extractor and its OpenAI Chat Model (defaults of n8n 2.41.1: node 1.2, model node 1.3, Responses API). */
function informationExtractor(name: string, parallel: number | undefined, position: [number, number]): Array<Record<string, unknown>> {
	return [
		{
			id: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
			name,
			type: '@n8n/n8n-nodes-langchain.informationExtractor',
			typeVersion: 1.2,
			position,
			parameters: {
				text: '=Subject: {{ $json.subject }}\n\n{{ $json.body }}',
				schemaType: 'manual',
				inputSchema: JSON.stringify({ type: 'object', properties: { value: { type: ['boolean', 'null'], description: 'Does the email announce a change of unit price?' } } }),
				options: parallel === undefined ? {} : { batching: { batchSize: parallel } },
			},
		},
		{
			id: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-model`,
			name: `${name} model`,
			type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
			typeVersion: 1.3,
			position: [position[0], position[1] + 200],
			parameters: { model: { __rl: true, mode: 'id', value: 'test-model' }, options: {} },
			credentials: { openAiApi: CREDENTIALS.openAiApi },
		},
	];
}

/** One workflow: trigger → warm-up emails → warm-up node → `n` emails → measured node. */
export function benchWorkflow(id: string, contender: Contender, n: number, parallel: number | undefined): BenchWorkflow {
	const label = contender === 'extractSignal' ? 'Extract Signal' : 'Information Extractor';
	const measured = `${label} (${parallel === undefined ? 'default options' : contender === 'extractSignal' ? `concurrency ${parallel}` : `batch size ${parallel}`})`;
	const warm = `Warm-up ${label}`;
	const make = (name: string, at: [number, number]) => (contender === 'extractSignal' ? [extractSignal(name, parallel, at)] : informationExtractor(name, parallel, at));
	const nodes = [
		{ id: 'manual-trigger', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
		emailsNode('Warm-up emails', n, WARM_UP_ITEMS, [200, 0]),
		...make(warm, [400, 0]),
		emailsNode('Emails', 0, n, [600, 0]),
		...make(measured, [800, 0]),
	];
	const main = (to: string) => ({ main: [[{ node: to, type: 'main', index: 0 }]] });
	const connections: Record<string, unknown> = {
		Start: main('Warm-up emails'),
		'Warm-up emails': main(warm),
		[warm]: main('Emails'),
		Emails: main(measured),
	};
	if (contender === 'informationExtractor') {
		for (const node of [warm, measured]) connections[`${node} model`] = { ai_languageModel: [[{ node, type: 'ai_languageModel', index: 0 }]] };
	}
	return { id, name: measured, measured, contender, parallel, workflow: { id, name: `Bench: ${measured}`, active: false, settings: { executionOrder: 'v1' }, nodes, connections } };
}
