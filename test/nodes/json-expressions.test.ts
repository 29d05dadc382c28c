/**
 * `{{ $json.<field> }}` parameters read from the item directly (nodes/shared/json-expressions.ts) must give
 * exactly what n8n's expression engine gives, in both of n8n's engines (legacy and the isolated-vm one n8n
 * 2.x runs), and every other expression must still be answered by n8n. A probe node reads each parameter
 * both ways for items of every kind of value.
 */
import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType } from 'n8n-workflow';
import { itemParameter, jsonFieldPath, readJsonField } from '../../nodes/shared/json-expressions';
import { readVariables } from '../../nodes/shared/variables';
import { connect, runWorkflow, useExpressionEngine } from '../support/n8n-harness';

const outcome = (read: () => unknown) => {
	try {
		return { value: read() ?? null };
	} catch (error) {
		return { error: (error as Error).message };
	}
};

/** Per item: the parameter through itemParameter and through getNodeParameter, whether the direct path answered, and the variables both ways. */
class Probe implements INodeType {
	description = {
		displayName: 'Probe',
		name: 'probe',
		group: ['transform'] as Array<'transform'>,
		version: 1,
		description: 'reads a parameter both ways',
		defaults: { name: 'Probe' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{ displayName: 'Field', name: 'field', type: 'string' as const, default: '' },
			{
				displayName: 'Variables',
				name: 'variables',
				type: 'fixedCollection' as const,
				typeOptions: { multipleValues: true },
				default: {},
				options: [
					{
						displayName: 'Variable',
						name: 'variable',
						values: [
							{ displayName: 'Name', name: 'name', type: 'string' as const, default: '' },
							{ displayName: 'Value', name: 'value', type: 'string' as const, default: '' },
						],
					},
				],
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const raw = this.getNode().parameters.field;
		return [
			this.getInputData().map((item, i) => ({
				json: {
					direct: outcome(() => itemParameter(this, 'field', i, '')),
					n8n: outcome(() => this.getNodeParameter('field', i, '')),
					answeredDirectly: Boolean(jsonFieldPath(raw) && readJsonField(item.json, jsonFieldPath(raw)!)),
					variablesDirect: outcome(() => readVariables(this, i, [])),
					variablesN8n: outcome(() => Object.fromEntries((this.getNodeParameter('variables.variable', i, []) as Array<{ name: string; value: unknown }>).map((v) => [v.name, v.value]))),
					collectionDirect: outcome(() => itemParameter(this, 'variables.variable', i, [])),
					collectionN8n: outcome(() => this.getNodeParameter('variables.variable', i, [])),
				},
				pairedItem: { item: i },
			})),
		];
	}
}

const items: INodeExecutionData[] = [
	{
		json: {
			subject: 'Price up from 1 March',
			n: 12.5,
			zero: 0,
			neg: -3,
			t: true,
			f: false,
			nul: null,
			empty: '',
			nested: { a: { b: 'deep' } },
			arr: ['first', 2, { k: 'v' }],
			'with space': 'spaced',
			ünï: 'unicode',
			obj: { x: 1 },
		},
	},
	{ json: { subject: 42, nested: { a: null }, arr: [] } },
	{ json: { subject: '  padded\nline  ', nested: 'not an object' } },
	{ json: {} },
];

/** Simple field paths: answered directly wherever the field is a primitive. */
const simple = [
	'={{ $json.subject }}',
	'={{$json.subject}}',
	'={{ $json["with space"] }}',
	"={{ $json['ünï'] }}",
	'={{ $json.nested.a.b }}',
	'={{ $json.arr[0] }}',
	'={{ $json.arr[1] }}',
	'={{ $json.arr[2].k }}',
	'={{ $json.n }}',
	'={{ $json.zero }}',
	'={{ $json.neg }}',
	'={{ $json.t }}',
	'={{ $json.f }}',
	'={{ $json.nul }}',
	'={{ $json.empty }}',
];
/** Left to n8n: no direct answer for any item. */
const other = [
	'={{ $json.missing }}',
	'={{ $json.obj }}',
	'={{ $json.arr }}',
	'={{ $json.missing.deeper }}',
	'={{ $json.subject.length }}',
	'={{ $json.subject }} and more',
	'={{ $json.subject.toUpperCase() }}',
	"={{ $('Trigger').item.json.subject }}",
	'={{ $json.constructor }}',
	'plain text',
];

describe.each(['legacy', 'vm'] as const)('{{ $json.field }} read directly equals n8n (%s expression engine)', (engine) => {
	beforeAll(async () => {
		await useExpressionEngine(engine);
	});

	const probe = async (field: string, variables: Array<{ name: string; value: string }> = []) => {
		const result = await runWorkflow({
			nodeTypes: { 'TEST.probe': new Probe() },
			nodes: [{ name: 'Probe', type: 'TEST.probe', parameters: { field, variables: { variable: variables } } }],
			connections: connect(['Trigger', 'Probe']),
			triggerItems: items,
		});
		expect(result.error).toBeUndefined();
		return result.outputOf('Probe').map((item) => item.json as Record<string, { value?: unknown; error?: string } | boolean>);
	};

	it.each(simple)('%s', async (field) => {
		const out = await probe(field);
		for (const row of out) expect(row.direct).toEqual(row.n8n);
		expect(out[0].answeredDirectly).toBe(true);
	});

	it.each(other)('%s is answered by n8n', async (field) => {
		const out = await probe(field);
		for (const row of out) {
			expect(row.direct).toEqual(row.n8n);
			if (field.startsWith('=')) expect(row.answeredDirectly).toBe(false);
		}
	});

	it('mapped variables: the same values as n8n evaluates, whether all, some or none are simple fields', async () => {
		const mappings = [
			[
				{ name: 'subject', value: '={{ $json.subject }}' },
				{ name: 'deep', value: '={{ $json.nested.a.b }}' },
				{ name: 'fixed', value: 'a constant' },
			],
			[
				{ name: 'subject', value: '={{ $json.subject }}' },
				{ name: 'shout', value: '={{ String($json.subject).toUpperCase() }}' },
			],
			[{ name: 'obj', value: '={{ $json.obj }}' }],
			[
				{ name: 'fixed', value: 'a constant' },
				{ name: 'other', value: 'another' },
			],
		];
		for (const variables of mappings) {
			for (const row of await probe('', variables)) {
				expect(row.variablesDirect).toEqual(row.variablesN8n);
				expect(row.collectionDirect).toEqual(row.collectionN8n);
			}
		}
	});
});
