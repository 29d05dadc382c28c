/**
 * Items run ahead of the call limit (nodes/shared/concurrency.ts lookahead): the node works on more items than
 * its Concurrency option while the model calls in flight stay at exactly that bound.
 */
import type { INodeExecutionData } from 'n8n-workflow';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { useSupplierWorld } from './support/prompts';
import { EXTRACT, RUN, credentialTypes, credentials, emails, nodeTypes } from './support/workflow';

const world = useSupplierWorld();

const items: INodeExecutionData[] = Array.from({ length: 12 }, (_, i) => ({ json: { body: i % 2 ? emails.increase : emails.noChange } }));

async function run(node: HarnessNode) {
	world.server.setLatency(40);
	try {
		return await runWorkflow({ nodeTypes, nodes: [node], connections: connect(['Trigger', node.name]), credentials: credentials(world.registry.root, world.server), credentialTypes, triggerItems: items });
	} finally {
		world.server.setLatency(0);
	}
}

describe('model calls stay within the Concurrency option', () => {
	it('Run Prompt Release: 12 items at concurrency 3 keep exactly 3 calls in flight', async () => {
		const result = await run({
			name: 'Run',
			type: RUN,
			parameters: {
				prompt: { __rl: true, mode: 'list', value: 'price-change' },
				variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
				options: { concurrency: 3 },
			},
		});
		expect(result.status).toBe('success');
		expect(result.outputOf('Run')).toHaveLength(12);
		expect(world.server.completions).toBeGreaterThanOrEqual(12);
		expect(world.server.maxInFlight).toBe(3);
	});

	it('Extract Signal: 12 items × 2 signals at concurrency 3 keep exactly 3 calls in flight', async () => {
		const result = await run({
			name: 'Extract',
			type: EXTRACT,
			parameters: {
				signals: {
					signal: [
						{ field: 'priceChanged', prompt: 'price-change', release: 'production' },
						{ field: 'priceChangedAgain', prompt: 'price-change', release: 'production' },
					],
				},
				variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
				options: { concurrency: 3 },
			},
		});
		expect(result.status).toBe('success');
		expect(result.outputOf('Extract', 0).length + result.outputOf('Extract', 1).length).toBe(12);
		expect(world.server.completions).toBeGreaterThanOrEqual(24);
		expect(world.server.maxInFlight).toBe(3);
	});
});
