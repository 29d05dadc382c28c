/**
 * The nodes in real n8n-core workflow runs when answers end badly or the registry goes away: a refused item goes
 * to the invalid output (the other item flows on), and a warm node keeps serving the last good release with a
 * warning while the registry folder is gone; a cold start is a clear node error.
 */
import { cp, rename, rm } from 'node:fs/promises';
import type { INodeExecutionData } from 'n8n-workflow';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { useSupplierWorld } from './support/prompts';
import { tempRegistry } from './support/registry';
import { EXTRACT, RUN, credentialTypes, credentials, emails, expectPaired, jsonOf, nodeTypes } from './support/workflow';
import { sharedReleaseCache } from '../../lib/release-cache';

const world = useSupplierWorld();
const ITEMS: INodeExecutionData[] = [{ json: { body: emails.increase } }, { json: { body: emails.noChange } }];

async function run(node: HarnessNode, root = world.registry.root, items = ITEMS) {
	return await runWorkflow({ nodeTypes, nodes: [node], connections: connect(['Trigger', node.name]), credentials: credentials(root, world.server), credentialTypes, triggerItems: items });
}

const extract = (options: Record<string, unknown> = {}): HarnessNode => ({
	name: 'Extract',
	type: EXTRACT,
	parameters: {
		signals: { signal: [{ field: 'priceChange', prompt: 'price-change', release: 'production' }] },
		variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
		options: { concurrency: 1, ...options },
	},
});

const runNode = (options: Record<string, unknown> = {}): HarnessNode => ({
	name: 'Run',
	type: RUN,
	parameters: { prompt: { __rl: true, mode: 'list', value: 'price-change' }, variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] }, options: { concurrency: 1, ...options } },
});

describe('a refusal is an answer', () => {
	it('Extract Signal: one refused item of two goes to invalid with "refused: <text>"; the other flows on', async () => {
		world.server.enqueue({ kind: 'refusal', text: "I can't assist with that." });
		const result = await run(extract());
		expect(result.status).toBe('success');
		const [valid, invalid] = result.outputsOf('Extract');
		expectPaired(valid, [1]);
		expectPaired(invalid, [0]);
		expect((jsonOf(invalid)[0]._invalid as unknown[])[0]).toMatchObject({ field: 'priceChange', reason: "refused: I can't assist with that.", refused: true, retryable: false, finishReasons: ['refusal'] });
		expect(jsonOf(valid)[0]).toMatchObject({ priceChange: false });
	});

	it('Run Prompt Release: a refused item is valid: false with the reason, by default', async () => {
		world.server.enqueue({ kind: 'refusal', text: 'No.' });
		const result = await run(runNode());
		expect(result.status).toBe('success');
		const [refused, ok] = jsonOf(result.outputOf('Run'));
		expect(refused).toMatchObject({ valid: false, refused: true, retryable: false, reason: 'refused: No.' });
		expect(ok).toMatchObject({ valid: true, value: false });
	});

	it('an answer cut off at the token cap is invalid, naming the cap', async () => {
		world.server.enqueue({ kind: 'answer', text: '{"value": tr', finish: 'length' });
		const [cut] = jsonOf((await run(runNode())).outputOf('Run'));
		expect(cut).toMatchObject({ valid: false, reason: 'answer cut off at maxTokens 100 (the provider said "length"): raise model.maxTokens', finishReasons: ['length'] });
	});
});

describe('registry unreadable after warm-up', () => {
	it('serves the last good release with a warning in the item metadata; a cold start is a clear node error', async () => {
		const copy = await tempRegistry();
		await cp(world.registry.root, copy.root, { recursive: true });
		try {
			const warm = await run(runNode({ cacheTtlSeconds: 0 }), copy.root);
			expect(jsonOf(warm.outputOf('Run'))[0]).toMatchObject({ valid: true, version: 1 });
			expect(jsonOf(warm.outputOf('Run'))[0]).not.toHaveProperty('registryWarning');

			await rename(copy.root, `${copy.root}.away`);
			const stale = await run(runNode({ cacheTtlSeconds: 0 }), copy.root);
			expect(stale.status).toBe('success');
			const [first] = jsonOf(stale.outputOf('Run'));
			expect(first).toMatchObject({ valid: true, value: true, version: 1 });
			expect(first.registryWarning).toMatch(/^served from the last good read at \d{4}-.*: the registry cannot be read \(registry folder .* is gone/);

			sharedReleaseCache.clear();
			const cold = await run(runNode({ cacheTtlSeconds: 0 }), copy.root);
			expect(cold.status).toBe('error');
			expect(cold.nodeError('Run')!.message).toMatch(/registry folder .* (is gone|not found)/);
		} finally {
			await rm(`${copy.root}.away`, { recursive: true, force: true });
			await copy.cleanup();
		}
	});
});
