/** The editor-side methods: the prompt picker (listSearch), prompt options (loadOptions) and the credential test. */
import { PromptRegistryApi } from '../../credentials/PromptRegistryApi.credentials';
import { ExtractSignal } from '../../nodes/ExtractSignal/ExtractSignal.node';
import { RunPromptRelease } from '../../nodes/RunPromptRelease/RunPromptRelease.node';
import { addPrompt, commitAndRelease, promptSpec, tempRegistry, type TempRegistry } from './support/registry';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { credentialTestContext, loadOptionsContext } from './support/load-options';
import { testRules } from './support/model-rules';

let server: ModelServer;
let registry: TempRegistry;

beforeAll(async () => {
	server = await startModelServer({ rules: testRules });
	registry = await tempRegistry();
	await addPrompt(registry.store, promptSpec('price-change', { description: 'Does the email announce a price change?' }), [
		{ id: 'one', inputs: { email_body: 'price increase now' }, expected: true, source: 'manual' },
	]);
	await addPrompt(registry.store, promptSpec('delivery-delay-days', { description: 'Delivery delay in days' }));
	await addPrompt(registry.store, promptSpec('new-unit-price', { description: 'The new unit PRICE' }));
	await commitAndRelease(registry.store, server, 'price-change');
});

afterAll(async () => {
	await server.close();
	await registry.cleanup();
});

async function context(registryPath: string = registry.root) {
	return await loadOptionsContext({
		nodeType: new RunPromptRelease(),
		typeName: 'n8n-nodes-prompt-release.runPromptRelease',
		parameters: { prompt: { __rl: true, mode: 'list', value: '' } },
		credentials: { promptRegistryApi: { data: { registryPath } } },
		credentialTypes: [new PromptRegistryApi()],
	});
}

describe('prompt search', () => {
	it('lists the registry prompts, filtered by id or description', async () => {
		const node = new RunPromptRelease();
		const ctx = await context();
		const all = await node.methods.listSearch.searchPrompts.call(ctx);
		expect(all.results.map((r) => r.value)).toEqual(['delivery-delay-days', 'new-unit-price', 'price-change']);
		expect(all.results.find((r) => r.value === 'price-change')).toEqual({
			name: 'price-change (production: v1)',
			value: 'price-change',
			description: 'Does the email announce a price change?',
		});
		expect(all.results.find((r) => r.value === 'new-unit-price')?.name).toBe('new-unit-price (not released)');

		const byDescription = await node.methods.listSearch.searchPrompts.call(ctx, 'price');
		expect(byDescription.results.map((r) => r.value)).toEqual(['new-unit-price', 'price-change']);
		const byId = await node.methods.listSearch.searchPrompts.call(ctx, 'DELAY');
		expect(byId.results.map((r) => r.value)).toEqual(['delivery-delay-days']);
	});

	it('offers the prompts as options for Extract Signal signals', async () => {
		const options = await new ExtractSignal().methods.loadOptions.getPrompts.call(await context());
		expect(options.map((o) => o.value)).toEqual(['delivery-delay-days', 'new-unit-price', 'price-change']);
	});

	it('says what is wrong with the registry folder', async () => {
		await expect(new RunPromptRelease().methods.listSearch.searchPrompts.call(await context('/no/such/registry'))).rejects.toThrow(/registry folder not found/);
		await expect(new RunPromptRelease().methods.listSearch.searchPrompts.call(await context('relative/path'))).rejects.toThrow(/not an absolute path/);
	});

	it('tests the credential', async () => {
		const test = new RunPromptRelease().methods.credentialTest.promptRegistryTest;
		const credential = (registryPath: string) => ({ id: '1', name: 'registry', type: 'promptRegistryApi', data: { registryPath } });
		expect(await test.call(credentialTestContext(), credential(registry.root))).toEqual({ status: 'OK', message: 'Found 3 prompt(s): delivery-delay-days, new-unit-price, price-change' });
		expect(await test.call(credentialTestContext(), credential('/no/such/registry'))).toMatchObject({ status: 'Error', message: expect.stringContaining('registry folder not found') });
		expect(await test.call(credentialTestContext(), credential(''))).toMatchObject({ status: 'Error', message: expect.stringContaining('no Registry Folder') });
	});
});
