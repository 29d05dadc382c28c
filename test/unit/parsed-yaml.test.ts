/** The on-disk cache of parsed YAML (lib/cache/parsed-yaml.ts) and the folder registry's fixtures read through it. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as yamlIo from '../../lib/yaml-io';
import { ParsedYamlCache, PARSED_YAML_MAX_FOLDERS, survivesJson } from '../../lib/cache/parsed-yaml';
import type { Fixture } from '../../lib';
import { makeSpec, tempDir, tempRegistry } from './helpers';

afterEach(() => jest.restoreAllMocks());

async function collect(stream: AsyncIterable<Fixture>): Promise<Fixture[]> {
	const out: Fixture[] = [];
	for await (const f of stream) out.push(f);
	return out;
}

async function registryWithFixtures(n: number) {
	const { root, store } = await tempRegistry();
	const spec = makeSpec();
	await store.writeDraft(spec);
	for (let i = 0; i < n; i++) {
		await store.writeFixture('price-change', { id: `f${i}`, inputs: { subject: `s${i}`, body: `b${i}` }, expected: i % 2 === 0, source: 'manual', tags: ['t'] });
	}
	return { root, store, spec, dir: path.join(root, 'price-change', 'fixtures') };
}

test('a second pass over unchanged files parses no YAML and yields exactly what parsing does', async () => {
	const { store, spec } = await registryWithFixtures(5);
	const plain = await collect(store.streamFixtures('price-change', spec));
	store.parsedYaml = new ParsedYamlCache(await tempDir());
	const parse = jest.spyOn(yamlIo, 'parseYaml');
	expect(await collect(store.streamFixtures('price-change', spec))).toEqual(plain);
	expect(parse).toHaveBeenCalledTimes(5); // first pass: every file parsed, then saved
	parse.mockClear();
	expect(await collect(store.streamFixtures('price-change', spec))).toEqual(plain);
	expect(parse).not.toHaveBeenCalled();
	// Another process (a new cache object on the same folder) reads the same cache file.
	store.parsedYaml = new ParsedYamlCache(store.parsedYaml.dir.replace(/parsed-yaml$/, ''));
	expect(await collect(store.streamFixtures('price-change', spec))).toEqual(plain);
	expect(parse).not.toHaveBeenCalled();
});

test('an edited file is parsed again; a removed one drops out; a new one is added', async () => {
	const { store, spec, dir } = await registryWithFixtures(3);
	store.parsedYaml = new ParsedYamlCache(await tempDir());
	await collect(store.streamFixtures('price-change', spec));
	await fs.writeFile(path.join(dir, 'f1.yaml'), 'id: f1\ninputs: {subject: edited, body: b}\nexpected: true\n');
	await fs.rm(path.join(dir, 'f2.yaml'));
	await fs.writeFile(path.join(dir, 'f9.yaml'), 'id: f9\ninputs: {subject: new, body: b}\nexpected: false\n');
	const parse = jest.spyOn(yamlIo, 'parseYaml');
	const second = await collect(store.streamFixtures('price-change', spec));
	expect(second.map((f) => [f.id, f.inputs.subject, f.expected])).toEqual([
		['f0', 's0', true],
		['f1', 'edited', true],
		['f9', 'new', false],
	]);
	expect(parse.mock.calls.map((c) => path.basename(c[1]))).toEqual(['f1.yaml', 'f9.yaml']);
	const saved = JSON.parse(await fs.readFile(store.parsedYaml.folder(dir).file, 'utf8')) as { files: Record<string, unknown> };
	expect(Object.keys(saved.files).sort()).toEqual(['f0.yaml', 'f1.yaml', 'f9.yaml']);
});

test('a fixture that no longer fits the prompt is reported with its line, also when its parse came from the cache', async () => {
	const { store, spec, dir } = await registryWithFixtures(2);
	await fs.writeFile(path.join(dir, 'f1.yaml'), 'id: f1\ninputs:\n  subject: s\n  body: b\n  extra: x\nexpected: true\n');
	store.parsedYaml = new ParsedYamlCache(await tempDir());
	const problems = async () => {
		const found: string[] = [];
		await collect(store.streamFixtures('price-change', spec, (e) => void found.push(e.message)));
		return found;
	};
	const first = await problems();
	expect(first.join('\n')).toMatch(/f1\.yaml:5.*"extra" is not an input/);
	const parse = jest.spyOn(yamlIo, 'parseYaml');
	expect(await problems()).toEqual(first);
	// Parsed again only to find the line of the problem.
	expect(parse.mock.calls.map((c) => path.basename(c[1]))).toEqual(['f1.yaml']);
	await expect(collect(store.streamFixtures('price-change', spec))).rejects.toThrow(/"extra" is not an input/);
});

test('values JSON would change are never cached; a broken or foreign cache file is ignored and replaced', async () => {
	expect(survivesJson({ a: [1, 'x', null, true, { b: 2.5 }] })).toBe(true);
	expect(survivesJson({ a: Infinity })).toBe(false);
	expect(survivesJson([Number.NaN])).toBe(false);
	expect(survivesJson(-0)).toBe(false);
	expect(survivesJson(JSON.parse('{"__proto__": 1}'))).toBe(false);
	expect(survivesJson(new Date())).toBe(false);

	const folder = await tempDir();
	await fs.writeFile(path.join(folder, 'inf.yaml'), 'value: .inf\n');
	const cache = new ParsedYamlCache(await tempDir());
	const parses = cache.folder(folder);
	expect(parses.parse('inf.yaml', 'value: .inf\n', 'inf.yaml').data).toEqual({ value: Infinity });
	await parses.save();
	const parse = jest.spyOn(yamlIo, 'parseYaml');
	expect(cache.folder(folder).parse('inf.yaml', 'value: .inf\n', 'inf.yaml').data).toEqual({ value: Infinity });
	expect(parse).toHaveBeenCalledTimes(1);

	for (const broken of ['{"format": 1, "files": ', JSON.stringify({ format: 99, yaml: 'x', files: { 'a.yaml': ['h', '1'] } })]) {
		await fs.writeFile(parses.file, broken);
		const again = cache.folder(folder);
		expect(again.parse('a.yaml', 'a: 1\n', 'a.yaml').data).toEqual({ a: 1 });
		await again.save();
		expect(JSON.parse(await fs.readFile(parses.file, 'utf8'))).toMatchObject({ format: 1, files: { 'a.yaml': [expect.any(String), '{"a":1}'] } });
	}
});

test('a YAML syntax error is thrown as it is, never cached', async () => {
	const cache = new ParsedYamlCache(await tempDir());
	const folder = await tempDir();
	const parses = cache.folder(folder);
	expect(() => parses.parse('bad.yaml', 'a: [1\n', 'bad.yaml')).toThrow(/invalid YAML/);
	await parses.save();
	expect(() => cache.folder(folder).parse('bad.yaml', 'a: [1\n', 'bad.yaml')).toThrow(/invalid YAML/);
	expect(await fs.readdir(cache.dir).catch(() => [])).toEqual([]);
});

test(`at most ${PARSED_YAML_MAX_FOLDERS} folders are kept: the least recently used go`, async () => {
	const cache = new ParsedYamlCache(await tempDir());
	const files: string[] = [];
	for (let i = 0; i < PARSED_YAML_MAX_FOLDERS + 3; i++) {
		const parses = cache.folder(`/nowhere/folder-${i}`);
		parses.parse('a.yaml', `a: ${i}\n`, 'a.yaml');
		await parses.save();
		const t = new Date(Date.now() - (1000 - i) * 1000); // folder 0 used longest ago
		await fs.utimes(parses.file, t, t);
		files.push(parses.file);
	}
	const parses = cache.folder('/nowhere/last');
	parses.parse('a.yaml', 'a: 1\n', 'a.yaml');
	await parses.save();
	const left = (await fs.readdir(cache.dir)).map((n) => path.join(cache.dir, n));
	expect(left).toHaveLength(PARSED_YAML_MAX_FOLDERS);
	for (const gone of files.slice(0, 4)) expect(left).not.toContain(gone);
	expect(left).toContain(parses.file);
});

test('problems of several fixtures are all reported through the cache', async () => {
	const { store, spec, dir } = await registryWithFixtures(3);
	for (const id of ['f0', 'f2']) await fs.writeFile(path.join(dir, `${id}.yaml`), `id: ${id}\ninputs: {subject: s}\nexpected: 3\n`);
	store.parsedYaml = new ParsedYamlCache(await tempDir());
	for (let pass = 0; pass < 2; pass++) {
		const found: string[] = [];
		await collect(store.streamFixtures('price-change', spec, (e) => void found.push(e.message)));
		expect(found.filter((m) => /required input "body"/.test(m))).toHaveLength(2);
	}
});

test('a folder too large to cache holds no entries and leaves no cache file; a smaller one is cached', async () => {
	const { store, spec } = await registryWithFixtures(20);
	const dir = await tempDir();
	store.parsedYaml = new ParsedYamlCache(dir, { maxBytes: 1500 }); // about 10 of the 20 fixtures
	await collect(store.streamFixtures('price-change', spec));
	expect(await fs.readdir(path.join(dir, 'parsed-yaml')).catch(() => [])).toEqual([]);
	const parse = jest.spyOn(yamlIo, 'parseYaml');
	await collect(store.streamFixtures('price-change', spec));
	expect(parse).toHaveBeenCalledTimes(20);

	store.parsedYaml = new ParsedYamlCache(dir, { maxBytes: 100_000 });
	await collect(store.streamFixtures('price-change', spec));
	parse.mockClear();
	await collect(store.streamFixtures('price-change', spec));
	expect(parse).not.toHaveBeenCalled();
});
