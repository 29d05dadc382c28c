import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../lib/errors';
import { canonicalJson, contentHash, sha256 } from '../../lib/hash';
import { createFileExclusive, createSmallFileExclusive, fieldName, parseYaml, readYamlFile, toYaml, writeFileAtomic, writeSmallFileAtomic } from '../../lib/yaml-io';
import { makeSpec, tempDir } from './helpers';

const DOC = [
	'id: price-change', // 1
	'model:', // 2
	'  provider: openai', // 3
	'  name: gpt-4o-mini', // 4
	'  temperature: 0', // 5
	'inputs:', // 6
	'  subject:', // 7
	'    type: string', // 8
	'rules:', // 9
	'  - first', // 10
	'  - second', // 11
	'',
].join('\n');

describe('parseYaml', () => {
	test('parses a document', () => {
		const loaded = parseYaml(DOC, 'p.yaml');
		expect(loaded.file).toBe('p.yaml');
		expect(loaded.data).toMatchObject({ id: 'price-change', model: { name: 'gpt-4o-mini' }, rules: ['first', 'second'] });
	});

	test('invalid YAML → ConfigError naming file and line', () => {
		const text = 'id: x\nmodel:\n  name: "unterminated\n  provider: openai\n';
		let error: unknown;
		try {
			parseYaml(text, 'reg/x/prompt.yaml');
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ConfigError);
		const ce = error as ConfigError;
		expect(ce.location.file).toBe('reg/x/prompt.yaml');
		expect(ce.location.line).toBeGreaterThanOrEqual(3);
		expect(ce.message).toMatch(new RegExp(`^reg/x/prompt\\.yaml:${ce.location.line}: invalid YAML`));
	});

	test('a bad indentation is reported at its line', () => {
		const text = 'a: 1\nb:\n  c: 2\n d: 3\n';
		expect(() => parseYaml(text, 'f.yaml')).toThrow(/^f\.yaml:4: invalid YAML/);
	});

	test('duplicate keys are an error with a line', () => {
		expect(() => parseYaml('a: 1\nb: 2\na: 3\n', 'f.yaml')).toThrow(/^f\.yaml:3: invalid YAML/);
	});

	test('an unresolved alias or an alias bomb is a ConfigError naming the file', () => {
		expect(() => parseYaml('a: *nope\n', 'g.yaml')).toThrow(ConfigError);
		expect(() => parseYaml('a: *nope\n', 'g.yaml')).toThrow(/^g\.yaml: invalid YAML: Unresolved alias/);
		const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
		let prev = 'a';
		for (const n of ['b', 'c', 'd', 'e', 'f', 'g']) {
			lines.push(`${n}: &${n} [${Array(10).fill(`*${prev}`).join(', ')}]`);
			prev = n;
		}
		expect(() => parseYaml(lines.join('\n'), 'bomb.yaml')).toThrow(/^bomb\.yaml: invalid YAML: Excessive alias count/);
	});

	test('anchors and aliases within limits are resolved', () => {
		expect(parseYaml('base: &b {type: string}\ninputs: {a: *b}\n', 'f.yaml').data).toEqual({ base: { type: 'string' }, inputs: { a: { type: 'string' } } });
	});

	test('lineOf: top-level, nested, list items', () => {
		const { lineOf } = parseYaml(DOC, 'p.yaml');
		expect(lineOf(['id'])).toBe(1);
		expect(lineOf(['model', 'name'])).toBe(4);
		expect(lineOf(['model', 'temperature'])).toBe(5);
		expect(lineOf(['inputs', 'subject', 'type'])).toBe(8);
		expect(lineOf(['rules', 1])).toBe(11);
	});

	test('lineOf: a field whose value is a mapping points at the field itself', () => {
		const { lineOf } = parseYaml(DOC, 'p.yaml');
		expect(lineOf(['model'])).toBe(2);
		expect(lineOf(['inputs', 'subject'])).toBe(7);
	});

	test('lineOf: a missing field points at its nearest existing parent', () => {
		const { lineOf } = parseYaml(DOC, 'p.yaml');
		expect(lineOf(['model', 'maxTokens'])).toBe(2);
		expect(lineOf(['inputs', 'subject', 'required'])).toBe(7);
		expect(lineOf(['nope'])).toBe(1);
		expect(lineOf([])).toBe(1);
	});

	test('fieldName renders paths as users write them', () => {
		expect(fieldName(['model', 'name'])).toBe('model.name');
		expect(fieldName(['rules', 2, 'when'])).toBe('rules[2].when');
		expect(fieldName([])).toBe('');
	});
});

describe('readYamlFile', () => {
	test('a missing file is a ConfigError with the file', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'missing.yaml');
		await expect(readYamlFile(file)).rejects.toThrow(ConfigError);
		await expect(readYamlFile(file)).rejects.toThrow(/ENOENT/);
	});

	test('reads and parses', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'a.yaml');
		await fs.writeFile(file, 'a: [1, 2]\n');
		expect((await readYamlFile(file)).data).toEqual({ a: [1, 2] });
	});
});

describe('writeFileAtomic / createFileExclusive', () => {
	test('atomic write replaces the content and leaves no temp file', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'sub', 'x.yaml');
		await writeFileAtomic(file, 'one\n');
		await writeFileAtomic(file, 'two\n');
		expect(await fs.readFile(file, 'utf8')).toBe('two\n');
		expect(await fs.readdir(path.dirname(file))).toEqual(['x.yaml']);
	});

	test('many concurrent atomic writes: one whole content wins, no temp files', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'x.txt');
		const contents = Array.from({ length: 20 }, (_, i) => `${i}`.repeat(1000));
		await Promise.all(contents.map((c) => writeFileAtomic(file, c)));
		expect(contents).toContain(await fs.readFile(file, 'utf8'));
		expect(await fs.readdir(dir)).toEqual(['x.txt']);
	});

	test('a failed atomic write leaves no temp file behind', async () => {
		const dir = await tempDir();
		const target = path.join(dir, 'target');
		await fs.mkdir(path.join(target, 'child'), { recursive: true }); // a non-empty directory cannot be replaced by a file
		await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
		expect((await fs.readdir(dir)).sort()).toEqual(['target']);
	});

	test('createFileExclusive creates once and refuses an existing file, leaving it untouched', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'versions', '1.yaml');
		expect(await createFileExclusive(file, 'first')).toBe(true);
		expect(await createFileExclusive(file, 'second')).toBe(false);
		expect(await fs.readFile(file, 'utf8')).toBe('first');
		expect(await fs.readdir(path.dirname(file))).toEqual(['1.yaml']);
	});

	test('createFileExclusive under contention: exactly one winner', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'run.json');
		const results = await Promise.all(Array.from({ length: 10 }, (_, i) => createFileExclusive(file, `writer ${i}`)));
		expect(results.filter(Boolean)).toHaveLength(1);
		const winner = results.indexOf(true);
		expect(await fs.readFile(file, 'utf8')).toBe(`writer ${winner}`);
		expect(await fs.readdir(dir)).toEqual(['run.json']);
	});

	test('writeSmallFileAtomic replaces the content, the old one still readable by a reader that opened it, and leaves no extra name behind', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'fixtures', 'f.yaml');
		await writeSmallFileAtomic(file, 'one\n');
		const reader = await fs.open(file, 'r');
		try {
			await writeSmallFileAtomic(file, 'two\n');
			await writeSmallFileAtomic(file, 'three\n');
			expect(await fs.readFile(file, 'utf8')).toBe('three\n');
			expect(await reader.readFile('utf8')).toBe('one\n');
		} finally {
			await reader.close();
		}
		expect(await fs.readdir(path.dirname(file))).toEqual(['f.yaml']);
		expect((await fs.stat(file)).nlink).toBe(1);
	});

	test('a failed writeSmallFileAtomic leaves the target as it was and no extra name behind', async () => {
		const dir = await tempDir();
		const target = path.join(dir, 'target');
		await fs.mkdir(path.join(target, 'child'), { recursive: true }); // a non-empty directory cannot be replaced by a file
		await expect(writeSmallFileAtomic(target, 'x')).rejects.toThrow();
		expect((await fs.readdir(dir)).sort()).toEqual(['target']);
		expect(await fs.readdir(target)).toEqual(['child']);
	});

	test('createSmallFileExclusive creates once (making a missing folder), refuses an existing file untouched, leaves no temp file', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'fixtures', 'a.yaml');
		expect(await createSmallFileExclusive(file, 'first')).toBe(true);
		expect(await createSmallFileExclusive(file, 'second')).toBe(false);
		expect(await fs.readFile(file, 'utf8')).toBe('first');
		expect(await fs.readdir(path.dirname(file))).toEqual(['a.yaml']);
	});

	test('createSmallFileExclusive: of 10 writers of one file exactly one wins, its content whole', async () => {
		const dir = await tempDir();
		const file = path.join(dir, 'f.yaml');
		const results = await Promise.all(Array.from({ length: 10 }, (_, i) => createSmallFileExclusive(file, `writer ${i}\n`.repeat(100))));
		expect(results.filter(Boolean)).toHaveLength(1);
		expect(await fs.readFile(file, 'utf8')).toBe(`writer ${results.indexOf(true)}\n`.repeat(100));
		expect(await fs.readdir(dir)).toEqual(['f.yaml']);
	});

	test('createSmallFileExclusive fails with the file system error, leaving no temp file', async () => {
		const dir = await tempDir();
		await fs.writeFile(path.join(dir, 'not-a-folder'), 'x');
		await expect(createSmallFileExclusive(path.join(dir, 'not-a-folder', 'a.yaml'), 'x')).rejects.toMatchObject({ code: 'ENOTDIR' });
		expect(await fs.readdir(dir)).toEqual(['not-a-folder']);
	});

	test('toYaml round-trips through parseYaml', () => {
		const value = { a: 'yes', b: 'multi\nline\n', c: 0.1, d: null, e: ['x', 1, true], f: '{{var}}', g: '12' };
		expect(parseYaml(toYaml(value), 'x').data).toEqual(value);
	});
});

describe('hash', () => {
	test('canonicalJson sorts keys at every level and drops undefined', () => {
		expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
		expect(canonicalJson(undefined)).toBe('null');
		expect(canonicalJson('x')).toBe('"x"');
	});

	test('contentHash is stable under key order and changes with content', () => {
		const a = makeSpec();
		const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
		expect(Object.keys(reordered)[0]).not.toBe(Object.keys(a)[0]);
		expect(contentHash(reordered)).toBe(contentHash(a));
		expect(contentHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
		expect(contentHash(makeSpec({ template: a.template + ' ' }))).not.toBe(contentHash(a));
		expect(contentHash(makeSpec({ output: { type: 'integer' } }))).not.toBe(contentHash(a));
	});

	test('sha256 of a known string', () => {
		expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
	});
});
