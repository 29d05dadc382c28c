/** `fixtures import`: JSONL and CSV rows become fixture files; one bad row writes nothing. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cli, listFiles, makeRegistry, write } from './helpers';

async function fixture(promptDir: string, id: string): Promise<Record<string, unknown>> {
	return parseYaml(await fs.readFile(path.join(promptDir, 'fixtures', `${id}.yaml`), 'utf8')) as Record<string, unknown>;
}

test('JSONL rows are created, then updated on a second import', async () => {
	const { cwd, promptDir } = await makeRegistry({ fixtures: [] });
	const rows = [
		{ id: 'surcharge', inputs: { subject: 'Energy surcharge', body: 'From May we add a 2% energy surcharge.' }, expected: true, segment: 'surcharge' },
		{ inputs: { subject: 'Invoice 77', body: 'Please find invoice 77 attached.' }, expected: 'no' },
	];
	await write(cwd, 'rows.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
	const first = await cli(['fixtures', 'import', 'price-change', 'rows.jsonl'], cwd);
	expect(first.stderr).toBe('');
	expect(first.code).toBe(0);
	expect(first.stdout.trim()).toBe('imported 2 fixtures into price-change: 2 created, 0 updated');
	// The fixture files; `fixtures/.index/` beside them is the documented inputs index, not a fixture.
	const files = (await listFiles(path.join(promptDir, 'fixtures'))).filter((f) => !f.startsWith('.index/'));
	expect(files).toHaveLength(2);
	expect(files).toContain('surcharge.yaml');
	const generated = files.find((f) => f.startsWith('import-'))!;
	expect(generated).toMatch(/^import-[0-9a-f]{16}\.yaml$/);
	expect(await fixture(promptDir, 'surcharge')).toEqual({ ...rows[0], source: 'import' });
	expect(await fixture(promptDir, generated.replace('.yaml', ''))).toMatchObject({ expected: false, source: 'import' });

	await write(cwd, 'rows.jsonl', JSON.stringify({ ...rows[0], expected: false }) + '\n');
	const second = await cli(['fixtures', 'import', 'price-change', 'rows.jsonl'], cwd);
	expect(second.stdout.trim()).toBe('imported 1 fixture into price-change: 0 created, 1 updated');
	expect(await fixture(promptDir, 'surcharge')).toMatchObject({ expected: false });
});

test('CSV columns become inputs, expected and segment, converted to the declared types', async () => {
	const { cwd, promptDir } = await makeRegistry({ fixtures: [] });
	await write(cwd, 'rows.csv', 'id,subject,body,expected,segment\nnew-list,Catalogue,"New price list, valid from June",yes,catalogue\nthanks,Thank you,"Thanks for your order",false,\n');
	const result = await cli(['fixtures', 'import', 'price-change', 'rows.csv'], cwd);
	expect(result.code).toBe(0);
	expect(result.stdout.trim()).toBe('imported 2 fixtures into price-change: 2 created, 0 updated');
	expect(await fixture(promptDir, 'new-list')).toEqual({
		id: 'new-list',
		inputs: { subject: 'Catalogue', body: 'New price list, valid from June' },
		expected: true,
		segment: 'catalogue',
		source: 'import',
	});
	expect(await fixture(promptDir, 'thanks')).toEqual({ id: 'thanks', inputs: { subject: 'Thank you', body: 'Thanks for your order' }, expected: false, source: 'import' });
});

test('a bad row exits 2 naming file and line, and no fixture is written', async () => {
	const { cwd, promptDir } = await makeRegistry();
	const before = await listFiles(promptDir);
	await write(cwd, 'rows.csv', 'id,subject,body,expected\ngood-row,Prices,New prices from May,true\nbad-row,Hello,Just saying hello,maybe\n');
	const csv = await cli(['fixtures', 'import', 'price-change', 'rows.csv'], cwd);
	expect(csv.code).toBe(2);
	expect(csv.stdout).toBe('');
	expect(csv.stderr.trim()).toMatch(/^prompt-release: rows\.csv:3 field "expected": expected "maybe" is not a boolean: write true or false \(also read: yes\/no, y\/n, 1\/0\), not "maybe"/);

	await write(cwd, 'rows.jsonl', '{"id": "fine", "inputs": {"subject": "a", "body": "b"}, "expected": true}\n{"inputs": {"subject": "a"\n');
	const jsonl = await cli(['fixtures', 'import', 'price-change', 'rows.jsonl'], cwd);
	expect(jsonl.code).toBe(2);
	expect(jsonl.stderr).toMatch(/^prompt-release: rows\.jsonl:2: not valid JSON/);

	const unknownType = await cli(['fixtures', 'import', 'price-change', 'rows.txt'], cwd);
	expect(unknownType.code).toBe(2);
	expect(await listFiles(promptDir)).toEqual(before);
});

describe('files as spreadsheets and shells save them', () => {
	const BOM8 = Buffer.from([0xef, 0xbb, 0xbf]);
	const save = (cwd: string, name: string, bytes: Buffer) => fs.writeFile(path.join(cwd, name), bytes);

	test('JSONL from Windows PowerShell (UTF-8 BOM, CRLF) is imported', async () => {
		const { cwd, promptDir } = await makeRegistry({ fixtures: [] });
		const lines = [JSON.stringify({ id: 'ps-1', inputs: { subject: 'Preiserhöhung', body: 'Ab Mai +3 %.' }, expected: true }), JSON.stringify({ id: 'ps-2', inputs: { subject: 'Hallo', body: 'Grüße' }, expected: false }), ''];
		await save(cwd, 'rows.jsonl', Buffer.concat([BOM8, Buffer.from(lines.join('\r\n'))]));
		const result = await cli(['fixtures', 'import', 'price-change', 'rows.jsonl'], cwd);
		expect(result.stderr).toBe('');
		expect(result.stdout.trim()).toBe('imported 2 fixtures into price-change: 2 created, 0 updated');
		expect(await fixture(promptDir, 'ps-1')).toEqual({ id: 'ps-1', inputs: { subject: 'Preiserhöhung', body: 'Ab Mai +3 %.' }, expected: true, source: 'import' });
	});

	test('CSV from a German-locale spreadsheet (BOM, CRLF, sep=; line, ";" separator, quoted ";") is imported', async () => {
		const { cwd, promptDir } = await makeRegistry({ fixtures: [] });
		const text = ['sep=;', 'id;subject;body;expected', 'de-1;Preisliste;"Neue Preise; gültig ab Juni";yes', 'de-2;Danke;Danke für Ihre Bestellung;no', ';;;', ''].join('\r\n');
		await save(cwd, 'rows.csv', Buffer.concat([BOM8, Buffer.from(text)]));
		const result = await cli(['fixtures', 'import', 'price-change', 'rows.csv'], cwd);
		expect(result.stderr).toBe('');
		expect(result.stdout.trim()).toBe('imported 2 fixtures into price-change: 2 created, 0 updated');
		expect(await fixture(promptDir, 'de-1')).toEqual({ id: 'de-1', inputs: { subject: 'Preisliste', body: 'Neue Preise; gültig ab Juni' }, expected: true, source: 'import' });
	});

	test('Excel "Unicode text" (UTF-16 LE with BOM, tab-separated) saved as .tsv is imported', async () => {
		const { cwd, promptDir } = await makeRegistry({ fixtures: [] });
		const text = ['id\tsubject\tbody\texpected', 'u16\tÄnderung\tPreise steigen\ttrue', ''].join('\r\n');
		await save(cwd, 'rows.tsv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
		const result = await cli(['fixtures', 'import', 'price-change', 'rows.tsv'], cwd);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(await fixture(promptDir, 'u16')).toEqual({ id: 'u16', inputs: { subject: 'Änderung', body: 'Preise steigen' }, expected: true, source: 'import' });
	});

	test('a header that does not fit exits 2 with one error: the columns as read and the columns needed; nothing written', async () => {
		const { cwd, promptDir } = await makeRegistry();
		const before = await listFiles(promptDir);
		await write(cwd, 'rows.csv', 'id;Betreff;Text;erwartet\r\na;b;c;true\r\nd;e;f;false\r\n');
		const result = await cli(['fixtures', 'import', 'price-change', 'rows.csv'], cwd);
		expect(result.code).toBe(2);
		expect(result.stdout).toBe('');
		expect(result.stderr).toBe(
			'prompt-release: rows.csv:1: the header does not fit prompt "price-change": read as semicolon-separated, the columns are "id", "Betreff", "Text", "erwartet"; ' +
				'not columns of this prompt: "Betreff", "Text", "erwartet"; missing: subject, body, expected. ' +
				'The prompt needs the columns subject, body, expected; optional: id, segment, tags, note, source (an input column may also be written inputs.<name>).\n',
		);
		expect(await listFiles(promptDir)).toEqual(before);
	});

	test('a Windows-1252 file exits 2 naming the line and saying to save as UTF-8; nothing written', async () => {
		const { cwd, promptDir } = await makeRegistry();
		const before = await listFiles(promptDir);
		await save(cwd, 'rows.csv', Buffer.concat([Buffer.from('id;subject;body;expected\r\nok;a;b;true\r\nbad;Preiserh'), Buffer.from([0xf6]), Buffer.from('hung;x;true\r\n')]));
		const result = await cli(['fixtures', 'import', 'price-change', 'rows.csv'], cwd);
		expect(result.code).toBe(2);
		expect(result.stderr).toBe(
			'prompt-release: rows.csv:3: not UTF-8 text: the file looks saved in a legacy encoding such as Windows-1252 or Latin-1 (read that way this line says “bad;Preiserhöhung;x;true”); ' +
				'save it as UTF-8 (Excel: Save As → "CSV UTF-8"; Notepad or VS Code: encoding UTF-8) and import again\n',
		);
		expect(await listFiles(promptDir)).toEqual(before);
	});
});
