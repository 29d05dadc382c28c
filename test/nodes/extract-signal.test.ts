/**
 * Extract Signal inside a real n8n-core workflow run: two outputs (valid / invalid), every signal per item,
 * provider failures with and without continueOnFail, and the invalid output feeding Record Correction.
 */
import type { INodeExecutionData } from 'n8n-workflow';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { useSupplierWorld } from './support/prompts';
import { CORRECT, EXTRACT, credentialTypes, credentials, emails, expectPaired, jsonOf, nodeTypes } from './support/workflow';

const world = useSupplierWorld();

const SIGNALS = {
	signal: [
		{ field: 'priceChange', prompt: 'price-change', release: 'production' },
		{ field: 'newUnitPrice', prompt: 'new-unit-price', release: 'production' },
		{ field: 'delayDays', prompt: 'delivery-delay-days', release: '1' },
	],
};

function extractNode(parameters: Record<string, unknown> = {}, extra: Partial<HarnessNode> = {}): HarnessNode {
	return {
		name: 'Extract',
		type: EXTRACT,
		parameters: {
			signals: SIGNALS,
			variables: {
				variable: [
					{ name: 'email_body', value: '={{ $json.body }}' },
					{ name: 'supplier', value: '={{ $json.from.split("@")[1] }}' },
				],
			},
			...parameters,
		},
		...extra,
	};
}

const ITEMS: INodeExecutionData[] = [
	{ json: { id: 'a', from: 'sales@acme.example', body: emails.increase } },
	{ json: { id: 'b', from: 'ops@globex.example', body: emails.vague } },
	{ json: { id: 'c', from: 'info@initech.example', body: emails.delay } },
];

async function run(nodes: HarnessNode[], links: Array<[string, string, number?]>, triggerItems = ITEMS) {
	return await runWorkflow({ nodeTypes, nodes, connections: connect(...links), credentials: credentials(world.registry.root, world.server), credentialTypes, triggerItems });
}

describe('Extract Signal', () => {
	it('runs every signal per item and routes items to the valid and invalid outputs', async () => {
		const result = await run([extractNode()], [['Trigger', 'Extract']]);
		expect(result.status).toBe('success');
		const [valid, invalid] = result.outputsOf('Extract');
		expectPaired(valid, [0, 2]);
		expectPaired(invalid, [1]);

		const [a, c] = jsonOf(valid);
		expect(a).toMatchObject({ id: 'a', body: emails.increase, priceChange: true, newUnitPrice: 12.5, delayDays: null });
		expect(a).not.toHaveProperty('_invalid');
		expect(c).toMatchObject({ id: 'c', priceChange: false, newUnitPrice: null, delayDays: 14 });
		const details = a._signals as Record<string, Record<string, unknown>>;
		expect(Object.keys(details).sort()).toEqual(['delayDays', 'newUnitPrice', 'priceChange']);
		expect(details.priceChange).toMatchObject({ prompt: 'price-change', version: 1, channel: 'production', provider: 'openai', model: 'test-model', repaired: false });
		expect(details.delayDays).toMatchObject({ prompt: 'delivery-delay-days', version: 1, channel: null });
		expect(details.delayDays.trace).toEqual({
			prompt: 'delivery-delay-days',
			version: 1,
			channel: null,
			arm: null,
			variables: { email_body: emails.increase, supplier: 'acme.example' },
			modelOutput: '{"value":null}',
			value: null,
		});
		// Only declared inputs go to each prompt: price-change has no "supplier".
		expect((details.priceChange.trace as Record<string, unknown>).variables).toEqual({ email_body: emails.increase });

		const [b] = jsonOf(invalid);
		// Nothing is dropped: the valid signals of the invalid item are there.
		expect(b).toMatchObject({ id: 'b', priceChange: false, newUnitPrice: null });
		expect(b).not.toHaveProperty('delayDays');
		expect(Object.keys(b._signals as object).sort()).toEqual(['newUnitPrice', 'priceChange']);
		expect(b._invalid).toEqual([
			{
				field: 'delayDays',
				prompt: 'delivery-delay-days',
				version: 1,
				arm: null,
				reason: expect.stringContaining('invalid model output after one repair attempt'),
				retryable: false,
				finishReasons: ['stop', 'stop'],
				rawOutput: 'two weeks',
				trace: {
					prompt: 'delivery-delay-days',
					version: 1,
					channel: null,
					arm: null,
					variables: { email_body: emails.vague, supplier: 'globex.example' },
					modelOutput: 'two weeks',
					value: null,
				},
			},
		]);
	});

	it('delivers each output to the node connected to it', async () => {
		const passThrough = (name: string): HarnessNode => ({ name, type: CORRECT, parameters: {}, disabled: true });
		const result = await run(
			[extractNode(), passThrough('On Valid'), passThrough('On Invalid')],
			[
				['Trigger', 'Extract'],
				['Extract', 'On Valid', 0],
				['Extract', 'On Invalid', 1],
			],
		);
		expect(jsonOf(result.outputOf('On Valid')).map((j) => j.id)).toEqual(['a', 'c']);
		expect(jsonOf(result.outputOf('On Invalid')).map((j) => j.id)).toEqual(['b']);
	});

	it('takes variables from the item JSON by name', async () => {
		const result = await run(
			[extractNode({ variableSource: 'itemJson', variables: {}, signals: { signal: [SIGNALS.signal[1]] } })],
			[['Trigger', 'Extract']],
			[{ json: { email_body: emails.increase } }, { json: { email_body: emails.noChange } }],
		);
		const [valid, invalid] = result.outputsOf('Extract');
		expect(jsonOf(valid).map((j) => j.newUnitPrice)).toEqual([12.5, null]);
		expect(invalid).toEqual([]);
	});

	it('a transient failure that outlives the retries sends only that item to invalid, retryable, by default', async () => {
		world.server.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
		const result = await run(
			[extractNode({ signals: { signal: [SIGNALS.signal[0]] }, options: { maxRetries: 1, concurrency: 1 } })],
			[['Trigger', 'Extract']],
			ITEMS.slice(0, 2),
		);
		expect(result.status).toBe('success');
		const [valid, invalid] = result.outputsOf('Extract');
		expectPaired(valid, [1]);
		expectPaired(invalid, [0]);
		const [a] = jsonOf(invalid);
		expect(a._invalid).toEqual([
			{
				field: 'priceChange',
				prompt: 'price-change',
				version: 1,
				arm: 'stable',
				reason: expect.stringMatching(/^provider error: openai \(http:\/\/127\.0\.0\.1:\d+\/v1\) failed with a server error after 1 retry/),
				retryable: true,
				finishReasons: [],
				rawOutput: null,
				trace: { prompt: 'price-change', version: 1, channel: 'production', arm: 'stable', variables: { email_body: emails.increase }, modelOutput: null, value: null },
			},
		]);
		expect(a).not.toHaveProperty('priceChange');
		expect(jsonOf(valid)[0]).toMatchObject({ id: 'b', priceChange: false });
		// 2 attempts (1 retry) for item 0, 1 call for item 1.
		expect(world.server.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
	});

	it('a fatal provider error (quota exhausted) fails the node, naming the one item and signal that failed, once', async () => {
		const quota = { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } };
		world.server.enqueue({ kind: 'status', status: 429, body: quota });
		const result = await run(
			[extractNode({ signals: { signal: [SIGNALS.signal[0], SIGNALS.signal[1]] }, options: { maxRetries: 0, concurrency: 4 } })],
			[['Trigger', 'Extract']],
			ITEMS.slice(0, 3),
		);
		expect(result.status).toBe('error');
		const error = result.nodeError('Extract')!;
		expect(error.name).toBe('NodeApiError');
		expect(error.message).toMatch(/^item \d, signal "(priceChange|newUnitPrice)", prompt "[a-z-]+": openai /);
		expect(error.message.match(/item \d/g)).toHaveLength(1);
		expect(error.message.match(/signal "/g)).toHaveLength(1);
		expect(error.message).toMatch(/quota, billing or a deactivated key\/organisation\): check the plan and billing details/);
		expect(error.message).toContain('insufficient_quota');
		// The hint matches the class: a fatal error is not helped by retries or a longer timeout.
		expect(error.description).toMatch(/^Retrying will not help: check the model credential \(API key, Base URL\), the account's plan and billing/);
		expect(error.description).not.toMatch(/Timeout|Max Retries/);
	});

	it('routes the item to invalid with the provider error as reason with continueOnFail', async () => {
		world.server.enqueue({ kind: 'status', status: 401 });
		const result = await run(
			[extractNode({ signals: { signal: [SIGNALS.signal[0]] }, options: { maxRetries: 1, concurrency: 1 } }, { onError: 'continueRegularOutput' })],
			[['Trigger', 'Extract']],
			ITEMS.slice(0, 2),
		);
		expect(result.status).toBe('success');
		const [valid, invalid] = result.outputsOf('Extract');
		expectPaired(valid, [1]);
		expectPaired(invalid, [0]);
		const [a] = jsonOf(invalid);
		expect(a._invalid).toEqual([
			{
				field: 'priceChange',
				prompt: 'price-change',
				version: 1,
				arm: 'stable',
				reason: expect.stringMatching(/item 0, signal "priceChange".*rejected the API key/),
				retryable: false,
				rawOutput: null,
				trace: { prompt: 'price-change', version: 1, channel: 'production', arm: 'stable', variables: { email_body: emails.increase }, modelOutput: null, value: null },
			},
		]);
		expect(jsonOf(valid)[0]).toMatchObject({ id: 'b', priceChange: false });
	});

	it('routes a missing variable to invalid with continueOnFail and fails without it', async () => {
		const params = { variables: { variable: [{ name: 'email_body', value: '={{ $json.nothing }}' }] }, signals: { signal: [SIGNALS.signal[0]] } };
		let result = await run([extractNode(params)], [['Trigger', 'Extract']], [ITEMS[0]]);
		expect(result.status).toBe('error');
		expect(result.nodeError('Extract')!.message).toContain('item 0, signal "priceChange": prompt "price-change": required variable "email_body" is missing');

		result = await run([extractNode(params, { onError: 'continueRegularOutput' })], [['Trigger', 'Extract']], [ITEMS[0]]);
		const [, invalid] = result.outputsOf('Extract');
		expect((jsonOf(invalid)[0]._invalid as Array<{ reason: string }>)[0].reason).toContain('required variable "email_body" is missing');
	});

	it('checks the signal list: field names and prompts', async () => {
		let result = await run([extractNode({ signals: { signal: [SIGNALS.signal[0], { ...SIGNALS.signal[1], field: 'priceChange' }] } })], [['Trigger', 'Extract']], [ITEMS[0]]);
		expect(result.nodeError('Extract')!.message).toContain('two signals write the field "priceChange"');
		result = await run([extractNode({ signals: { signal: [{ field: 'x', prompt: 'price-change', release: 'not a channel!' }] } })], [['Trigger', 'Extract']], [ITEMS[0]]);
		expect(result.nodeError('Extract')!.message).toContain('is neither a version number, "draft", nor a channel name');
		result = await run([extractNode({ signals: {} })], [['Trigger', 'Extract']], [ITEMS[0]]);
		expect(result.nodeError('Extract')!.message).toContain('No signals configured');
	});

	it('rejects field names that are reserved or reach the prototype, naming the signal', async () => {
		for (const field of ['__proto__', 'constructor', 'prototype', '_signals', '_invalid', '_meta']) {
			const result = await run([extractNode({ signals: { signal: [SIGNALS.signal[0], { ...SIGNALS.signal[1], field }] } })], [['Trigger', 'Extract']], [ITEMS[0]]);
			expect(result.status).toBe('error');
			const error = result.nodeError('Extract')!;
			expect(error.name).toBe('NodeOperationError');
			expect(error.message).toContain(`Signals: signal 2 ("${field}")`);
			expect(error.message).toMatch(/is reserved|is not allowed/);
		}
		expect(world.server.requests).toHaveLength(0);
	});

	it('drops an incoming value from the field of an invalid signal, and its old details', async () => {
		const incoming = {
			...ITEMS[1].json,
			delayDays: 'two weeks (from ERP import)',
			priceChange: 'unchecked',
			_signals: { delayDays: { prompt: 'erp-import' }, other: { prompt: 'kept' } },
		};
		const result = await run([extractNode()], [['Trigger', 'Extract']], [{ json: incoming }]);
		const [valid, invalid] = result.outputsOf('Extract');
		expect(valid).toEqual([]);
		const [b] = jsonOf(invalid);
		expect(b).not.toHaveProperty('delayDays');
		expect(b).toMatchObject({ id: 'b', priceChange: false, newUnitPrice: null });
		expect(Object.keys(b._signals as object).sort()).toEqual(['newUnitPrice', 'other', 'priceChange']);
		expect((b._invalid as Array<{ field: string }>).map((entry) => entry.field)).toEqual(['delayDays']);
	});

	it('drops incoming values of signals that failed with continueOnFail', async () => {
		world.server.enqueue({ kind: 'status', status: 500 });
		const result = await run(
			[extractNode({ signals: { signal: [SIGNALS.signal[0]] }, options: { maxRetries: 0, concurrency: 1 } }, { onError: 'continueRegularOutput' })],
			[['Trigger', 'Extract']],
			[{ json: { ...ITEMS[0].json, priceChange: 'yes (from ERP import)' } }],
		);
		const [, invalid] = result.outputsOf('Extract');
		expect(jsonOf(invalid)[0]).not.toHaveProperty('priceChange');
	});

	it('feeds its invalid output into Record Correction, which writes a fixture from the trace', async () => {
		const correct: HarnessNode = {
			name: 'Correct',
			type: CORRECT,
			parameters: { source: 'extractSignal', signalField: 'delayDays', correctedValue: '={{ "14" }}', segment: '={{ $json.from.split("@")[1] }}', note: 'reviewed' },
		};
		const result = await run(
			[extractNode(), correct],
			[
				['Trigger', 'Extract'],
				['Extract', 'Correct', 1],
			],
		);
		const items = result.outputOf('Correct');
		expectPaired(items, [0]);
		const fixture = jsonOf(items)[0].fixture as Record<string, unknown>;
		expect(fixture).toMatchObject({ created: true, promptId: 'delivery-delay-days', expected: 14, segment: 'globex.example' });
		const stored = await world.registry.store.readFixture('delivery-delay-days', fixture.id as string);
		expect(stored).toMatchObject({
			inputs: { email_body: emails.vague, supplier: 'globex.example' },
			expected: 14,
			source: 'correction',
			note: 'reviewed',
			recorded: { version: 1, modelOutput: 'two weeks' },
		});
	});
});
