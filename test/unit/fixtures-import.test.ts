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
	const file = async (name: string, text: string | Buffer) => {
		const p = path.join(dir, name);
		await fs.writeFile(p, text);
		return p;
	};
	// The fixture files; `fixtures/.index/` beside them is the documented inputs index, not a fixture.
	const fixtureFiles = async () => (await fs.readdir(path.join(root, 'delay-days', 'fixtures')).catch(() => [] as string[])).filter((f) => f !== '.index').sort();
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

	test('a column that is not a declared input is refused by one header error, before any row', async () => {
		const { store, file } = await setup();
		const csv = await file('x.csv', ['subject,body,sender,expected', 'a,b,me,1'].join('\n'));
		const err = (await errorOf(importFixtures(store, 'delay-days', csv))) as ConfigError;
		expect(err).toBeInstanceOf(ConfigError);
		expect(err.location).toEqual({ file: csv, line: 1 });
		expect(err.message).toBe(
			`${csv}:1: the header does not fit prompt "delay-days": read as comma-separated, the columns are "subject", "body", "sender", "expected"; not columns of this prompt: "sender". ` +
				'The prompt needs the columns subject, body, expected; optional: priority, urgent, id, segment, tags, note, source (an input column may also be written inputs.<name>).',
		);
	});

	test('a column named like an Object.prototype member is not a declared input, even when empty', async () => {
		const { store, file } = await setup();
		const csv = await file('p.csv', ['subject,body,toString,expected', 'a,b,,1'].join('\n'));
		await expect(importFixtures(store, 'delay-days', csv)).rejects.toThrow(/p\.csv:1: the header does not fit prompt "delay-days": .*not columns of this prompt: "toString"\./);
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

const BOM8 = Buffer.from([0xef, 0xbb, 0xbf]);
const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
const NEEDS = 'The prompt needs the columns subject, body, expected; optional: priority, urgent, id, segment, tags, note, source (an input column may also be written inputs.<name>).';

describe('importFixtures: file dialects (encodings, line endings, separators)', () => {
	const row = (id: string, subject: string, expected: unknown) => JSON.stringify({ id, inputs: { subject, body: 'b' }, expected });

	test('JSONL from Windows PowerShell: UTF-8 byte-order mark and CRLF line endings', async () => {
		const { store, file } = await setup();
		const jsonl = await file('ps.jsonl', Buffer.concat([BOM8, Buffer.from([row('a', 'Größe', 1), row('b', 'x', 2), ''].join('\r\n'))]));
		expect(await importFixtures(store, 'delay-days', jsonl)).toEqual({ created: ['a', 'b'], updated: [] });
		expect(await store.readFixture('delay-days', 'a')).toEqual({ id: 'a', inputs: { subject: 'Größe', body: 'b' }, expected: 1, source: 'import' });
	});

	test('JSONL in UTF-16 LE and BE with byte-order mark (PowerShell 5 `>` / Out-File) is read', async () => {
		const { store, file } = await setup();
		const le = await file('le.jsonl', utf16le([row('le', 'Grüße', 1), ''].join('\r\n')));
		const be = await file('be.ndjson', utf16be([row('be', 'Œuvre', 2), ''].join('\n')));
		expect(await importFixtures(store, 'delay-days', le)).toEqual({ created: ['le'], updated: [] });
		expect(await importFixtures(store, 'delay-days', be)).toEqual({ created: ['be'], updated: [] });
		expect((await store.readFixture('delay-days', 'le'))?.inputs).toEqual({ subject: 'Grüße', body: 'b' });
		expect((await store.readFixture('delay-days', 'be'))?.inputs).toEqual({ subject: 'Œuvre', body: 'b' });
	});

	test('a bad JSONL line after a BOM and CRLF is named by its own line number', async () => {
		const { store, file } = await setup();
		const jsonl = await file('bad.jsonl', Buffer.concat([BOM8, Buffer.from([row('a', 'x', 1), '', '{oops'].join('\r\n'))]));
		await expect(importFixtures(store, 'delay-days', jsonl)).rejects.toThrow(/bad\.jsonl:3: not valid JSON/);
	});

	test('CSV from a German-locale spreadsheet: BOM, CRLF, ";" separator, quoted ";" and line breaks, blank and ";;;" rows', async () => {
		const { store, file } = await setup();
		const text = ['id;subject;body;priority;expected', 'c1;Lieferung;"Zwei Wochen; vielleicht mehr";2;14', 'c2;"Mehrzeilig";"Zeile eins', 'Zeile ""zwei""";;', ';;;;', '', ''].join('\r\n');
		const csv = await file('de.csv', Buffer.concat([BOM8, Buffer.from(text)]));
		expect(await importFixtures(store, 'delay-days', csv)).toEqual({ created: ['c1', 'c2'], updated: [] });
		expect(await store.readFixture('delay-days', 'c1')).toEqual({ id: 'c1', inputs: { subject: 'Lieferung', body: 'Zwei Wochen; vielleicht mehr', priority: 2 }, expected: 14, source: 'import' });
		expect(await store.readFixture('delay-days', 'c2')).toEqual({ id: 'c2', inputs: { subject: 'Mehrzeilig', body: 'Zeile eins\nZeile "zwei"' }, expected: null, source: 'import' });
	});

	test('CRLF inside a quoted cell is read as LF, so Windows and Unix files give the same fixture', async () => {
		const { store, file } = await setup();
		const windows = await importFixtures(store, 'delay-days', await file('w.csv', 'subject,body,expected\r\na,"one\r\ntwo",1\r\n'));
		const unix = await importFixtures(store, 'delay-days', await file('u.csv', 'subject,body,expected\na,"one\ntwo",1\n'));
		expect(unix).toEqual({ created: [], updated: windows.created });
		expect((await store.readFixture('delay-days', windows.created[0]))?.inputs).toEqual({ subject: 'a', body: 'one\ntwo' });
	});

	test('old Mac CR-only line endings are read', async () => {
		const { store, file } = await setup();
		const csv = await file('mac.csv', 'id,subject,body,expected\rm1,a,b,1\rm2,c,d,2\r');
		expect(await importFixtures(store, 'delay-days', csv)).toEqual({ created: ['m1', 'm2'], updated: [] });
	});

	test('Excel "Unicode text": UTF-16 LE with BOM, tab-separated (.tsv); UTF-16 BE too', async () => {
		const { store, file } = await setup();
		const le = await file('excel.tsv', utf16le(['id\tsubject\tbody\texpected', 't1\tÄrger\t"a\tb"\t3', ''].join('\r\n')));
		expect(await importFixtures(store, 'delay-days', le)).toEqual({ created: ['t1'], updated: [] });
		expect(await store.readFixture('delay-days', 't1')).toEqual({ id: 't1', inputs: { subject: 'Ärger', body: 'a\tb' }, expected: 3, source: 'import' });
		const be = await file('be.csv', utf16be(['id;subject;body;expected', 't2;x;y;4'].join('\r\n')));
		expect(await importFixtures(store, 'delay-days', be)).toEqual({ created: ['t2'], updated: [] });
	});

	test('a header that fits with comma wins over semicolon and tab; quoted cells may hold the other separators', async () => {
		const { store, file } = await setup();
		const csv = await file('c.csv', ['id,subject,body,expected', 'k,"a;b","c\td",5'].join('\n'));
		expect(await importFixtures(store, 'delay-days', csv)).toEqual({ created: ['k'], updated: [] });
		expect((await store.readFixture('delay-days', 'k'))?.inputs).toEqual({ subject: 'a;b', body: 'c\td' });
	});

	test('a `sep=;` first line (Excel) names the separator; rows keep their line numbers in the file', async () => {
		const { store, file, fixtureFiles } = await setup();
		const ok = await file('sep.csv', ['sep=;', 'id;subject;body;expected', 's1;a,b;c;1', ''].join('\r\n'));
		expect(await importFixtures(store, 'delay-days', ok)).toEqual({ created: ['s1'], updated: [] });
		expect((await store.readFixture('delay-days', 's1'))?.inputs).toEqual({ subject: 'a,b', body: 'c' });
		const bad = await file('sep-bad.csv', ['"sep=;"', 'id;subject;body;expected', 's2;a;b;1', 's3;c;d;soon'].join('\n'));
		const err = (await errorOf(importFixtures(store, 'delay-days', bad))) as ConfigError;
		expect(err.location).toEqual({ file: bad, line: 4, field: 'expected' });
		expect(await fixtureFiles()).toEqual(['s1.yaml']);
	});

	test('a header that fits no separator → one error with the columns as read and the columns needed; nothing written', async () => {
		const { store, file, fixtureFiles } = await setup();
		const csv = await file('de.csv', ['id;Betreff;body;erwartet', 'x;a;b;1', 'y;c;d;2'].join('\r\n'));
		const err = (await errorOf(importFixtures(store, 'delay-days', csv))) as ConfigError;
		expect(err).toBeInstanceOf(ConfigError);
		expect(err.message).toBe(
			`${csv}:1: the header does not fit prompt "delay-days": read as semicolon-separated, the columns are "id", "Betreff", "body", "erwartet"; ` +
				`not columns of this prompt: "Betreff", "erwartet"; missing: subject, expected. ${NEEDS}`,
		);
		expect(await fixtureFiles()).toEqual([]);
	});

	test('`sep=,` on a semicolon file → the header error says it looks like a semicolon-separated file', async () => {
		const { store, file } = await setup();
		const csv = await file('wrong-sep.csv', ['sep=,', 'id;subject;body;expected', 'x;a;b;1'].join('\n'));
		const err = (await errorOf(importFixtures(store, 'delay-days', csv))) as ConfigError;
		expect(err.message).toBe(
			`${csv}:2: the header does not fit prompt "delay-days": read as comma-separated, the columns are "id;subject;body;expected"; ` +
				`not columns of this prompt: "id;subject;body;expected"; missing: subject, body, expected. ${NEEDS} ` +
				'The header holds semicolons: it looks like a semicolon-separated file, but its first line says sep=,; fix or remove that line.',
		);
	});

	test('a separator other than comma, semicolon or tab → the header error says which were tried', async () => {
		const { store, file } = await setup();
		const csv = await file('pipe.csv', ['id|subject|body|expected', 'x|a|b|1'].join('\n'));
		await expect(importFixtures(store, 'delay-days', csv)).rejects.toThrow(
			`${csv}:1: the header does not fit prompt "delay-days": read as comma-separated, the columns are "id|subject|body|expected"; ` +
				`not columns of this prompt: "id|subject|body|expected"; missing: subject, body, expected. ${NEEDS} ` +
				'No separator splits the header: tried comma, semicolon, tab; save the file with one of them.',
		);
	});

	test('header names are trimmed; a column given twice and a missing expected column are header errors', async () => {
		const { store, file } = await setup();
		const spaced = await file('spaced.csv', ['id , subject ,body, expected', 'sp,a,b,1'].join('\n'));
		expect(await importFixtures(store, 'delay-days', spaced)).toEqual({ created: ['sp'], updated: [] });
		const twice = await file('twice.csv', ['subject,inputs.subject,body', 'a,b,c'].join('\n'));
		await expect(importFixtures(store, 'delay-days', twice)).rejects.toThrow(`${twice}:1: the header does not fit prompt "delay-days": read as comma-separated, the columns are "subject", "inputs.subject", "body"; given twice: "inputs.subject"; missing: expected. ${NEEDS}`);
	});

	test('rows whose cell count differs from the header are each named, with how to quote; nothing written', async () => {
		const { store, file, fixtureFiles } = await setup();
		const csv = await file('count.csv', ['id;subject;body;expected', 'a;x;y;1', 'b;x;y; and z;2', 'c;x;y'].join('\n'));
		const err = (await errorOf(importFixtures(store, 'delay-days', csv))) as ConfigErrors;
		expect(err).toBeInstanceOf(ConfigErrors);
		expect(err.errors.map((e) => e.message)).toEqual([
			`${csv}:3: the row has 5 cells but the header has 4 columns (semicolon-separated): put cells that contain ";" or line breaks in double quotes`,
			`${csv}:4: the row has 3 cells but the header has 4 columns (semicolon-separated): put cells that contain ";" or line breaks in double quotes`,
		]);
		expect(await fixtureFiles()).toEqual([]);
	});

	test('Windows-1252 / Latin-1 bytes → error naming the line and saying to save as UTF-8; nothing written', async () => {
		const { store, file, fixtureFiles } = await setup();
		const latin1 = Buffer.concat([Buffer.from('id;subject;body;expected\r\nok;a;b;1\r\nbad;M'), Buffer.from([0xfc]), Buffer.from('ller;Gr'), Buffer.from([0xfc, 0xdf]), Buffer.from('e;2\r\n')]);
		const csv = await file('latin1.csv', latin1);
		const err = (await errorOf(importFixtures(store, 'delay-days', csv))) as ConfigError;
		expect(err.location).toEqual({ file: csv, line: 3 });
		expect(err.message).toBe(
			`${csv}:3: not UTF-8 text: the file looks saved in a legacy encoding such as Windows-1252 or Latin-1 (read that way this line says “bad;Müller;Grüße;2”); ` +
				'save it as UTF-8 (Excel: Save As → "CSV UTF-8"; Notepad or VS Code: encoding UTF-8) and import again',
		);
		const jsonl = await file('latin1.jsonl', Buffer.concat([Buffer.from(`${row('a', 'x', 1)}\n{"id": "b", "inputs": {"subject": "`), Buffer.from([0xe9]), Buffer.from('", "body": "b"}, "expected": 2}\n')]));
		await expect(importFixtures(store, 'delay-days', jsonl)).rejects.toThrow(/latin1\.jsonl:2: not UTF-8 text: .*says “\{"id": "b", "inputs": \{"subject": "é", "body": "b"\}, "expect…”\)/);
		expect(await fixtureFiles()).toEqual([]);
	});

	test('UTF-16 without a byte-order mark and UTF-32 are refused with how to re-save', async () => {
		const { store, file } = await setup();
		const noBom = await file('nobom.csv', Buffer.from('subject,body,expected\r\na,b,1\r\n', 'utf16le'));
		await expect(importFixtures(store, 'delay-days', noBom)).rejects.toThrow(`${noBom}:1: contains NUL bytes: the file looks like UTF-16 text without a byte-order mark; save it as UTF-8`);
		const utf32 = await file('u32.jsonl', Buffer.from([0xff, 0xfe, 0x00, 0x00, 0x7b, 0, 0, 0]));
		await expect(importFixtures(store, 'delay-days', utf32)).rejects.toThrow(`${utf32}: is UTF-32 text, which is not read: save it as UTF-8`);
		const broken = await file('broken.csv', Buffer.from([0xff, 0xfe, 0x61, 0x00, 0x00, 0xd8]));
		await expect(importFixtures(store, 'delay-days', broken)).rejects.toThrow(`${broken}: starts with a UTF-16 LE byte-order mark but is not valid UTF-16 LE text: save it as UTF-8`);
	});

	test('a file that is only a byte-order mark, a sep= line or blank lines has no rows', async () => {
		const { store, file } = await setup();
		await expect(importFixtures(store, 'delay-days', await file('bom.jsonl', BOM8))).rejects.toThrow(/bom\.jsonl: no rows to import/);
		await expect(importFixtures(store, 'delay-days', await file('sep.csv', 'sep=;\r\n'))).rejects.toThrow(/sep\.csv: no rows to import/);
		await expect(importFixtures(store, 'delay-days', await file('blank.csv', Buffer.concat([BOM8, Buffer.from('subject;body;expected\r\n\r\n;;\r\n')])))).rejects.toThrow(/blank\.csv: no rows to import/);
	});
});
