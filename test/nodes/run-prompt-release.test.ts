/**
 * Run Prompt Release inside a real n8n-core workflow run (test/support/n8n-harness.ts), against a temp
 * registry built with the core and the loopback model server.
 */
import type { INodeExecutionData } from 'n8n-workflow';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { useSupplierWorld } from './support/prompts';
import { addPrompt, commitAndRelease, promptSpec, rollback } from './support/registry';
import { RUN, credentialTypes, credentials, emails, expectPaired, jsonOf, nodeTypes } from './support/workflow';

const world = useSupplierWorld();

function runNode(parameters: Record<string, unknown>, extra: Partial<HarnessNode> = {}): HarnessNode {
	return {
		name: 'Run',
		type: RUN,
		parameters: {
			prompt: { __rl: true, mode: 'list', value: 'price-change' },
			variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
			...parameters,
		},
		...extra,
	};
}

async function run(node: HarnessNode, triggerItems: INodeExecutionData[] = [{ json: { body: emails.increase } }, { json: { body: emails.noChange } }]) {
	return await runWorkflow({
		nodeTypes,
		nodes: [node],
		connections: connect(['Trigger', node.name]),
		credentials: credentials(world.registry.root, world.server),
		credentialTypes,
		triggerItems,
	});
}

function completions() {
	return world.server.requests.filter((r) => r.method === 'POST');
}

describe('Run Prompt Release', () => {
	it('maps variables from items with expressions and answers with the value, metadata and trace', async () => {
		const result = await run(runNode({}));
		expect(result.status).toBe('success');
		const items = result.outputOf('Run');
		expectPaired(items, [0, 1]);
		const [first, second] = jsonOf(items);
		expect(first).toMatchObject({
			value: true,
			valid: true,
			prompt: 'price-change',
			version: 1,
			channel: 'production',
			arm: 'stable',
			model: 'test-model',
			provider: 'openai',
			repaired: false,
		});
		expect(first.contentHash).toMatch(/^sha256:|^[0-9a-f]{8,}/);
		expect(first.inputTokens).toBeGreaterThan(0);
		expect(first.outputTokens).toBeGreaterThan(0);
		expect(typeof first.latencyMs).toBe('number');
		expect(typeof first.costUsd).toBe('number');
		expect(first.trace).toEqual({
			prompt: 'price-change',
			version: 1,
			channel: 'production',
			arm: 'stable',
			variables: { email_body: emails.increase },
			modelOutput: '{"value":true}',
			value: true,
		});
		expect(second).toMatchObject({ value: false, valid: true });
		expect(first).not.toHaveProperty('body');

		// The item's text reached the model, with the key of the openAiApi credential.
		const calls = completions();
		expect(calls).toHaveLength(2);
		expect(calls.every((c) => c.headers.authorization === 'Bearer sk-node-test')).toBe(true);
		const sent = calls.map((c) => JSON.stringify(c.body));
		expect(sent.some((b) => b.includes('price increase'))).toBe(true);
	});

	it('takes declared inputs from the item JSON by name, converts text to declared types, and keeps input fields on request', async () => {
		const result = await run(
			runNode({
				prompt: { __rl: true, mode: 'id', value: 'order-quantity' },
				variableSource: 'itemJson',
				variables: { variable: [{ name: 'minimum', value: '={{ $json.min }}' }] },
				options: { includeInputFields: true },
			}),
			[{ json: { email_body: 'Please ship quantity 40 asap', min: '10', urgent: 'yes', unrelated: 'x' } }],
		);
		const [item] = jsonOf(result.outputOf('Run'));
		expect(item).toMatchObject({ value: 40, valid: true, unrelated: 'x', email_body: 'Please ship quantity 40 asap' });
		expect((item.trace as Record<string, unknown>).variables).toEqual({ email_body: 'Please ship quantity 40 asap', minimum: 10, urgent: true });
		expect(JSON.stringify(completions()[0].body)).toContain('Minimum 10, urgent true');
	});

	/** The gate wants at least one fixture; these prompts answer true to anything. */
	const anyEmail = { id: 'any', inputs: { email_body: 'hello' }, expected: true, source: 'manual' as const };

	it('calls the channel, a pinned version or the draft', async () => {
		const { store } = world.registry;
		await addPrompt(store, promptSpec('switch', { description: 'Channel test', template: 'v-one {{email_body}}' }), [anyEmail]);
		await commitAndRelease(store, world.server, 'switch', 'production');
		await store.writeDraft(promptSpec('switch', { description: 'Channel test', template: 'v-two {{email_body}}' }));
		await commitAndRelease(store, world.server, 'switch', 'staging');
		await store.writeDraft(promptSpec('switch', { description: 'Channel test', template: 'v-draft {{email_body}}' }));

		const cases: Array<[Record<string, unknown>, unknown, unknown, string]> = [
			[{}, 1, 'production', 'v-one'],
			[{ release: 'channel', channel: 'staging' }, 2, 'staging', 'v-two'],
			[{ release: 'version', version: 1 }, 1, null, 'v-one'],
			[{ release: 'version', version: '={{ 1 + 1 }}' }, 2, null, 'v-two'],
			[{ release: 'draft' }, 'draft', null, 'v-draft'],
		];
		for (const [release, version, channel, marker] of cases) {
			world.server.reset();
			const result = await run(runNode({ prompt: { __rl: true, mode: 'id', value: 'switch' }, ...release }), [{ json: { body: 'hello' } }]);
			const [item] = jsonOf(result.outputOf('Run'));
			expect({ release, version: item.version, channel: item.channel }).toEqual({ release, version, channel });
			expect(JSON.stringify(completions()[0].body)).toContain(marker);
		}
	});

	it('reaches a rollback after the release cache TTL, not before', async () => {
		const { store } = world.registry;
		await addPrompt(store, promptSpec('rollme', { description: 'Rollback test', template: 'first {{email_body}}' }), [anyEmail]);
		await commitAndRelease(store, world.server, 'rollme');
		await store.writeDraft(promptSpec('rollme', { description: 'Rollback test', template: 'second {{email_body}}' }));
		await commitAndRelease(store, world.server, 'rollme');

		const node = runNode({ prompt: { __rl: true, mode: 'id', value: 'rollme' }, options: { cacheTtlSeconds: 2 } });
		const versionNow = async () => jsonOf((await run(node, [{ json: { body: 'x' } }])).outputOf('Run'))[0].version;

		expect(await versionNow()).toBe(2);
		await rollback(store, 'rollme');
		expect(await versionNow()).toBe(2); // still cached
		await new Promise((resolve) => setTimeout(resolve, 2100));
		expect(await versionNow()).toBe(1);
	});

	it('turns an invalid answer into an item with valid: false, reason, raw output and trace, by default', async () => {
		const result = await run(runNode({ prompt: { __rl: true, mode: 'list', value: 'delivery-delay-days' } }), [{ json: { body: emails.delay } }, { json: { body: emails.vague } }]);
		expect(result.status).toBe('success');
		const items = result.outputOf('Run');
		expectPaired(items, [0, 1]);
		const [ok, bad] = jsonOf(items);
		expect(ok).toMatchObject({ value: 14, valid: true, finishReasons: ['stop'] });
		expect(bad).toMatchObject({ valid: false, retryable: false, rawOutput: 'two weeks', prompt: 'delivery-delay-days', version: 1, finishReasons: ['stop', 'stop'] });
		expect(bad.reason).toContain('invalid model output after one repair attempt');
		expect(bad).not.toHaveProperty('value');
		expect(bad.trace).toEqual({ prompt: 'delivery-delay-days', version: 1, channel: 'production', arm: 'stable', variables: { email_body: emails.vague }, modelOutput: 'two weeks', value: null });
		// The repair call was made: 1 call for the valid item, 2 for the invalid one.
		expect(completions()).toHaveLength(3);
	});

	it('with Include Input Fields, an item with valid: false carries no incoming value', async () => {
		const node = runNode({ prompt: { __rl: true, mode: 'list', value: 'delivery-delay-days' }, options: { includeInputFields: true, maxRetries: 0 } }, { onError: 'continueRegularOutput' });
		const incoming = (body: string) => ({ json: { body, value: 'two weeks (from ERP import)', id: body.length } });
		let [bad] = jsonOf((await run(node, [incoming(emails.vague)])).outputOf('Run'));
		expect(bad).toMatchObject({ valid: false, rawOutput: 'two weeks', id: emails.vague.length });
		expect(bad).not.toHaveProperty('value');

		world.server.reset();
		world.server.enqueue({ kind: 'status', status: 500 });
		[bad] = jsonOf((await run(node, [incoming(emails.delay)])).outputOf('Run'));
		expect(bad).toMatchObject({ valid: false, rawOutput: null, id: emails.delay.length });
		expect(bad).not.toHaveProperty('value');
	});

	it('a transient provider error after retries is an item with valid: false, retryable: true; the other items flow on', async () => {
		world.server.enqueue({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
		const result = await run(runNode({ options: { maxRetries: 1, concurrency: 1 } }));
		expect(result.status).toBe('success');
		const items = result.outputOf('Run');
		expectPaired(items, [0, 1]);
		const [failed, ok] = jsonOf(items);
		expect(failed).toMatchObject({ valid: false, retryable: true, rawOutput: null, prompt: 'price-change', version: 1, channel: 'production', provider: 'openai' });
		expect(failed.reason).toMatch(/^provider error: .*server error after 1 retry/);
		expect(failed.trace).toEqual({ prompt: 'price-change', version: 1, channel: 'production', arm: 'stable', variables: { email_body: emails.increase }, modelOutput: null, value: null });
		expect(ok).toMatchObject({ valid: true, value: false });
	});

	it('fails with a NodeApiError on a fatal provider error; with continueOnFail the item carries the reason, metadata and trace', async () => {
		world.server.enqueue({ kind: 'status', status: 401 });
		let result = await run(runNode({ options: { maxRetries: 1, concurrency: 1 } }), [{ json: { body: emails.increase } }]);
		expect(result.status).toBe('error');
		const error = result.nodeError('Run')!;
		expect(error.name).toBe('NodeApiError');
		// The item is named once, then the prompt (like Extract Signal's "item 0, signal …").
		expect(error.message).toMatch(/^item 0, prompt "price-change": openai \(http:\/\/127\.0\.0\.1:\d+\/v1\) rejected the API key/);
		expect(error.message.match(/item 0/g)).toHaveLength(1);

		world.server.reset();
		world.server.enqueue({ kind: 'status', status: 401 });
		result = await run(runNode({ options: { maxRetries: 1, concurrency: 1 } }, { onError: 'continueRegularOutput' }));
		const [failed, ok] = jsonOf(result.outputOf('Run'));
		expect(failed).toMatchObject({ valid: false, retryable: false, rawOutput: null, prompt: 'price-change', version: 1, channel: 'production', provider: 'openai' });
		expect(failed.reason).toMatch(/^item 0, prompt "price-change": openai .* rejected the API key/);
		expect(ok).toMatchObject({ valid: true, value: false });
	});

	it('reports a missing required variable by name before calling the model', async () => {
		const result = await run(runNode({ variables: { variable: [{ name: 'email_body', value: '={{ $json.missing }}' }] } }), [{ json: { body: 'x' } }]);
		expect(result.status).toBe('error');
		expect(result.nodeError('Run')!.message).toContain('required variable "email_body" is missing');
		expect(completions()).toHaveLength(0);
	});

	it('names an unknown prompt and a missing release', async () => {
		let result = await run(runNode({ prompt: { __rl: true, mode: 'id', value: 'no-such-prompt' } }), [{ json: { body: 'x' } }]);
		expect(result.nodeError('Run')!.message).toContain('prompt "no-such-prompt" not found in registry');
		expect(result.nodeError('Run')!.message).toContain('price-change');
		result = await run(runNode({ channel: 'canary' }), [{ json: { body: 'x' } }]);
		expect(result.nodeError('Run')!.message).toContain('nothing released on channel "canary"');
	});

	it('calls Anthropic prompts through the anthropicApi credential', async () => {
		const result = await run(runNode({ prompt: { __rl: true, mode: 'list', value: 'claude-price-change' } }));
		const [first, second] = jsonOf(result.outputOf('Run'));
		expect(first).toMatchObject({ value: true, provider: 'anthropic', model: 'claude-test' });
		expect(second).toMatchObject({ value: false });
		const calls = completions();
		expect(calls.map((c) => c.path)).toEqual(['/v1/messages', '/v1/messages']);
		// The Anthropic SDK sends the key as x-api-key or as a bearer token, depending on its version.
		expect([calls[0].headers['x-api-key'], calls[0].headers.authorization]).toContainEqual(expect.stringContaining('sk-ant-node-test'));
	});

	it('asks for the model credential the prompt needs when none is selected', async () => {
		const result = await runWorkflow({
			nodeTypes,
			nodes: [runNode({ prompt: { __rl: true, mode: 'list', value: 'claude-price-change' } })],
			connections: connect(['Trigger', 'Run']),
			credentials: { promptRegistryApi: credentials(world.registry.root, world.server).promptRegistryApi },
			credentialTypes,
			triggerItems: [{ json: { body: 'x' } }],
		});
		expect(result.status).toBe('error');
		expect(result.nodeError('Run')!.message).toContain('uses provider "anthropic"');
		expect(result.nodeError('Run')!.message).toContain('no Anthropic credential is selected');
		expect(result.nodeError('Run')!.description).toContain('anthropicApi');
	});

	it('uses the openAiApi credential Base URL for openai-compatible prompts', async () => {
		const { store } = world.registry;
		await addPrompt(
			store,
			promptSpec('local-price-change', {
				description: 'Compatible server',
				model: { provider: 'openai-compatible', name: 'test-model', temperature: 0, maxTokens: 50, baseUrl: 'http://127.0.0.1:9/v1' },
			}),
		);
		const result = await run(runNode({ prompt: { __rl: true, mode: 'id', value: 'local-price-change' }, release: 'draft' }), [{ json: { body: emails.increase } }]);
		const [item] = jsonOf(result.outputOf('Run'));
		expect(item).toMatchObject({ valid: true, provider: 'openai-compatible', version: 'draft' });
		expect(completions()).toHaveLength(1);
	});

	it('sends a credential key only to the credential Base URL: not to a server the prompt names', async () => {
		const { store } = world.registry;
		await addPrompt(store, promptSpec('proxied', { description: 'Prompt-named server', model: { provider: 'openai', name: 'test-model', temperature: 0, maxTokens: 50, baseUrl: world.server.openaiBaseUrl } }));
		await addPrompt(
			store,
			promptSpec('proxied-claude', { description: 'Prompt-named server', model: { provider: 'anthropic', name: 'claude-test', temperature: 0, maxTokens: 50, baseUrl: world.server.anthropicBaseUrl } }),
		);
		// Credentials left at n8n's default Base URLs: the prompt's server wins, but gets none of their keys.
		const defaults = {
			...credentials(world.registry.root, world.server),
			openAiApi: { data: { apiKey: 'sk-node-secret', organizationId: 'org-secret', url: 'https://api.openai.com/v1' } },
			anthropicApi: { data: { apiKey: 'sk-ant-node-secret', url: 'https://api.anthropic.com' } },
		};
		for (const prompt of ['proxied', 'proxied-claude']) {
			world.server.reset();
			world.server.enqueue({ kind: 'answer', text: '{"value":true}' });
			const result = await runWorkflow({
				nodeTypes,
				nodes: [runNode({ prompt: { __rl: true, mode: 'id', value: prompt }, release: 'draft' })],
				connections: connect(['Trigger', 'Run']),
				credentials: defaults,
				credentialTypes,
				triggerItems: [{ json: { body: emails.increase } }],
			});
			expect(jsonOf(result.outputOf('Run'))[0]).toMatchObject({ valid: true, value: true });
			const [call] = completions();
			expect(call.headers.authorization).toBe('Bearer not-needed');
			expect(JSON.stringify(call.headers)).not.toMatch(/secret/);
		}
	});
});
