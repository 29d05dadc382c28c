import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ConfigErrors } from '../../lib/errors';
import { contentHash } from '../../lib/hash';
import { commitDraft } from '../../lib/registry/commit';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { assertPromptId } from '../../lib/registry/formats';
import type { FrozenVersion, HistoryEntry, RunReport } from '../../lib/types';
import { fixture, makeSpec, runReport, tempRegistry, writeDraftFile, writeFixtureFile, writeText } from './helpers';

const DRAFT = `id: price-change
description: Does the email announce a price change?
model:
  provider: openai
  name: gpt-4o-mini
  temperature: 0
  maxTokens: 50
inputs:
  subject: {type: string, required: true}
  body: {type: string}
instructions: You read supplier emails.
template: "Subject: {{subject}}\\n\\n{{body}}"
output:
  type: boolean
limitations: English only.
`;

async function errorOf(p: Promise<unknown>): Promise<Error> {
	try {
		await p;
	} catch (e) {
		return e as Error;
	}
	throw new Error('expected a rejection');
}

describe('prompt ids', () => {
	test('assertPromptId accepts portable names and rejects paths', () => {
		expect(() => assertPromptId('price-change_2')).not.toThrow();
		for (const bad of ['../etc', 'a/b', '..', '.', '.hidden', 'a\\b', '', 'x'.repeat(65), 'a b', '-lead']) {
			expect(() => assertPromptId(bad)).toThrow(ConfigError);
		}
	});

	test('every store method rejects a prompt id with "/" or ".."', async () => {
		const { store, root } = await tempRegistry();
		const frozen = { version: 1, contentHash: contentHash(makeSpec()), createdAt: 'x', prompt: makeSpec() } as FrozenVersion;
		for (const bad of ['../escape', 'a/b', '..']) {
			const calls: Array<() => Promise<unknown>> = [
				() => store.readDraft(bad),
				() => store.writeDraft(makeSpec({ id: bad })),
				() => store.listVersions(bad),
				() => store.readVersion(bad, 1),
				() => store.createVersion(bad, frozen),
				() => store.listFixtures(bad),
				() => store.readFixture(bad, 'f1'),
				() => store.writeFixture(bad, fixture('f1', {}, true)),
				() => store.readReleases(bad),
				() => store.updateReleases(bad, (s) => s),
				() => store.writeRun(runReport({ promptId: bad, results: [] })),
				() => store.readRun(bad, 'run-1'),
				() => store.listRuns(bad),
			];
			for (const call of calls) {
				const error = await errorOf(call());
				expect(error).toBeInstanceOf(ConfigError);
				expect(error.message).toMatch(/prompt id .* is invalid/);
			}
		}
		// nothing was written anywhere
		expect(await fs.readdir(root)).toEqual([]);
		expect(await fs.readdir(path.dirname(root))).not.toContain('escape');
	});

	test('fixture ids and run ids are checked too', async () => {
		const { store } = await tempRegistry();
		await expect(store.readFixture('p', '../x')).rejects.toThrow(/fixture id "..\/x" is invalid/);
		await expect(store.writeFixture('p', fixture('a/b', {}, true))).rejects.toThrow(/fixture id/);
		await expect(store.readRun('p', '../x')).rejects.toThrow(/run id/);
		await expect(store.writeRun(runReport({ runId: 'a/b', promptId: 'p', results: [] }))).rejects.toThrow(/run id/);
	});
});

describe('drafts', () => {
	test('readDraft parses, applies defaults and round-trips through writeDraft', async () => {
		const { store, root } = await tempRegistry();
		await writeDraftFile(root, 'price-change', DRAFT);
		const spec = await store.readDraft('price-change');
		expect(spec.inputs.body).toEqual({ type: 'string', required: true });
		expect(spec.template).toBe('Subject: {{subject}}\n\n{{body}}');
		expect(spec.output).toEqual({ type: 'boolean' });
		expect('tools' in spec).toBe(false);
		await store.writeDraft({ ...spec, description: 'changed' });
		const again = await store.readDraft('price-change');
		expect(again).toEqual({ ...spec, description: 'changed' });
	});

	test('tools and retrieval are carried verbatim', async () => {
		const { store, root } = await tempRegistry();
		await writeDraftFile(root, 'price-change', `${DRAFT}tools:\n  - name: lookup\n    args: {a: 1}\nretrieval: {index: docs, k: 3}\n`);
		const spec = await store.readDraft('price-change');
		expect(spec.tools).toEqual([{ name: 'lookup', args: { a: 1 } }]);
		expect(spec.retrieval).toEqual({ index: 'docs', k: 3 });
	});

	test('a missing prompt names the known prompts', async () => {
		const { store, root } = await tempRegistry();
		await writeDraftFile(root, 'price-change', DRAFT);
		await expect(store.readDraft('nope')).rejects.toThrow(/prompt "nope" not found .*\(prompts: price-change\)/);
	});

	test('a bad field: ConfigError with file:line and field', async () => {
		const { store, root } = await tempRegistry();
		const file = await writeDraftFile(root, 'price-change', DRAFT.replace('provider: openai', 'provider: gemini'));
		const error = (await errorOf(store.readDraft('price-change'))) as ConfigError;
		expect(error).toBeInstanceOf(ConfigError);
		expect(error.location).toEqual({ file, field: 'model.provider', line: 4 });
		expect(error.message).toBe(`${file}:4 field "model.provider": must be one of openai, anthropic, openai-compatible`);
	});

	test('several bad fields → ConfigErrors, each with its line', async () => {
		const { store, root } = await tempRegistry();
		const text = DRAFT.replace('temperature: 0', 'temperature: 5').replace('type: boolean', 'type: float').replace('maxTokens: 50', 'maxTokens: 1.5');
		await writeDraftFile(root, 'price-change', text);
		const error = (await errorOf(store.readDraft('price-change'))) as ConfigErrors;
		expect(error).toBeInstanceOf(ConfigErrors);
		const located = error.errors.map((e) => [e.location.field, e.location.line]);
		expect(located).toEqual([
			['model.temperature', 6],
			['model.maxTokens', 7],
			['output.type', 14],
		]);
	});

	test('id must equal the folder name; a bad input name is reported at its line', async () => {
		const { store, root } = await tempRegistry();
		await writeDraftFile(root, 'price-change', DRAFT.replace('id: price-change', 'id: other').replace('  body: {type: string}', '  body: {type: string}\n  _ok: {type: string, required: false}\n  9bad: {type: string, required: false}'));
		const error = (await errorOf(store.readDraft('price-change'))) as ConfigErrors;
		expect(error.errors.map((e) => [e.location.field, e.location.line, e.message.replace(/^.*?: /, '')])).toEqual([
			['id', 1, 'is "other" but the folder is "price-change": they must be equal'],
			['inputs.9bad', 12, '"9bad" is not a variable name (letters, digits, "_")'],
		]);
	});

	test('unknown fields and a missing output are reported together', async () => {
		const { store, root } = await tempRegistry();
		const text = DRAFT.replace(/output:\n {2}type: boolean\n/, '').replace('limitations', 'limitation') + 'inputs2: 1\n';
		await writeDraftFile(root, 'price-change', text);
		const error = (await errorOf(store.readDraft('price-change'))) as ConfigErrors;
		const lines = text.split('\n');
		const lineOf = (start: string) => lines.findIndex((l) => l.startsWith(start)) + 1;
		expect(error.errors.map((e) => [e.location.field, e.location.line, e.message.replace(/^.*?: /, '')])).toEqual(
			expect.arrayContaining([
				['limitation', lineOf('limitation:'), 'unknown field "limitation": remove or rename it'],
				['inputs2', lineOf('inputs2:'), 'unknown field "inputs2": remove or rename it'],
			]),
		);
		expect(error.errors.map((e) => e.message).join('\n')).toMatch(/field "output": is required/);
	});

	test('an unknown key in a nested mapping is reported at its own line and path', async () => {
		const { store, root } = await tempRegistry();
		const text = DRAFT.replace('temperature: 0', 'temperature: 0\n  temprature: 1').replace('  body: {type: string}', '  body: {type: string, requred: true}');
		const file = await writeDraftFile(root, 'price-change', text);
		const error = (await errorOf(store.readDraft('price-change'))) as ConfigErrors;
		const lines = text.split('\n');
		expect(error.errors.map((e) => e.location)).toEqual([
			{ file, field: 'model.temprature', line: lines.findIndex((l) => l.includes('temprature:')) + 1 },
			{ file, field: 'inputs.body.requred', line: lines.findIndex((l) => l.includes('requred')) + 1 },
		]);
	});

	test('a placeholder without a declared input is reported at the template line', async () => {
		const { store, root } = await tempRegistry();
		await writeDraftFile(root, 'price-change', DRAFT.replace('{{body}}', '{{sender}}'));
		const error = (await errorOf(store.readDraft('price-change'))) as ConfigError;
		expect(error.location).toMatchObject({ field: 'template', line: 12 });
		expect(error.message).toMatch(/placeholder \{\{sender\}\} has no declared input: add inputs\.sender/);
	});

	test('invalid YAML in prompt.yaml → ConfigError with file and line', async () => {
		const { store, root } = await tempRegistry();
		const file = await writeDraftFile(root, 'price-change', 'id: price-change\nmodel: [unclosed\n');
		const error = (await errorOf(store.readDraft('price-change'))) as ConfigError;
		expect(error).toBeInstanceOf(ConfigError);
		expect(error.location.file).toBe(file);
		expect(error.location.line).toBeGreaterThanOrEqual(2);
	});

	test('listPrompts lists folders with a prompt.yaml; a missing registry is a clear error', async () => {
		const { store, root } = await tempRegistry();
		await writeDraftFile(root, 'b-prompt', DRAFT.replace('id: price-change', 'id: b-prompt'));
		await writeDraftFile(root, 'a-prompt', DRAFT.replace('id: price-change', 'id: a-prompt'));
		await fs.mkdir(path.join(root, 'empty'));
		expect(await store.listPrompts()).toEqual(['a-prompt', 'b-prompt']);
		await expect(new FileRegistryStore(path.join(root, 'nope')).listPrompts()).rejects.toThrow(/registry folder not found/);
	});
});

describe('versions', () => {
	test('createVersion is exclusive and readVersion verifies the hash', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const frozen = await commitDraft(store, 'price-change', { now: new Date('2026-01-01T00:00:00Z'), author: 'ann', message: 'first' });
		expect(await store.listVersions('price-change')).toEqual([1]);
		expect(await store.createVersion('price-change', { ...frozen, message: 'overwrite?' })).toBe(false);
		const read = await store.readVersion('price-change', 1);
		expect(read).toEqual(frozen);
		expect(read.message).toBe('first');
	});

	test('a hand edit of a frozen version → hash mismatch error telling to restore it', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await commitDraft(store, 'price-change');
		const file = path.join(root, 'price-change', 'versions', '1.yaml');
		const text = await fs.readFile(file, 'utf8');
		await fs.writeFile(file, text.replace('English only.', 'English and French.'));
		const error = (await errorOf(store.readVersion('price-change', 1))) as ConfigError;
		expect(error).toBeInstanceOf(ConfigError);
		expect(error.location.field).toBe('contentHash');
		expect(error.location.line).toBe(text.split('\n').findIndex((l) => l.startsWith('contentHash:')) + 1);
		expect(error.message).toMatch(/content hash mismatch: the file records sha256:[0-9a-f]{64} but its content hashes to sha256:[0-9a-f]{64}.*restore the file from git/);
	});

	test('a version file named differently from its version, and a missing version', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await commitDraft(store, 'price-change');
		const dir = path.join(root, 'price-change', 'versions');
		await fs.copyFile(path.join(dir, '1.yaml'), path.join(dir, '2.yaml'));
		await expect(store.readVersion('price-change', 2)).rejects.toThrow(/field "version": is 1 but the file is named 2\.yaml/);
		await expect(store.readVersion('price-change', 7)).rejects.toThrow(/has no version 7 \(versions: 1, 2\)/);
	});

	test('listVersions sorts numerically and ignores other files', async () => {
		const { store, root } = await tempRegistry();
		const dir = path.join(root, 'p', 'versions');
		for (const f of ['10.yaml', '2.yaml', '1.yaml', '01.yaml', 'notes.md', '3.yml']) await writeText(path.join(dir, f), 'x');
		expect(await store.listVersions('p')).toEqual([1, 2, 10]);
		expect(await store.listVersions('none')).toEqual([]);
	});
});

describe('fixtures', () => {
	const spec = makeSpec({ inputs: { subject: { type: 'string', required: true }, count: { type: 'number', required: false } } , template: '{{subject}} {{count}}' });

	test('write, read and list fixtures validated against the spec', async () => {
		const { store } = await tempRegistry();
		await store.writeFixture('price-change', fixture('b', { subject: 'x' }, true, { segment: 'de', note: 'n' }));
		await store.writeFixture('price-change', fixture('a', { subject: 'y', count: 2 }, false));
		const listed = await store.listFixtures('price-change', spec);
		expect(listed.map((f) => f.id)).toEqual(['a', 'b']);
		expect(listed[1]).toEqual({ id: 'b', inputs: { subject: 'x' }, expected: true, segment: 'de', note: 'n', source: 'manual' });
		expect(await store.readFixture('price-change', 'missing')).toBeUndefined();
	});

	test('a fixture without expected → error naming the field and the file', async () => {
		const { store, root } = await tempRegistry();
		const file = await writeFixtureFile(root, 'price-change', { id: 'f1', inputs: { subject: 'x' } });
		const error = (await errorOf(store.listFixtures('price-change', spec))) as ConfigError;
		expect(error).toBeInstanceOf(ConfigError);
		expect(error.location.field).toBe('expected');
		expect(error.location.file).toBe(file);
		expect(error.message).toMatch(/field "expected": is required/);
	});

	test('a fixture without expected and with another problem reports both', async () => {
		const { store, root } = await tempRegistry();
		await writeFixtureFile(root, 'price-change', { id: 'f1', inputs: { subject: 'x' }, source: 'robot' });
		const error = (await errorOf(store.readFixture('price-change', 'f1', spec))) as ConfigErrors;
		expect(error).toBeInstanceOf(ConfigErrors);
		expect(error.errors.map((e) => e.location.field).sort()).toEqual(['expected', 'source']);
	});

	test('expected and inputs are checked against the prompt: type, schema, unknown and missing inputs', async () => {
		const { store, root } = await tempRegistry();
		await writeFixtureFile(root, 'price-change', { id: 'f1', inputs: { count: 'two', sender: 'x' }, expected: 'yes' });
		const error = (await errorOf(store.readFixture('price-change', 'f1', spec))) as ConfigErrors;
		const byField = Object.fromEntries(error.errors.map((e) => [e.location.field, e.message]));
		expect(byField['inputs.count']).toMatch(/must be a number/);
		expect(byField['inputs.sender']).toMatch(/"sender" is not an input of prompt "price-change" \(declared: subject, count\)/);
		expect(byField['inputs']).toMatch(/required input "subject" is missing/);
		expect(byField['expected']).toMatch(/does not match the declared schema/);
		// without the spec, only the file format is checked
		expect((await store.readFixture('price-change', 'f1'))?.expected).toBe('yes');
	});

	test('fixture inputs named like Object.prototype members are neither declared nor present by inheritance', async () => {
		const { store, root } = await tempRegistry();
		await writeFixtureFile(root, 'price-change', { id: 'f1', inputs: { subject: 'x', toString: 'y', constructor: 'z' }, expected: true });
		const error = (await errorOf(store.readFixture('price-change', 'f1', spec))) as ConfigErrors;
		expect(error.errors.map((e) => [e.location.field, e.message])).toEqual([
			['inputs.toString', expect.stringContaining('"toString" is not an input')],
			['inputs.constructor', expect.stringContaining('"constructor" is not an input')],
		]);
		// A declared input "constructor" missing from the fixture is missing, not "must be a string".
		const ctorSpec = makeSpec({ inputs: { constructor: { type: 'string' as const, required: true } }, template: '{{constructor}}' });
		await writeFixtureFile(root, 'price-change', { id: 'f2', inputs: {}, expected: true });
		await expect(store.readFixture('price-change', 'f2', ctorSpec)).rejects.toThrow(/field "inputs": required input "constructor" is missing/);
		// A non-finite number is wrong-typed, as at run time.
		await writeText(path.join(root, 'price-change', 'fixtures', 'f3.yaml'), 'id: f3\ninputs: {subject: x, count: .nan}\nexpected: true\n');
		await expect(store.readFixture('price-change', 'f3', spec)).rejects.toThrow(/f3\.yaml:2 field "inputs\.count": must be a number/);
	});

	test('a fixture whose id differs from its file name is refused', async () => {
		const { store, root } = await tempRegistry();
		await writeText(path.join(root, 'price-change', 'fixtures', 'f1.yaml'), 'id: f2\ninputs: {subject: x}\nexpected: true\n');
		await expect(store.readFixture('price-change', 'f1')).rejects.toThrow(/field "id": is "f2" but the file is named f1\.yaml/);
	});
});

describe('releases', () => {
	const entry = (i: number): HistoryEntry => ({ at: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`, action: 'release', channel: 'production', version: 1, by: `user-${i}`, reason: `r${i}` });

	test('no releases.yaml → empty state', async () => {
		const { store } = await tempRegistry();
		expect(await store.readReleases('price-change')).toEqual({ channels: {}, history: [] });
	});

	test('updateReleases of an unknown prompt fails and creates nothing', async () => {
		const { store, root } = await tempRegistry();
		await expect(store.updateReleases('typo', (s) => s)).rejects.toThrow(/prompt "typo" not found/);
		expect(await fs.readdir(root)).toEqual([]);
	});

	test('many concurrent updateReleases lose no history entry', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const n = 15;
		await Promise.all(
			Array.from({ length: n }, (_, i) =>
				store.updateReleases('price-change', async (s) => {
					await new Promise((r) => setTimeout(r, 1)); // widen the read-modify-write window
					return { ...s, history: [...s.history, entry(i)] };
				}),
			),
		);
		const state = await store.readReleases('price-change');
		expect(state.history).toHaveLength(n);
		expect(new Set(state.history.map((h) => h.by)).size).toBe(n);
		expect((await fs.readdir(path.join(root, 'price-change'))).sort()).toEqual(['prompt.yaml', 'releases.yaml']);
	});

	test('a mutate that throws changes nothing and releases the lock', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await store.updateReleases('price-change', (s) => ({ ...s, history: [entry(1)] }));
		await expect(store.updateReleases('price-change', () => { throw new ConfigError('no'); })).rejects.toThrow('no');
		await store.updateReleases('price-change', (s) => ({ ...s, history: [...s.history, entry(2)] }));
		expect((await store.readReleases('price-change')).history.map((h) => h.by)).toEqual(['user-1', 'user-2']);
	});

	test('a malformed releases.yaml is a ConfigError with line', async () => {
		const { store, root } = await tempRegistry();
		await writeText(path.join(root, 'price-change', 'releases.yaml'), 'channels:\n  production:\n    version: one\n    contentHash: x\n    since: now\n');
		await expect(store.readReleases('price-change')).rejects.toThrow(/releases\.yaml:3 field "channels\.production\.version"/);
	});
});

describe('runs and pricing', () => {
	test('writeRun is create-only; readRun and listRuns', async () => {
		const { store } = await tempRegistry();
		const a = runReport({ runId: '20260101T000000000Z-aaaaaa', results: [] });
		const b = runReport({ runId: '20260102T000000000Z-bbbbbb', results: [] });
		await store.writeRun(b);
		await store.writeRun(a);
		await expect(store.writeRun(a)).rejects.toThrow(/already exists/);
		expect(await store.listRuns('price-change')).toEqual([a.runId, b.runId]);
		expect(await store.readRun('price-change', a.runId)).toEqual(a as RunReport);
		await expect(store.readRun('price-change', 'nope')).rejects.toThrow(/run "nope" not found/);
	});

	test('a corrupt stored run is a ConfigError', async () => {
		const { store, root } = await tempRegistry();
		await writeText(path.join(root, 'price-change', 'runs', 'bad.json'), '{not json');
		await expect(store.readRun('price-change', 'bad')).rejects.toThrow(/stored run is not valid JSON/);
	});

	test('a stored run that is not a run report is a ConfigError naming the fields', async () => {
		const { store, root } = await tempRegistry();
		await writeText(path.join(root, 'price-change', 'runs', 'r1.json'), JSON.stringify({ runId: 'r1', promptId: 'price-change', version: 1, contentHash: 'x', results: [{ fixtureId: 'a' }] }));
		const error = (await errorOf(store.readRun('price-change', 'r1'))) as ConfigErrors;
		expect(error).toBeInstanceOf(ConfigErrors);
		expect(error.errors.map((e) => e.location.field)).toEqual(['summary', 'results[0].passed']);
		await writeText(path.join(root, 'price-change', 'runs', 'r2.json'), JSON.stringify({ ...runReport({ runId: 'other', results: [] }) }));
		await expect(store.readRun('price-change', 'r2')).rejects.toThrow(/field "runId": is "other" but the file is named r2\.json/);
	});

	test('readPricing: empty without a file, validated with one', async () => {
		const { store, root } = await tempRegistry();
		expect(await store.readPricing()).toEqual({});
		await writeText(path.join(root, 'pricing.yaml'), 'models:\n  "openai:gpt-x": {input: 1, output: 2}\n  local: {input: 0, output: 0}\n');
		expect(await store.readPricing()).toEqual({ 'openai:gpt-x': { input: 1, output: 2 }, local: { input: 0, output: 0 } });
		await writeText(path.join(root, 'pricing.yaml'), 'models:\n  ok: {input: 1, output: 2}\n  bad: {input: one}\n');
		await expect(store.readPricing()).rejects.toThrow(/pricing\.yaml:3 field "models\.bad"/);
	});
});

describe('log files of a process', () => {
	test('every store object of a process appends to one outcome log and one review log per folder (n8n builds a store per execution)', async () => {
		const { root } = await tempRegistry();
		{
			await writeDraftFile(root, 'price-change', DRAFT);
			const at = '2026-11-29T00:00:00.000Z';
			for (let execution = 0; execution < 5; execution++) {
				const store = new FileRegistryStore(root);
				await store.appendOutcomes('price-change', 'canary-1', [{ at, arm: 'stable', version: 1, outcome: 'valid' }]);
				await store.queueReviews('price-change', [{ kind: 'invalid', version: 1, inputs: { subject: `s${execution}` }, modelOutput: null, reason: 'refused: no', at }]);
			}
			expect(await fs.readdir(path.join(root, 'price-change/outcomes/canary-1'))).toHaveLength(1);
			expect(await fs.readdir(path.join(root, 'price-change/reviews'))).toHaveLength(1);
			const store = new FileRegistryStore(root);
			expect(await store.readOutcomes('price-change', 'canary-1')).toHaveLength(5);
			expect((await store.listReviews('price-change', 'pending')).map((c) => c.inputs.subject).sort()).toEqual(['s0', 's1', 's2', 's3', 's4']);
		}
	});
});
