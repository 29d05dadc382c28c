/**
 * Record Correction inside a real n8n-core workflow run: the same correction twice updates one fixture;
 * every source (Extract Signal item, Run Prompt Release item, trace, manual fields).
 */
import type { INodeExecutionData } from 'n8n-workflow';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { useSupplierWorld } from './support/prompts';
import { CORRECT, RUN, credentialTypes, credentials, emails, expectPaired, jsonOf, nodeTypes } from './support/workflow';

const world = useSupplierWorld();

const invalidItem = {
	ticket: 'T-1',
	answer: '15',
	_signals: {},
	_invalid: [
		{
			field: 'delayDays',
			prompt: 'delivery-delay-days',
			version: 1,
			reason: 'invalid model output',
			rawOutput: 'two weeks',
			trace: {
				prompt: 'delivery-delay-days',
				version: 1,
				channel: 'production',
				variables: { email_body: emails.vague, supplier: 'globex.example', unrelated: 'dropped' },
				modelOutput: 'two weeks',
				value: null,
			},
		},
	],
};

function correctNode(parameters: Record<string, unknown>, extra: Partial<HarnessNode> = {}): HarnessNode {
	return { name: 'Correct', type: CORRECT, parameters: { correctedValue: '={{ $json.answer }}', ...parameters }, ...extra };
}

async function run(nodes: HarnessNode[], links: Array<[string, string, number?]>, triggerItems: INodeExecutionData[]) {
	return await runWorkflow({ nodeTypes, nodes, connections: connect(...links), credentials: credentials(world.registry.root, world.server), credentialTypes, triggerItems });
}

describe('Record Correction', () => {
	it('creates a fixture from an Extract Signal item, then updates the same fixture', async () => {
		const first = await run([correctNode({ source: 'extractSignal', note: 'first review' })], [['Trigger', 'Correct']], [{ json: invalidItem }]);
		expect(first.status).toBe('success');
		expectPaired(first.outputOf('Correct'), [0]);
		const created = jsonOf(first.outputOf('Correct'))[0];
		expect(created).toMatchObject({ ticket: 'T-1', fixture: { created: true, promptId: 'delivery-delay-days', expected: 15 } });
		const id = (created.fixture as { id: string }).id;
		expect(id).toMatch(/^correction-[0-9a-f]{16}$/);

		const second = await run(
			[correctNode({ source: 'extractSignal', signalField: 'delayDays', segment: 'globex' })],
			[['Trigger', 'Correct']],
			[{ json: { ...invalidItem, answer: '14' } }],
		);
		const updated = jsonOf(second.outputOf('Correct'))[0];
		expect(updated.fixture).toEqual({ id, created: false, promptId: 'delivery-delay-days', expected: 14, segment: 'globex' });

		const fixtures = (await world.registry.store.listFixtures('delivery-delay-days')).filter((f) => f.source === 'correction');
		expect(fixtures).toHaveLength(1);
		expect(fixtures[0]).toMatchObject({
			id,
			inputs: { email_body: emails.vague, supplier: 'globex.example' },
			expected: 14,
			segment: 'globex',
			note: 'first review',
			recorded: { version: 1, modelOutput: 'two weeks' },
		});
	});

	it('records corrections of many items for one prompt without losing one (concurrency)', async () => {
		const items = Array.from({ length: 6 }, (_, n) => ({
			json: { answer: String(n % 2 === 0), trace: { prompt: 'price-change', version: 1, channel: 'production', variables: { email_body: `concurrent mail ${n % 3}` }, modelOutput: '{"value":true}', value: true } },
		}));
		const result = await run([correctNode({ source: 'runPromptRelease', options: { concurrency: 4 } })], [['Trigger', 'Correct']], items);
		const out = jsonOf(result.outputOf('Correct')).map((j) => j.fixture as { id: string; created: boolean });
		expectPaired(result.outputOf('Correct'), [0, 1, 2, 3, 4, 5]);
		expect(out.map((f) => f.created)).toEqual([true, true, true, false, false, false]);
		expect(new Set(out.map((f) => f.id)).size).toBe(3);
	});

	it('takes the trace of a Run Prompt Release item through an expression to an earlier node', async () => {
		const run1: HarnessNode = {
			name: 'Run',
			type: RUN,
			parameters: { prompt: { __rl: true, mode: 'list', value: 'new-unit-price' }, variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] } },
		};
		const result = await run(
			[run1, correctNode({ source: 'runPromptRelease', sourceItem: "={{ $('Run').item.json }}", correctedValue: '=12.00' })],
			[
				['Trigger', 'Run'],
				['Run', 'Correct'],
			],
			[{ json: { body: 'The new unit price is 12 EUR, was 11.' } }],
		);
		const [item] = jsonOf(result.outputOf('Correct'));
		expect(item.fixture).toMatchObject({ created: true, promptId: 'new-unit-price', expected: 12 });
		const stored = await world.registry.store.readFixture('new-unit-price', (item.fixture as { id: string }).id);
		expect(stored?.inputs).toEqual({ email_body: 'The new unit price is 12 EUR, was 11.' });
		expect(stored?.recorded?.modelOutput).toBe('{"value":12}');
	});

	it('accepts a trace object and manual fields', async () => {
		let result = await run(
			[correctNode({ source: 'trace', correctedValue: 'no' })],
			[['Trigger', 'Correct']],
			[{ json: { trace: { prompt: 'price-change', version: 1, variables: { email_body: 'manual trace mail' }, modelOutput: '{"value":true}' } } }],
		);
		expect(jsonOf(result.outputOf('Correct'))[0].fixture).toMatchObject({ created: true, promptId: 'price-change', expected: false });

		result = await run(
			[
				correctNode({
					source: 'manual',
					prompt: { __rl: true, mode: 'id', value: 'price-change' },
					promptVersion: '1',
					variablesJson: '={{ { email_body: $json.mail } }}',
					modelOutput: 'true',
					correctedValue: 'false',
				}),
			],
			[['Trigger', 'Correct']],
			[{ json: { mail: 'manual fields mail' } }],
		);
		const fixture = jsonOf(result.outputOf('Correct'))[0].fixture as { id: string };
		expect(await world.registry.store.readFixture('price-change', fixture.id)).toMatchObject({ inputs: { email_body: 'manual fields mail' }, expected: false, recorded: { version: 1, modelOutput: 'true' } });
	});

	it('explains a corrected value of the wrong type and an item without a trace; continueOnFail keeps going', async () => {
		let result = await run([correctNode({ source: 'extractSignal' })], [['Trigger', 'Correct']], [{ json: { ...invalidItem, answer: 'soon' } }]);
		expect(result.status).toBe('error');
		expect(result.nodeError('Correct')!.message).toContain('corrected value "soon"');

		result = await run([correctNode({ source: 'extractSignal', signalField: 'price' })], [['Trigger', 'Correct']], [{ json: invalidItem }]);
		expect(result.nodeError('Correct')!.message).toContain('the item has no signal "price"');
		expect(result.nodeError('Correct')!.description).toContain('delayDays');

		result = await run([correctNode({ source: 'runPromptRelease' }, { onError: 'continueRegularOutput' })], [['Trigger', 'Correct']], [{ json: { answer: '1' } }, { json: invalidItem }]);
		const items = result.outputOf('Correct');
		expectPaired(items, [0, 1]);
		expect(jsonOf(items).map((j) => String(j.error))).toEqual([expect.stringContaining('no trace found'), expect.stringContaining('no trace found')]);
	});

	it('with "Continue (using error output)" a refused correction leaves by the error output, a recorded one by the success output', async () => {
		const result = await run([correctNode({ source: 'extractSignal' }, { onError: 'continueErrorOutput' })], [['Trigger', 'Correct']], [{ json: { ...invalidItem, answer: 'soon' } }, { json: invalidItem }]);
		expect(result.status).toBe('success');
		const [recorded, refused] = [result.outputOf('Correct', 0), result.outputOf('Correct', 1)];
		expect(refused).toHaveLength(1);
		expect(String(jsonOf(refused)[0].error)).toContain('corrected value "soon"');
		expect(recorded).toHaveLength(1);
		expect(jsonOf(recorded)[0]).toMatchObject({ fixture: { promptId: 'delivery-delay-days', expected: 15 } });
		expect(jsonOf(recorded)[0]).not.toHaveProperty('error');
	});
});
