import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ConfigErrors } from '../../lib/errors';
import { importFixtures } from '../../lib/fixtures-import';
import type { OutputSchema, PromptSpec } from '../../lib/types';
import { makeSpec, tempDir, tempRegistry } from './helpers';

const spec = (output: OutputSchema = { type: 'integer', minimum: 0, nullable: true }): PromptSpec =>
	makeSpec({
		id: 'delay-days',
		inputs: {
			subject: { type: 'string', required: true },
			body: { type: 'string', required: true },
			priority: { type: 'number', required: false },
			urgent: { type: 'boolean', required: false },
		},
		template: '{{subject}} {{body}} {{priority}} {{urgent}}',
		output,
	});

async function setup(output?: OutputSchema) {
	const { store, root } = await tempRegistry();
	await store.writeDraft(spec(output));
	const dir = await tempDir();
	const file = async (name: string, text: string) => {
		const p = path.join(dir, name);
		await fs.writeFile(p, text);
		return p;
	};
	const fixtureFiles = async () => (await fs.readdir(path.join(root, 'delay-days', 'fixtures')).catch(() => [] as string[])).sort();
	return { store, root, file, fixtureFiles };
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
	try {
		await p;
	} catch (e) {
		return e as Error;
	}
	throw new Error('expected a rejection');
}

describe('importFixtures: JSONL', () => {
	test('rows become fixtures; ids given or derived from the inputs; source import', async () => {
		const { store, file } = await setup();
		const jsonl = await file(
			'cases.jsonl',
			[
				JSON.stringify({ id: 'two-weeks', inputs: { subject: 'a', body: 'two weeks late' }, expected: 14, segment: 'de', note: 'from ops' }),
				'',
				JSON.stringify({ inputs: { subject: 'b', body: 'on time', priority: 2, urgent: false }, expected: null }),
				JSON.stringify({ inputs: { subject: 'c', body: 'three days' }, expected: '3', segment: 7 }),
			].join('\r\n'),
		);
		const result = await importFixtures(store, 'delay-days', jsonl);
		expect(result.updated).toEqual([]);
		expect(result.created).toHaveLength(3);
		expect(result.created[0]).toBe('two-weeks');
		expect(result.created[1]).toMatch(/^import-[0-9a-f]{16}$/);
		const fixtures = await store.listFixtures('delay-days', await store.readDraft('delay-days'));
		const byId = Object.fromEntries(fixtures.map((f) => [f.id, f]));
		expect(byId['two-weeks']).toEqual({ id: 'two-weeks', inputs: { subject: 'a', body: 'two weeks late' }, expected: 14, segment: 'de', note: 'from ops', source: 'import' });
		expect(byId[result.created[1]]).toMatchObject({ expected: null, inputs: { priority: 2, urgent: false } });
		expect(byId[result.created[2]]).toMatchObject({ expected: 3, segment: '7' });
	});

	test('importing again updates instead of duplicating', async () => {
		const { store, file, fixtureFiles } = await setup();
		const jsonl = await file('a.jsonl', JSON.stringify({ inputs: { subject: 'a', body: 'b' }, expected: 1 }) + '\n');
		const first = await importFixtures(store, 'delay-days', jsonl);
		const again = await importFixtures(store, 'delay-days', await file('b.jsonl', JSON.stringify({ inputs: { subject: 'a', body: 'b' }, expected: 2 }) + '\n'));
		expect(again).toEqual({ created: [], updated: first.created });
		expect(await fixtureFiles()).toHaveLength(1);
		expect((await store.readFixture('delay-days', first.created[0]))?.expected).toBe(2);
	});

	test('a bad row → nothing written; every bad row is reported with its line', async () => {
		const { store, file, fixtureFiles } = await setup();
		const jsonl = await file(
			'bad.jsonl',
			[
				JSON.stringify({ inputs: { subject: 'a', body: 'ok' }, expected: 1 }),
				JSON.stringify({ inputs: { subject: 'b', body: 'bad' }, expected: 'soon' }),
				JSON.stringify({ inputs: { subject: 'c' }, expected: 2 }),
				JSON.stringify({ inputs: { subject: 'd', body: 'x' } }),
			].join('\n'),
		);
		const err = (await errorOf(importFixtures(store, 'delay-days', jsonl))) as ConfigErrors;
		expect(err).toBeInstanceOf(ConfigErrors);
		expect(err.errors.map((e) => [e.location.line, e.location.field])).toEqual([
			[2, 'expected'],
			[3, 'inputs'],
			[4, 'expected'],
		]);
		expect(err.errors[1].message).toMatch(/required input "body" is missing/);
		expect(await fixtureFiles()).toEqual([]);
	});

	test('malformed JSON or a non-object line → ConfigError with the line, nothing written', async () => {
		const { store, file, fixtureFiles } = await setup();
		const a = await file('a.jsonl', `${JSON.stringify({ inputs: { subject: 'a', body: 'b' }, expected: 1 })}\n{oops\n`);
		await expect(importFixtures(store, 'delay-days', a)).rejects.toThrow(/a\.jsonl:2: not valid JSON/);
		const b = await file('b.jsonl', '[1, 2]\n');
		await expect(importFixtures(store, 'delay-days', b)).rejects.toThrow(/b\.jsonl:1: each line must be a JSON object/);
		expect(await fixtureFiles()).toEqual([]);
	});

	test('duplicate ids (given, or derived from equal inputs) are refused', async () => {
		const { store, file, fixtureFiles } = await setup();
		const given = await file('a.jsonl', [JSON.stringify({ id: 'x', inputs: { subject: 'a', body: 'b' }, expected: 1 }), JSON.stringify({ id: 'x', inputs: { subject: 'c', body: 'd' }, expected: 2 })].join('\n'));
		await expect(importFixtures(store, 'delay-days', given)).rejects.toThrow(/:2: fixture id "x" repeats the row at line 1/);
		const derived = await file('b.jsonl', [JSON.stringify({ inputs: { subject: 'a', body: 'b' }, expected: 1 }), JSON.stringify({ inputs: { body: 'b', subject: 'a' }, expected: 2 })].join('\n'));
		await expect(importFixtures(store, 'delay-days', derived)).rejects.toThrow(/repeats the row at line 1 \(same id or same inputs\)/);
		expect(await fixtureFiles()).toEqual([]);
	});

	test('rows cannot claim to be corrections; source is manual or import (default import)', async () => {
		const { store, file, fixtureFiles } = await setup();
		const jsonl = await file(
			'src.jsonl',
			[
				JSON.stringify({ id: 'm', inputs: { subject: 'a', body: 'b' }, expected: 1, source: 'manual' }),
				JSON.stringify({ id: 'c', inputs: { subject: 'c', body: 'd' }, expected: 2, source: 'correction' }),
				JSON.stringify({ id: 'r', inputs: { subject: 'e', body: 'f' }, expected: 3, recorded: { version: 1, modelOutput: 2, at: '2026-01-01T00:00:00Z' } }),
				JSON.stringify({ id: 'x', inputs: { subject: 'g', body: 'h' }, expected: 4, source: 'robot' }),
			].join('\n'),
		);
		const err = (await errorOf(importFixtures(store, 'delay-days', jsonl))) as ConfigErrors;
		expect(err.errors.map((e) => [e.location.line, e.location.field])).toEqual([
			[2, 'source'],
			[3, 'recorded'],
			[4, 'source'],
		]);
		expect(err.errors[0].message).toMatch(/src\.jsonl:2 field "source": corrections are recorded by the Record Correction node, not imported/);
		expect(err.errors[1].message).toMatch(/src\.jsonl:3 field "recorded": corrections are recorded by the Record Correction node, not imported/);
		expect(err.errors[2].message).toMatch(/must be manual or import \(the default\), not "robot"/);
		expect(await fixtureFiles()).toEqual([]);

		const csv = await file('src.csv', ['id,subject,body,expected,source', 'm,a,b,1,manual', 'i,c,d,2,', 'c,e,f,3,correction'].join('\n'));
		await expect(importFixtures(store, 'delay-days', csv)).rejects.toThrow(/src\.csv:4 field "source": corrections are recorded by the Record Correction node, not imported/);
		const ok = await file('ok.csv', ['id,subject,body,expected,source', 'm,a,b,1,manual', 'i,c,d,2,'].join('\n'));
		await importFixtures(store, 'delay-days', ok);
		expect((await store.readFixture('delay-days', 'm'))?.source).toBe('manual');
		expect((await store.readFixture('delay-days', 'i'))?.source).toBe('import');
	});

	test('an invalid id is refused', async () => {
		const { store, file } = await setup();
		const p = await file('a.jsonl', JSON.stringify({ id: '../escape', inputs: { subject: 'a', body: 'b' }, expected: 1 }));
		await expect(importFixtures(store, 'delay-days', p)).rejects.toThrow(/fixture id "..\/escape" is invalid/);
	});

	test('unknown file type, missing file, empty file', async () => {
		const { store, file } = await setup();
		await expect(importFixtures(store, 'delay-days', await file('a.txt', 'x'))).rejects.toThrow(/unknown file type/);
		await expect(importFixtures(store, 'delay-days', '/nonexistent/x.jsonl')).rejects.toThrow(/cannot read file: ENOENT/);
		await expect(importFixtures(store, 'delay-days', await file('e.jsonl', '\n\n'))).rejects.toThrow(/no rows to import/);
	});
});

describe('importFixtures: CSV', () => {
	test('typed columns: inputs converted to their declared types, expected to the output type', async () => {
		const { store, file } = await setup();
		const csv = await file(
			'cases.csv',
			['id,subject,inputs.body,priority,urgent,expected,segment,note', 'c1,Late,"two weeks, maybe more",2.5,yes,14,de,checked', 'c2,On time,"fine",,,"",,', ''].join('\n'),
		);
		expect(await importFixtures(store, 'delay-days', csv)).toEqual({ created: ['c1', 'c2'], updated: [] });
		const c1 = await store.readFixture('delay-days', 'c1');
		expect(c1).toEqual({ id: 'c1', inputs: { subject: 'Late', body: 'two weeks, maybe more', priority: 2.5, urgent: true }, expected: 14, segment: 'de', note: 'checked', source: 'import' });
		const c2 = await store.readFixture('delay-days', 'c2');
		expect(c2).toEqual({ id: 'c2', inputs: { subject: 'On time', body: 'fine' }, expected: null, source: 'import' });
	});

	test('object outputs from expected.<prop> columns', async () => {
		const output: OutputSchema = { type: 'object', properties: { days: { type: 'integer' }, confirmed: { type: 'boolean' }, from: { type: 'string', format: 'date', nullable: true } } };
		const { store, file } = await setup(output);
		const csv = await file('o.csv', ['subject,body,expected.days,expected.confirmed,expected.from', 'a,b,14,true,2026-05-01', 'c,d,0,no,'].join('\n'));
		const { created } = await importFixtures(store, 'delay-days', csv);
		const fixtures = await Promise.all(created.map((id) => store.readFixture('delay-days', id)));
		expect(fixtures.map((f) => f?.expected)).toEqual([
			{ days: 14, confirmed: true, from: '2026-05-01' },
			{ days: 0, confirmed: false, from: null },
		]);
	});

	test('a bad cell → nothing written; the error names the CSV line and the field', async () => {
		const { store, file, fixtureFiles } = await setup();
		const csv = await file('bad.csv', ['subject,body,priority,expected', 'a,b,1,3', 'c,d,high,4', 'e,f,2,-1'].join('\n'));
		const err = (await errorOf(importFixtures(store, 'delay-days', csv))) as ConfigErrors;
		expect(err).toBeInstanceOf(ConfigErrors);
		expect(err.errors.map((e) => [e.location.line, e.location.field])).toEqual([
			[3, 'inputs.priority'],
			[4, 'expected'],
		]);
		expect(await fixtureFiles()).toEqual([]);
	});

	test('an empty cell for a required string input is missing (as at run time)', async () => {
		const { store, file, fixtureFiles } = await setup();
		const csv = await file('e.csv', ['subject,body,expected', 'a,,1'].join('\n'));
		await expect(importFixtures(store, 'delay-days', csv)).rejects.toThrow(/e\.csv:2 field "inputs": required input "body" is missing \(empty\)/);
		expect(await fixtureFiles()).toEqual([]);
	});

	test('a column that is not a declared input is refused', async () => {
		const { store, file } = await setup();
		const csv = await file('x.csv', ['subject,body,sender,expected', 'a,b,me,1'].join('\n'));
		const err = await errorOf(importFixtures(store, 'delay-days', csv));
		expect(err).toBeInstanceOf(ConfigError);
		expect(err.message).toMatch(/x\.csv:2 field "inputs\.sender": "sender" is not an input/);
	});

	test('a column named like an Object.prototype member is not a declared input, even when empty', async () => {
		const { store, file } = await setup();
		const csv = await file('p.csv', ['subject,body,toString,expected', 'a,b,,1'].join('\n'));
		await expect(importFixtures(store, 'delay-days', csv)).rejects.toThrow(/p\.csv:2 field "inputs\.toString": "toString" is not an input/);
	});

	test('a multi-line quoted cell reports the line of its own row', async () => {
		const { store, file } = await setup();
		const csv = await file('m.csv', ['subject,body,expected', 'a,"line one', 'line two",1', 'c,d,nope'].join('\n'));
		const err = (await errorOf(importFixtures(store, 'delay-days', csv))) as ConfigError;
		expect(err.location.line).toBe(4);
	});

	test('malformed CSV is a ConfigError', async () => {
		const { store, file } = await setup();
		const csv = await file('bad.csv', 'subject,body,expected\n"a,b,1\n');
		await expect(importFixtures(store, 'delay-days', csv)).rejects.toThrow(/not valid CSV/);
	});
});
