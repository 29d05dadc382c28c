/**
 * Run Prompt Release's "Check Drift" operation inside a real n8n-core workflow run: fresh answers compared
 * with the run behind the release; one item per input item saying `changed` and which fixtures changed.
 */
import { readFileSync } from 'node:fs';
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';
import * as path from 'node:path';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { useSupplierWorld } from './support/prompts';
import { RUN, credentialTypes, credentials, jsonOf, nodeTypes } from './support/workflow';

const world = useSupplierWorld();

function driftNode(parameters: Record<string, unknown> = {}, extra: Partial<HarnessNode> = {}): HarnessNode {
	return {
		name: 'Drift',
		type: RUN,
		parameters: { operation: 'checkDrift', prompt: { __rl: true, mode: 'list', value: 'price-change' }, options: { concurrency: 1 }, ...parameters },
		...extra,
	};
}

async function run(node: HarnessNode, triggerItems: INodeExecutionData[] = [{ json: {} }]) {
	return await runWorkflow({
		nodeTypes,
		nodes: [node],
		connections: connect(['Trigger', node.name]),
		credentials: credentials(world.registry.root, world.server),
		credentialTypes,
		triggerItems,
	});
}

describe('Run Prompt Release: Check Drift', () => {
	it('answers as at the release: changed false, every fixture compared, fresh calls to the model', async () => {
		const result = await run(driftNode());
		expect(result.status).toBe('success');
		const [item] = jsonOf(result.outputOf('Drift'));
		expect(item).toMatchObject({ changed: false, prompt: 'price-change', channel: 'production', version: 1, compared: 2, changedCount: 0, changedFixtures: [] });
		expect(item.report).toMatch(/no answer changed/);
		expect(world.server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
	});

	it('a model answering differently behind the same name: changed true with the fixture, before and after', async () => {
		// Fixtures run in id order with concurrency 1: "increase" first, now answered false.
		world.server.enqueue({ kind: 'answer', text: '{"value": false}' });
		const result = await run(driftNode());
		expect(result.status).toBe('success');
		const [item] = jsonOf(result.outputOf('Drift'));
		expect(item).toMatchObject({ changed: true, changedCount: 1 });
		expect(item.changedFixtures).toEqual([
			expect.objectContaining({ fixtureId: 'increase', expected: true, before: expect.objectContaining({ value: true, passed: true }), after: expect.objectContaining({ value: false, passed: false }) }),
		]);
		expect(item.report).toMatch(/1 of 2 answers changed/);
	});

	it('a channel with nothing released fails the node naming it; with Continue On Fail it is an item with the error', async () => {
		const failed = await run(driftNode({ driftChannel: 'staging' }));
		expect(failed.status).toBe('error');
		expect(failed.error?.message).toMatch(/nothing released on channel "staging"/);
		const continued = await run(driftNode({ driftChannel: 'staging' }, { onError: 'continueRegularOutput' }));
		const [item] = jsonOf(continued.outputOf('Drift'));
		expect(item).toMatchObject({ changed: null, prompt: 'price-change' });
		expect(String(item.error)).toMatch(/nothing released on channel "staging"/);
	});

	it('the example workflow\'s Check Drift node checks the prompt each item names', async () => {
		const example = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'examples', 'workflows', 'model-drift-check.json'), 'utf8')) as { nodes: Array<{ name: string; type: string; parameters: INodeParameters }> };
		const node = example.nodes.find((n) => n.name === 'Check Drift')!;
		expect(node.type).toBe('n8n-nodes-prompt-release.runPromptRelease');
		const result = await run({ name: 'Drift', type: RUN, parameters: node.parameters }, [{ json: { prompt: 'price-change' } }, { json: { prompt: 'new-unit-price' } }]);
		expect(result.status).toBe('success');
		expect(jsonOf(result.outputOf('Drift')).map((i) => [i.prompt, i.changed])).toEqual([
			['price-change', false],
			['new-unit-price', false],
		]);
	});

	it('workflows saved before operations existed (no operation parameter) still run the prompt', async () => {
		const node = driftNode({ variables: { variable: [{ name: 'email_body', value: 'a price increase' }] } });
		delete (node.parameters as Record<string, unknown>).operation;
		const result = await run(node);
		expect(result.status).toBe('success');
		expect(jsonOf(result.outputOf('Drift'))[0]).toMatchObject({ value: true, valid: true });
	});
});
