import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { coerceInput, coerceToSchema } from '../../lib/coerce';
import { correctionFixtureId, declaredInputs, recordCorrection } from '../../lib/corrections';
import { InputError } from '../../lib/errors';
import { commitDraft } from '../../lib/registry/commit';
import type { OutputSchema, PromptSpec } from '../../lib/types';
import { makeSpec, tempRegistry } from './helpers';

const delaySpec = (output: OutputSchema = { type: 'integer', minimum: 0, nullable: true }): PromptSpec =>
	makeSpec({
		id: 'delay-days',
		inputs: { subject: { type: 'string', required: true }, body: { type: 'string', required: true }, priority: { type: 'number', required: false } },
		template: '{{subject}} {{body}} {{priority}}',
		output,
	});

async function registry(spec: PromptSpec = delaySpec()) {
	const { store, root } = await tempRegistry();
	await store.writeDraft(spec);
	return { store, root };
}

const item = { subject: 'Delivery', body: 'Shipment delayed by two weeks.', sender: 'x@y', messageId: 42 };

describe('recordCorrection', () => {
	test('a string "14" from a form becomes the integer 14; the fixture records the evidence', async () => {
		const { store } = await registry();
		const out = await recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: 'two weeks', corrected: '14', segment: 'logistics', note: 'analyst fix', now: new Date('2026-03-03T03:03:03Z') });
		expect(out.created).toBe(true);
		expect(out.fixture).toEqual({
			id: correctionFixtureId({ subject: 'Delivery', body: 'Shipment delayed by two weeks.' }),
			inputs: { subject: 'Delivery', body: 'Shipment delayed by two weeks.' },
			expected: 14,
			segment: 'logistics',
			source: 'correction',
			note: 'analyst fix',
			recorded: { version: 'draft', modelOutput: 'two weeks', at: '2026-03-03T03:03:03.000Z' },
		});
		const spec = await store.readDraft('delay-days');
		const stored = await store.listFixtures('delay-days', spec);
		expect(stored).toEqual([out.fixture]);
		expect(typeof stored[0].expected).toBe('number');
	});

	test('extra item fields are ignored: they neither enter the fixture nor split the case', async () => {
		const { store } = await registry();
		const a = await recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: null, corrected: 14 });
		const b = await recordCorrection(store, { promptId: 'delay-days', variables: { ...item, sender: 'other', extra: true }, modelOutput: null, corrected: 14 });
		expect(b.fixture.id).toBe(a.fixture.id);
		expect(Object.keys(b.fixture.inputs).sort()).toEqual(['body', 'subject']);
	});

	test('the same inputs corrected twice update one fixture', async () => {
		const { store } = await registry();
		const first = await recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: '{"value": 7}', corrected: '14', segment: 'logistics', note: 'first' });
		const second = await recordCorrection(store, { promptId: 'delay-days', variables: { ...item }, modelOutput: '{"value": 10}', corrected: '15' });
		expect(first.created).toBe(true);
		expect(second.created).toBe(false);
		expect(second.fixture.id).toBe(first.fixture.id);
		expect(second.fixture.expected).toBe(15);
		// segment and note are kept from the earlier correction when not given again
		expect(second.fixture).toMatchObject({ segment: 'logistics', note: 'first', recorded: { modelOutput: '{"value": 10}' } });
		const all = await store.listFixtures('delay-days');
		expect(all).toHaveLength(1);
		expect(all[0].expected).toBe(15);
	});

	test('a correction of inputs an existing fixture covers updates that fixture instead of adding a conflicting one', async () => {
		const { store } = await registry();
		const inputs = { subject: 'Delivery', body: 'Shipment delayed by two weeks.' };
		// Written by hand (keys in another order: the same canonical inputs), and an unrelated one.
		await store.writeFixture('delay-days', { id: 'hand-made', inputs: { body: inputs.body, subject: inputs.subject }, expected: 7, segment: 'ops', source: 'manual', note: 'from the handbook' });
		await store.writeFixture('delay-days', { id: 'other', inputs: { ...inputs, priority: 1 }, expected: 1, source: 'import' });
		const out = await recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: 7, corrected: '14', now: new Date('2026-03-03T03:03:03Z') });
		expect(out.created).toBe(false);
		expect(out.fixture).toEqual({
			id: 'hand-made',
			inputs,
			expected: 14,
			segment: 'ops',
			source: 'correction',
			note: 'from the handbook',
			recorded: { version: 'draft', modelOutput: 7, at: '2026-03-03T03:03:03.000Z' },
		});
		const all = await store.listFixtures('delay-days');
		expect(all.map((f) => [f.id, f.expected])).toEqual([
			['hand-made', 14],
			['other', 1],
		]);
		// A new segment and note replace the kept ones; the id stays.
		const again = await recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: 14, corrected: 15, segment: 'late', note: 'rechecked' });
		expect(again).toMatchObject({ created: false, fixture: { id: 'hand-made', expected: 15, segment: 'late', note: 'rechecked', source: 'correction' } });
		expect(await store.listFixtures('delay-days')).toHaveLength(2);
	});

	test('a required input named like an Object.prototype member must really be there', async () => {
		const spec = makeSpec({ id: 'ctor', inputs: { constructor: { type: 'string' as const, required: true } }, template: '{{constructor}}', output: { type: 'boolean' } });
		const { store } = await registry(spec);
		await expect(recordCorrection(store, { promptId: 'ctor', variables: {}, modelOutput: null, corrected: true })).rejects.toThrow(/the trace has no value for required input "constructor"/);
	});

	test('an invalid corrected value is rejected with the reason, nothing written', async () => {
		const { store, root } = await registry();
		for (const corrected of ['two weeks', '-3', '1.5', true]) {
			const p = recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: null, corrected });
			await expect(p).rejects.toThrow(InputError);
		}
		await expect(recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: null, corrected: '-3' })).rejects.toThrow(
			/correction for "delay-days": corrected value "-3" does not match the declared schema: value: Number must be greater than or equal to 0\. Enter a value of the declared type\./,
		);
		await expect(fs.readdir(path.join(root, 'delay-days', 'fixtures'))).rejects.toThrow(/ENOENT/);
	});

	test('nullable: an empty form field means null', async () => {
		const { store } = await registry();
		const out = await recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: 3, corrected: '' });
		expect(out.fixture.expected).toBeNull();
	});

	test('a missing required input is rejected, naming it', async () => {
		const { store } = await registry();
		await expect(recordCorrection(store, { promptId: 'delay-days', variables: { subject: 'x' }, modelOutput: null, corrected: 1 })).rejects.toThrow(
			/the trace has no value for required input "body"/,
		);
	});

	test('a wrong-typed input is rejected instead of writing a fixture that cannot load', async () => {
		const { store, root } = await registry();
		await expect(recordCorrection(store, { promptId: 'delay-days', variables: { ...item, priority: 'high' }, modelOutput: null, corrected: 1 })).rejects.toThrow(InputError);
		await expect(recordCorrection(store, { promptId: 'delay-days', variables: { ...item, priority: 'high' }, modelOutput: null, corrected: 1 })).rejects.toThrow(/"priority" must be a number/);
		await expect(fs.readdir(path.join(root, 'delay-days', 'fixtures'))).rejects.toThrow(/ENOENT/);
	});

	test('object outputs: strings per property and JSON text are converted', async () => {
		const { store } = await registry(delaySpec({ type: 'object', properties: { days: { type: 'integer' }, confirmed: { type: 'boolean' }, from: { type: 'string', format: 'date', nullable: true } } }));
		const a = await recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: null, corrected: { days: '14', confirmed: 'yes', from: '' } });
		expect(a.fixture.expected).toEqual({ days: 14, confirmed: true, from: null });
		const b = await recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: null, corrected: '{"days": 3, "confirmed": false, "from": "2026-05-01"}' });
		expect(b.fixture.expected).toEqual({ days: 3, confirmed: false, from: '2026-05-01' });
		await expect(recordCorrection(store, { promptId: 'delay-days', variables: item, modelOutput: null, corrected: { days: 1 } })).rejects.toThrow(/"confirmed"/);
	});

	test('a pinned version is recorded and its schema used', async () => {
		const { store } = await registry(delaySpec({ type: 'boolean' }));
		await commitDraft(store, 'delay-days');
		await store.writeDraft(delaySpec({ type: 'integer' }));
		const out = await recordCorrection(store, { promptId: 'delay-days', version: 1, variables: item, modelOutput: true, corrected: 'no' });
		expect(out.fixture).toMatchObject({ expected: false, recorded: { version: 1 } });
	});

	test('an unknown prompt is an error', async () => {
		const { store } = await registry();
		await expect(recordCorrection(store, { promptId: 'nope', variables: item, modelOutput: null, corrected: 1 })).rejects.toThrow(/prompt "nope" not found/);
	});

	test('declaredInputs and correctionFixtureId', () => {
		const spec = delaySpec();
		expect(declaredInputs(spec, { subject: 'a', body: undefined, other: 1 })).toEqual({ subject: 'a' });
		expect(correctionFixtureId({ a: 1, b: 2 })).toBe(correctionFixtureId({ b: 2, a: 1 }));
		expect(correctionFixtureId({ a: 1 })).toMatch(/^correction-[0-9a-f]{16}$/);
		expect(correctionFixtureId({ a: 1 })).not.toBe(correctionFixtureId({ a: 2 }));
	});
});

describe('coerce (people’s input only)', () => {
	test('object properties named like Object.prototype members are only converted when present', () => {
		const schema: OutputSchema = { type: 'object', properties: { toString: { type: 'string' as const, nullable: true }, n: { type: 'integer' } } };
		expect(coerceToSchema(schema, { n: '2' })).toEqual({ n: 2 });
		expect(Object.hasOwn(coerceToSchema(schema, { n: '2' }) as object, 'toString')).toBe(false);
	});

	test('scalars', () => {
		expect(coerceToSchema({ type: 'integer' }, ' 14 ')).toBe(14);
		expect(coerceToSchema({ type: 'integer' }, '1e3')).toBe(1000);
		expect(coerceToSchema({ type: 'number' }, '-0.5')).toBe(-0.5);
		expect(coerceToSchema({ type: 'number' }, '12abc')).toBe('12abc');
		expect(coerceToSchema({ type: 'number' }, '')).toBe('');
		expect(coerceToSchema({ type: 'boolean' }, 'Yes')).toBe(true);
		expect(coerceToSchema({ type: 'boolean' }, 'FALSE')).toBe(false);
		expect(coerceToSchema({ type: 'boolean' }, 'maybe')).toBe('maybe');
		expect(coerceToSchema({ type: 'string', enum: ['high'] }, ' high ')).toBe('high');
		expect(coerceToSchema({ type: 'integer', nullable: true }, 'null')).toBeNull();
		expect(coerceToSchema({ type: 'integer' }, 'null')).toBe('null');
		expect(coerceToSchema({ type: 'integer' }, 7)).toBe(7);
	});

	test('objects: only declared properties are converted, others left for validation to reject', () => {
		const s: OutputSchema = { type: 'object', properties: { n: { type: 'integer' } } };
		expect(coerceToSchema(s, { n: '3', x: '4' })).toEqual({ n: 3, x: '4' });
		expect(coerceToSchema(s, 'not json')).toBe('not json');
		expect(coerceToSchema(s, '[1]')).toEqual([1]);
	});

	test('coerceInput', () => {
		expect(coerceInput('string', ' 12 ')).toBe(' 12 ');
		expect(coerceInput('number', '12')).toBe(12);
		expect(coerceInput('number', 'x')).toBe('x');
		expect(coerceInput('boolean', 'no')).toBe(false);
	});
});
