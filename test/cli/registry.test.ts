/** init, validate, commit and the prompt-id guard of every command, through the compiled CLI. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cli, exists, listFiles, makeRegistry, promptYaml, tempDir, write } from './helpers';

describe('init', () => {
	test('scaffolds a registry that validates, and refuses to scaffold over prompt folders', async () => {
		const cwd = await tempDir();
		const init = await cli(['init'], cwd);
		expect(init.code).toBe(0);
		expect(init.stdout).toContain('created registry prompts with the example prompt "price-change" (7 fixtures)');
		const files = await listFiles(path.join(cwd, 'prompts'));
		expect(files).toEqual([
			'README.md',
			'price-change/fixtures/adversarial-instruction.yaml',
			'price-change/fixtures/ambiguous-may-change.yaml',
			'price-change/fixtures/delivery-update.yaml',
			'price-change/fixtures/long-context-buried.yaml',
			'price-change/fixtures/new-price-list.yaml',
			'price-change/fixtures/price-increase.yaml',
			'price-change/fixtures/quoted-thread-old-change.yaml',
			'price-change/prompt.yaml',
		]);
		const spec = parseYaml(await fs.readFile(path.join(cwd, 'prompts/price-change/prompt.yaml'), 'utf8')) as Record<string, any>;
		expect(spec.model).toMatchObject({ provider: 'openai', name: 'gpt-4o-mini', temperature: 0 });
		expect(spec.output).toEqual({ type: 'boolean', description: expect.any(String) });
		expect(spec.template).toMatch(/\{\{subject\}\}[\s\S]*\{\{body\}\}/);
		expect(Object.keys(spec.inputs)).toEqual(['subject', 'body']);
		// One hard case per tag, so requireTags has something to ask for.
		for (const [file, tag] of [['ambiguous-may-change', 'ambiguous'], ['adversarial-instruction', 'adversarial'], ['long-context-buried', 'long-context'], ['quoted-thread-old-change', 'quoted-thread']]) {
			expect((parseYaml(await fs.readFile(path.join(cwd, `prompts/price-change/fixtures/${file}.yaml`), 'utf8')) as { tags: string[] }).tags).toEqual([tag]);
		}
		expect(spec.limitations).toBeTruthy();

		const validate = await cli(['validate'], cwd);
		expect(validate.stderr).toBe('');
		expect(validate.stdout.trim()).toBe('ok: 1 prompts, 0 versions, 7 fixtures');
		expect(validate.code).toBe(0);

		// A second init over the same folder refuses and writes nothing.
		await fs.writeFile(path.join(cwd, 'prompts/price-change/prompt.yaml'), promptYaml({ instructions: 'hand edited' }));
		const again = await cli(['init'], cwd);
		expect(again.code).toBe(2);
		expect(again.stderr).toMatch(/^prompt-release: prompts: already a registry with prompt folders \(price-change\)/);
		expect(await listFiles(path.join(cwd, 'prompts'))).toEqual(files);
		expect(await fs.readFile(path.join(cwd, 'prompts/price-change/prompt.yaml'), 'utf8')).toContain('hand edited');
		// No staging folder left behind.
		expect((await fs.readdir(cwd)).filter((n) => n.startsWith('.'))).toEqual([]);
	});

	test('init DIR into an existing folder without prompts keeps its files', async () => {
		const cwd = await tempDir();
		await write(cwd, 'reg/README.md', 'my own readme\n');
		const init = await cli(['init', 'reg'], cwd);
		expect(init.code).toBe(0);
		expect(init.stdout).toContain('prompt-release validate --registry reg');
		expect(await fs.readFile(path.join(cwd, 'reg/README.md'), 'utf8')).toBe('my own readme\n');
		expect(await exists(path.join(cwd, 'reg/price-change/fixtures/price-increase.yaml'))).toBe(true);
		expect((await fs.readdir(path.join(cwd, 'reg'))).sort()).toEqual(['README.md', 'price-change']);
	});
});

describe('validate', () => {
	test('lists every problem as file:line field "x": message, counts them, and exits 2', async () => {
		const { cwd, registry, promptDir } = await makeRegistry();
		// A frozen version edited by hand after the commit.
		const commit = await cli(['commit', 'price-change', '-m', 'first'], cwd);
		expect(commit.code).toBe(0);
		const versionFile = path.join(promptDir, 'versions/1.yaml');
		const frozen = await fs.readFile(versionFile, 'utf8');
		await fs.writeFile(versionFile, frozen.replace('Sees the subject and body only.', 'Edited by hand.'));
		const hashLine = frozen.split('\n').findIndex((l) => l.startsWith('contentHash:')) + 1;

		// Invalid YAML (line 2), an unknown schema type, a placeholder without an input, a fixture without expected, a bad folder name.
		await write(registry, 'broken-yaml/prompt.yaml', 'id: broken-yaml\ndescription: a: b\nmodel: {provider: openai}\n');
		await write(registry, 'bad-schema/prompt.yaml', promptYaml({ id: 'bad-schema' }).replace('output: {type: boolean}', 'output:\n  type: colour'));
		await write(registry, 'bad-placeholder/prompt.yaml', promptYaml({ id: 'bad-placeholder', template: 'Subject: {{subject}}\n{{sender}}' }));
		await write(promptDir, 'fixtures/no-expected.yaml', 'id: no-expected\ninputs:\n  subject: Hello\n  body: World\nsegment: x\n');
		await write(registry, 'bad.name/prompt.yaml', promptYaml({ id: 'bad.name' }));

		const result = await cli(['validate'], cwd);
		expect(result.code).toBe(2);
		expect(result.stdout).toBe('');
		const lines = result.stderr.trim().split('\n');
		const schemaLine = promptYaml({ id: 'bad-schema' }).replace('output: {type: boolean}', 'output:\n  type: colour').split('\n').indexOf('  type: colour') + 1;
		const templateLine = promptYaml({ id: 'bad-placeholder', template: 'Subject: {{subject}}\n{{sender}}' }).split('\n').indexOf('template: |') + 1;
		expect(lines).toEqual(
			expect.arrayContaining([
				expect.stringMatching(/^prompts\/bad-placeholder\/prompt\.yaml:(\d+) field "template": placeholder \{\{sender\}\} has no declared input/),
				expect.stringMatching(new RegExp(`^prompts/bad-schema/prompt\\.yaml:${schemaLine} field "output\\.type": `)),
				expect.stringMatching(/^prompts\/bad\.name: prompt id "bad\.name" is invalid.*The folder name is the prompt id: rename the folder\.$/),
				// (lib shows this one path absolute: FileRegistryStore.load only shortens paths after parsing)
				expect.stringMatching(/^(\/.*\/)?prompts\/broken-yaml\/prompt\.yaml:2: invalid YAML: /),
				expect.stringMatching(new RegExp(`^prompts/price-change/versions/1\\.yaml:${hashLine} field "contentHash": content hash mismatch`)),
				expect.stringMatching(/^prompts\/price-change\/fixtures\/no-expected\.yaml:1 field "expected": is required/),
			]),
		);
		expect(lines.find((l) => l.includes('bad-placeholder'))).toContain(`prompt.yaml:${templateLine} `);
		expect(lines[lines.length - 1]).toMatch(/^prompt-release: 6 errors in prompts \(\d+ prompts, 1 versions, 5 fixtures checked\)$/);
		expect(lines).toHaveLength(7);

		// The edited version cannot be tested either.
		const test = await cli(['test', 'price-change', '--version', '1'], cwd);
		expect(test.code).toBe(2);
		expect(test.stderr).toMatch(/^prompt-release: prompts\/price-change\/versions\/1\.yaml:\d+ field "contentHash": content hash mismatch/);
	});

	test('channel errors name releases.yaml relative to the current folder, with the line', async () => {
		const { cwd, promptDir } = await makeRegistry();
		expect((await cli(['commit', 'price-change'], cwd)).code).toBe(0);
		const hash = /contentHash: (\S+)/.exec(await fs.readFile(path.join(promptDir, 'versions/1.yaml'), 'utf8'))![1];
		await write(promptDir, 'releases.yaml', `channels:\n  production:\n    version: 1\n    contentHash: ${hash}\n    since: "2026-01-01T00:00:00.000Z"\n    runId: lost-run\nhistory: []\n`);
		const result = await cli(['validate'], cwd);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('prompts/price-change/releases.yaml:6 field "channels.production.runId": channel "production" was released with run lost-run, but prompts/price-change/runs/lost-run.json is missing: restore runs/lost-run.json from git');
	});

	test('a missing registry folder is a configuration error', async () => {
		const cwd = await tempDir();
		const result = await cli(['validate', '--registry', 'nowhere'], cwd);
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(/^prompt-release: nowhere: registry folder not found/);
	});
});

describe('commit', () => {
	test('freezes the draft, then refuses an unchanged draft', async () => {
		const { cwd, promptDir } = await makeRegistry();
		const first = await cli(['commit', 'price-change', '-m', 'first version'], cwd);
		expect(first.code).toBe(0);
		const match = /^committed price-change version 1 \((sha256:[0-9a-f]{64})\)$/.exec(first.stdout.trim());
		expect(match).not.toBeNull();
		const frozen = parseYaml(await fs.readFile(path.join(promptDir, 'versions/1.yaml'), 'utf8')) as Record<string, unknown>;
		expect(frozen).toMatchObject({ version: 1, contentHash: match![1], author: 'tester', message: 'first version' });

		const again = await cli(['commit', 'price-change'], cwd);
		expect(again.code).toBe(2);
		expect(again.stderr.trim()).toBe(`prompt-release: nothing to commit: the draft of "price-change" equals version 1 (${match![1]}). Edit prompt.yaml first.`);
		expect(await listFiles(path.join(promptDir, 'versions'))).toEqual(['1.yaml']);

		await fs.writeFile(path.join(promptDir, 'prompt.yaml'), promptYaml({ instructions: 'Answer true only for announced price changes.' }));
		const second = await cli(['commit', 'price-change'], cwd);
		expect(second.stdout).toMatch(/^committed price-change version 2 \(sha256:[0-9a-f]{64}\)/);
		expect(second.stdout).not.toContain(match![1]);
	});

	test('an unknown prompt exits 2 naming the known ones', async () => {
		const { cwd } = await makeRegistry();
		const result = await cli(['commit', 'nope'], cwd);
		expect(result.code).toBe(2);
		expect(result.stderr.trim()).toBe('prompt-release: prompt "nope" not found in registry prompts (prompts: price-change)');
	});
});

describe('prompt ids that could leave the registry', () => {
	test('every command that takes a prompt refuses "/" and ".." with exit 2 and touches nothing', async () => {
		const { cwd, registry } = await makeRegistry();
		await write(cwd, 'rows.jsonl', '{"inputs": {"subject": "a", "body": "b"}, "expected": true}\n');
		const before = await listFiles(cwd);
		// One escaping id per command (they all go through the same guard); both "/" and ".." forms.
		const runs = [
			{ id: '../escape', args: ['commit', '../escape'] },
			{ id: 'a/b', args: ['fixtures', 'import', 'a/b', 'rows.jsonl'] },
			{ id: '..', args: ['test', '..'] },
			{ id: 'price-change/../price-change', args: ['release', 'price-change/../price-change', '--version', '1'] },
			{ id: '../../etc', args: ['rollback', '../../etc'] },
			{ id: 'x/..', args: ['status', 'x/..'] },
		];
		const results = await Promise.all(runs.map(({ args }) => cli(args, cwd)));
		results.forEach((r, i) => {
			const { args, id } = runs[i];
			expect({ args, code: r.code }).toEqual({ args, code: 2 });
			expect(r.stderr.trim()).toBe(`prompt-release: prompt id ${JSON.stringify(id)} is invalid: use letters, digits, "-" and "_" only (no "/", "." or ".."), starting with a letter or digit, at most 64 characters`);
		});
		expect(await listFiles(cwd)).toEqual(before);
		expect(await exists(path.join(path.dirname(registry), 'escape'))).toBe(false);
	});
});
