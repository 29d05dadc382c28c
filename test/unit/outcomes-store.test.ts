import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileRegistryStore } from '../../lib/registry/file-store';
import type { OutcomeRecord } from '../../lib/types';
import { makeSpec, tempRegistry } from './helpers';

const rec = (arm: OutcomeRecord['arm'], outcome: OutcomeRecord['outcome'], version = 1): OutcomeRecord => ({ at: '2026-11-21T10:00:00.000Z', arm, version, outcome });

describe('canary outcome log (file store)', () => {
	test('appends in batches from several store instances of a process, into that process\'s one file, and reads everything back', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const other = new FileRegistryStore(root); // another process's view of the same folder
		await Promise.all([
			store.appendOutcomes('price-change', 'c1', [rec('stable', 'valid'), rec('canary', 'invalid', 2)]),
			other.appendOutcomes('price-change', 'c1', [rec('canary', 'valid', 2)]),
		]);
		await store.appendOutcomes('price-change', 'c1', [rec('stable', 'corrected')]);
		const all = await store.readOutcomes('price-change', 'c1');
		expect(all).toHaveLength(4);
		expect(all.filter((r) => r.arm === 'canary').map((r) => r.outcome).sort()).toEqual(['invalid', 'valid']);
		const files = await fs.readdir(path.join(root, 'price-change', 'outcomes', 'c1'));
		expect(files).toHaveLength(1); // one append-only file per process, whatever the number of store objects
		expect(files[0]).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{8}\\.jsonl$`));
		expect(await store.readOutcomes('price-change', 'other-canary')).toEqual([]);
	});

	test('a torn last line (a writer died mid-append) is skipped, the rest counts', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await store.appendOutcomes('price-change', 'c1', [rec('stable', 'valid')]);
		const dir = path.join(root, 'price-change', 'outcomes', 'c1');
		const [file] = await fs.readdir(dir);
		await fs.appendFile(path.join(dir, file), '{"at":"2026-11-21T10:00:00.000Z","arm":"can');
		expect(await store.readOutcomes('price-change', 'c1')).toEqual([rec('stable', 'valid')]);
	});

	test('canary ids that could leave the folder are refused', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await expect(store.appendOutcomes('price-change', '../x', [rec('stable', 'valid')])).rejects.toThrow(/canary id "..\/x" is invalid/);
	});
});

describe('served outcome logs', () => {
	test('a prompt folder that is gone is not recreated by an append: the append fails naming it', async () => {
		const { root, store } = await tempRegistry();
		await expect(store.appendOutcomes('price-change', 'served-production', [rec('stable', 'valid')])).rejects.toThrow(/the prompt folder .*price-change is gone/);
		await expect(fs.access(path.join(root, 'price-change'))).rejects.toThrow(/ENOENT/);
		await store.writeDraft(makeSpec());
		await store.appendOutcomes('price-change', 'served-production', [rec('stable', 'valid')]);
		expect(await store.readOutcomes('price-change', 'served-production')).toEqual([rec('stable', 'valid')]);
	});


	test('a canary id can never name a served log: releases.yaml with a "served-" canary id is refused, naming the field', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const canary = (id: string) =>
			`channels:\n  production:\n    version: 1\n    contentHash: x\n    since: '2026-11-21T10:00:00.000Z'\n    canary:\n      id: ${id}\n      version: 2\n      contentHash: y\n      since: '2026-11-21T10:00:00.000Z'\n      percent: 10\n`;
		await fs.writeFile(path.join(root, 'price-change', 'releases.yaml'), canary('served-production'), 'utf8');
		await expect(store.readReleases('price-change')).rejects.toThrow(/channels\.production\.canary\.id".*reserved for served outcome logs/);
		await fs.writeFile(path.join(root, 'price-change', 'releases.yaml'), canary('canary-20261121T100000000Z-abc123'), 'utf8');
		expect((await store.readReleases('price-change')).channels.production.canary!.id).toBe('canary-20261121T100000000Z-abc123');
	});
});
