/**
 * Consensus in the nodes, inside a real n8n-core workflow run: a prompt that votes across one OpenAI and
 * one Anthropic model (each through its own n8n credential) sends an item to the valid output only when both
 * agree; a disagreement goes to the invalid output with "no consensus" and both answers. Both nodes get it
 * through runPrompt.
 */
import type { INodeExecutionData } from 'n8n-workflow';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { useSupplierWorld } from './support/prompts';
import { addPrompt, commitAndRelease, openaiModel, promptSpec } from './support/registry';
import { EXTRACT, RUN, credentialTypes, credentials, emails, expectPaired, jsonOf, nodeTypes } from './support/workflow';

const world = useSupplierWorld();
const LIST = 'Hello, please find attached our new price list for 2027. Regards.';

beforeAll(async () => {
	await addPrompt(
		world.registry.store,
		promptSpec('consensus-price-change', {
			description: 'Price change, only when OpenAI and Anthropic agree',
			consensus: { models: [openaiModel(), openaiModel({ provider: 'anthropic', name: 'claude-test' })], rule: 'all' },
		}),
		[{ id: 'increase', inputs: { email_body: emails.increase }, expected: true, source: 'manual' }],
	);
	await commitAndRelease(world.registry.store, world.server, 'consensus-price-change');
});

const ITEMS: INodeExecutionData[] = [{ json: { body: emails.increase } }, { json: { body: LIST } }];

async function run(node: HarnessNode) {
	return await runWorkflow({ nodeTypes, nodes: [node], connections: connect(['Trigger', node.name]), credentials: credentials(world.registry.root, world.server), credentialTypes, triggerItems: ITEMS });
}

it('Run Prompt Release: agreement is valid; a disagreement is invalid with "no consensus" and every answer; both models were asked, costs summed', async () => {
	const result = await run({
		name: 'Run',
		type: RUN,
		parameters: { prompt: { __rl: true, mode: 'list', value: 'consensus-price-change' }, variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] } },
	});
	expect(result.status).toBe('success');
	const [agreed, split] = jsonOf(result.outputOf('Run'));
	expect(agreed).toMatchObject({ value: true, valid: true, model: 'test-model+claude-test' });
	expect(agreed.consensus).toMatchObject({ rule: 'all', voters: 2, agreed: 2, reached: true });
	expect(split).toMatchObject({ valid: false });
	expect(split).not.toHaveProperty('value', true);
	expect(String(split.reason)).toBe('no consensus (rule all: 1 of 2 answers agree): openai:test-model answered false; anthropic:claude-test answered true');
	// Both providers were called for every item, through their own wire formats.
	const posts = world.server.requests.filter((r) => r.method === 'POST');
	expect(posts.filter((r) => r.path.includes('/chat/completions'))).toHaveLength(2);
	expect(posts.filter((r) => r.path.includes('/messages'))).toHaveLength(2);
	expect(Number(agreed.inputTokens)).toBeGreaterThan(0);
});

it('Extract Signal: the disagreeing item goes to the invalid output', async () => {
	const result = await run({
		name: 'Extract',
		type: EXTRACT,
		parameters: {
			signals: { signal: [{ field: 'priceChange', prompt: 'consensus-price-change', release: 'production' }] },
			variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
		},
	});
	expect(result.status).toBe('success');
	const [valid, invalid] = result.outputsOf('Extract');
	expectPaired(valid, [0]);
	expectPaired(invalid, [1]);
	expect(JSON.stringify(invalid[0].json)).toContain('no consensus');
});
