import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, InputError } from '../../lib/errors';
import { contentHash } from '../../lib/hash';
import { commitDraft } from '../../lib/registry/commit';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { parseRef, resolvePrompt } from '../../lib/registry/resolve';
import type { PromptSpec } from '../../lib/types';
import { makeSpec, tempRegistry } from './helpers';

describe('commitDraft', () => {
	test('numbers versions from 1, records author, message and time', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const v1 = await commitDraft(store, 'price-change', { author: 'ann', message: 'first', now: new Date('2026-02-01T10:00:00Z') });
		expect(v1).toEqual({ version: 1, contentHash: contentHash(makeSpec()), createdAt: '2026-02-01T10:00:00.000Z', author: 'ann', message: 'first', prompt: makeSpec() });
		await store.writeDraft(makeSpec({ limitations: 'English and German.' }));
		const v2 = await commitDraft(store, 'price-change');
		expect(v2.version).toBe(2);
		expect(v2.contentHash).not.toBe(v1.contentHash);
		expect(v2.author).toBeUndefined();
		expect(await store.listVersions('price-change')).toEqual([1, 2]);
		expect((await store.readVersion('price-change', 2)).prompt.limitations).toBe('English and German.');
	});

	test('refuses an unchanged draft, naming the version', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await commitDraft(store, 'price-change');
		await expect(commitDraft(store, 'price-change')).rejects.toThrow(ConfigError);
		await expect(commitDraft(store, 'price-change')).rejects.toThrow(/nothing to commit: the draft of "price-change" equals version 1/);
		expect(await store.listVersions('price-change')).toEqual([1]);
	});

	test('a draft reverted to an older version (not the last) can be committed again', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await commitDraft(store, 'price-change');
		await store.writeDraft(makeSpec({ description: 'v2' }));
		await commitDraft(store, 'price-change');
		await store.writeDraft(makeSpec());
		expect((await commitDraft(store, 'price-change')).version).toBe(3);
	});

	test('the frozen file hashes to what was committed (hash survives the YAML round trip)', async () => {
		const { store } = await tempRegistry();
		const tricky = makeSpec({
			instructions: 'Line one.\n  indented: yes\n# not a comment\n',
			template: '"{{subject}}" — {{body}}\ttab: true',
			description: 'null',
			limitations: '0.10',
			model: { provider: 'openai-compatible', name: 'llama3', temperature: 0.7, maxTokens: 64, baseUrl: 'http://127.0.0.1:11434/v1' },
			output: { type: 'object', properties: { when: { type: 'string', format: 'date', nullable: true }, n: { type: 'integer', minimum: -1 } } },
			tools: [{ name: 'x', params: { a: null } }],
		});
		await store.writeDraft(tricky);
		const frozen = await commitDraft(store, 'price-change');
		expect(frozen.contentHash).toBe(contentHash(tricky));
		const read = await store.readVersion('price-change', 1);
		expect(read.prompt).toEqual(tricky);
		expect(read.contentHash).toBe(frozen.contentHash);
	});

	test('concurrent commits of different drafts produce distinct, consecutive versions', async () => {
		const { root } = await tempRegistry();
		const base = new FileRegistryStore(root);
		await base.writeDraft(makeSpec());
		// Each committer sees its own draft (as separate processes editing in turn would).
		const committers = Array.from({ length: 8 }, (_, i) => {
			const store = new FileRegistryStore(root);
			store.readDraft = async () => makeSpec({ description: `draft ${i}` });
			return commitDraft(store, 'price-change', { message: `c${i}` });
		});
		const frozen = await Promise.all(committers);
		expect(frozen.map((f) => f.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		for (const f of frozen) {
			const read = await base.readVersion('price-change', f.version);
			expect(read.message).toBe(f.message);
			expect(read.prompt.description).toBe(`draft ${f.message!.slice(1)}`);
		}
		expect((await fs.readdir(path.join(root, 'price-change', 'versions'))).sort()).toHaveLength(8);
	});

	test('concurrent commits of the same draft: one version, the others refused as unchanged', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => commitDraft(store, 'price-change')));
		expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
		for (const o of outcomes) if (o.status === 'rejected') expect(String(o.reason)).toMatch(/nothing to commit/);
		expect(await store.listVersions('price-change')).toEqual([1]);
	});
});

describe('parseRef / resolvePrompt', () => {
	test('parseRef', () => {
		expect(parseRef(undefined)).toEqual({ channel: 'production' });
		expect(parseRef('')).toEqual({ channel: 'production' });
		expect(parseRef(3)).toEqual({ version: 3 });
		expect(parseRef('3')).toEqual({ version: 3 });
		expect(parseRef('v12')).toEqual({ version: 12 });
		expect(parseRef(' draft ')).toEqual({ version: 'draft' });
		expect(parseRef('staging')).toEqual({ channel: 'staging' });
		expect(() => parseRef('../x')).toThrow(InputError);
		expect(() => parseRef('a b')).toThrow(/neither a version number, "draft", nor a channel name/);
	});

	async function registryWithVersions(): Promise<{ store: FileRegistryStore; root: string; v1: PromptSpec; v2: PromptSpec }> {
		const { store, root } = await tempRegistry();
		const v1 = makeSpec();
		const v2 = makeSpec({ description: 'second' });
		await store.writeDraft(v1);
		await commitDraft(store, 'price-change');
		await store.writeDraft(v2);
		await commitDraft(store, 'price-change');
		await store.writeDraft(makeSpec({ description: 'draft' }));
		return { store, root, v1, v2 };
	}

	test('draft, pinned version, channel', async () => {
		const { store, v1 } = await registryWithVersions();
		const draft = await resolvePrompt(store, 'price-change', { version: 'draft' });
		expect(draft).toMatchObject({ version: 'draft', spec: { description: 'draft' } });
		expect(draft.contentHash).toBe(contentHash(draft.spec));
		const pinned = await resolvePrompt(store, 'price-change', { version: 1 });
		expect(pinned).toEqual({ promptId: 'price-change', version: 1, contentHash: contentHash(v1), spec: v1 });
		await store.updateReleases('price-change', () => ({ channels: { production: { version: 2, contentHash: contentHash(makeSpec({ description: 'second' })), since: 'x' } }, history: [] }));
		const prod = await resolvePrompt(store, 'price-change');
		expect(prod).toMatchObject({ version: 2, channel: 'production', spec: { description: 'second' } });
	});

	test('nothing released on the channel: says how to release', async () => {
		const { store } = await registryWithVersions();
		await expect(resolvePrompt(store, 'price-change', { channel: 'staging' })).rejects.toThrow(/nothing released on channel "staging": release one with "prompt-release release price-change --version 2 --channel staging"/);
	});

	test('a channel whose recorded hash does not match the version is refused', async () => {
		const { store } = await registryWithVersions();
		await store.updateReleases('price-change', () => ({ channels: { production: { version: 1, contentHash: 'sha256:' + 'f'.repeat(64), since: 'x' } }, history: [] }));
		await expect(resolvePrompt(store, 'price-change')).rejects.toThrow(/points at version 1 with hash sha256:f+, but that version now hashes to/);
	});
});
