/**
 * Corrections find "the fixture that already covers these inputs" through the file store's inputs index:
 * index upkeep, stale entries, validate --fix, and 8 processes correcting at once (0 lost, 0 duplicated).
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { canonicalJson } from '../../lib/hash';
import { correctionFixtureId, recordCorrection } from '../../lib/corrections';
import { inputsKey } from '../../lib/registry/inputs-index';
import { validateRegistry } from '../../lib/validate-registry';
import { toYaml } from '../../lib/yaml-io';
import { makeSpec, tempRegistry } from './helpers';

const DIST = path.resolve(__dirname, '..', '..', 'dist', 'lib');

describe('inputs index of the file store', () => {
	test('a correction of inputs a manual fixture covers updates that fixture, found through the index', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await store.writeFixture('price-change', { id: 'manual-1', inputs: { subject: 'a', body: 'b' }, expected: false, source: 'manual' });
		const out = await recordCorrection(store, { promptId: 'price-change', variables: { subject: 'a', body: 'b' }, modelOutput: false, corrected: true });
		expect(out).toMatchObject({ created: false, fixture: { id: 'manual-1', expected: true, source: 'correction' } });
		expect((await store.listFixtures('price-change')).map((f) => f.id)).toEqual(['manual-1']);
	});

	test('a registry without an index is indexed on first use; a fixture added by hand later is found after validate --fix', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const dir = path.join(root, 'price-change', 'fixtures');
		await fs.mkdir(dir, { recursive: true });
		await fs.writeFile(path.join(dir, 'old.yaml'), toYaml({ id: 'old', inputs: { subject: 'x', body: 'y' }, expected: true }));
		expect((await store.findFixtureByInputs('price-change', { subject: 'x', body: 'y' }))?.id).toBe('old');
		// Added by hand (or a git merge) after the index was built: validate names it, --fix repairs it.
		await fs.writeFile(path.join(dir, 'by-hand.yaml'), toYaml({ id: 'by-hand', inputs: { subject: 'p', body: 'q' }, expected: false }));
		expect(await store.findFixtureByInputs('price-change', { subject: 'p', body: 'q' })).toBeUndefined();
		const report = await validateRegistry(store);
		expect(report.errors.map((e) => e.message).join('\n')).toMatch(/by-hand \(it is missing from the fixture index\).*validate --fix/);
		const fixed = await validateRegistry(store, { fix: true });
		expect(fixed.errors).toEqual([]);
		expect(fixed.fixed).toEqual({ written: 1, removed: 0 });
		expect((await store.findFixtureByInputs('price-change', { subject: 'p', body: 'q' }))?.id).toBe('by-hand');
	});

	test('an entry left stale by a hand edit of the inputs is no match; rewriting a fixture moves its entry', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await store.writeFixture('price-change', { id: 'f', inputs: { subject: 'one', body: 'b' }, expected: true, source: 'manual' });
		await fs.writeFile(path.join(root, 'price-change', 'fixtures', 'f.yaml'), toYaml({ id: 'f', inputs: { subject: 'edited', body: 'b' }, expected: true }));
		expect(await store.findFixtureByInputs('price-change', { subject: 'one', body: 'b' })).toBeUndefined();
		await store.writeFixture('price-change', { id: 'f', inputs: { subject: 'two', body: 'b' }, expected: true, source: 'manual' });
		expect((await store.findFixtureByInputs('price-change', { subject: 'two', body: 'b' }))?.id).toBe('f');
		expect(await store.inputsIndex('price-change').lookup({ subject: 'edited', body: 'b' })).toBeUndefined();
	});
});

describe('fixtures named after their inputs', () => {
	const entries = async (root: string) => {
		const dir = path.join(root, 'price-change', 'fixtures', '.index');
		const shards = (await fs.readdir(dir).catch(() => [] as string[])).filter((s) => /^[0-9a-f]{2}$/.test(s));
		return (await Promise.all(shards.map((s) => fs.readdir(path.join(dir, s))))).flat();
	};

	test('a correction of new inputs writes its fixture and no index entry; it is found by its name and validate is clean', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const inputs = { subject: 'new', body: 'b' };
		const out = await recordCorrection(store, { promptId: 'price-change', variables: inputs, modelOutput: false, corrected: true });
		expect(out).toMatchObject({ created: true, fixture: { id: correctionFixtureId(inputs) } });
		expect(await entries(root)).toEqual([]);
		expect((await store.findFixtureByInputs('price-change', { body: 'b', subject: 'new' }))?.id).toBe(correctionFixtureId(inputs));
		expect(await recordCorrection(store, { promptId: 'price-change', variables: inputs, modelOutput: true, corrected: false })).toMatchObject({ created: false, fixture: { id: correctionFixtureId(inputs), expected: false } });
		expect((await validateRegistry(store)).errors).toEqual([]);
		expect((await validateRegistry(store, { fix: true })).fixed).toEqual({ written: 0, removed: 0 });
		expect(await entries(root)).toEqual([]);
	});

	test('an entry an older version wrote for such a fixture stays valid: validate is clean and --fix keeps it', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const inputs = { subject: 'old', body: 'b' };
		await recordCorrection(store, { promptId: 'price-change', variables: inputs, modelOutput: false, corrected: true });
		await store.inputsIndex('price-change').set(inputs, correctionFixtureId(inputs)); // as versions before this one wrote it
		expect((await validateRegistry(store)).errors).toEqual([]);
		expect((await validateRegistry(store, { fix: true })).fixed).toEqual({ written: 0, removed: 0 });
		expect(await entries(root)).toEqual([inputsKey(inputs)]);
		expect((await store.findFixtureByInputs('price-change', inputs))?.id).toBe(correctionFixtureId(inputs));
	});

	test('a fixture whose id was derived from other inputs needs an entry: rewriting its inputs adds one, and it is found', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const first = { subject: 'first', body: 'b' };
		const { fixture } = await recordCorrection(store, { promptId: 'price-change', variables: first, modelOutput: false, corrected: true });
		const moved = { subject: 'moved', body: 'b' };
		await store.writeFixture('price-change', { ...fixture, inputs: moved });
		expect(await store.inputsIndex('price-change').lookup(moved)).toBe(fixture.id);
		expect((await store.findFixtureByInputs('price-change', moved))?.id).toBe(fixture.id);
		expect(await store.findFixtureByInputs('price-change', first)).toBeUndefined(); // named after them, but no longer covering them
		expect((await validateRegistry(store)).errors).toEqual([]);
		// A correction of the moved inputs updates that fixture rather than creating one named after them.
		expect(await recordCorrection(store, { promptId: 'price-change', variables: moved, modelOutput: true, corrected: false })).toMatchObject({ created: false, fixture: { id: fixture.id, expected: false } });
	});

	test('a correction resolves the pending review case of its inputs', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const inputs = { subject: 'doubted', body: 'b' };
		await store.queueReviews('price-change', [{ kind: 'invalid', version: 'draft', inputs, modelOutput: null, reason: 'refused: no answer', at: '2026-01-01T00:00:00.000Z' }]);
		const { fixture } = await recordCorrection(store, { promptId: 'price-change', variables: inputs, modelOutput: null, corrected: true });
		expect(await store.listReviews('price-change')).toMatchObject([{ status: 'resolved', closed: { status: 'resolved', fixtureId: fixture.id } }]);
	});
});

describe('8 processes correcting at once', () => {
	const WORKER = `
const { FileRegistryStore } = require(${JSON.stringify(path.join(DIST, 'registry', 'file-store.js'))});
const { recordCorrection } = require(${JSON.stringify(path.join(DIST, 'corrections.js'))});
const [root, worker, n] = process.argv.slice(1);
const store = new FileRegistryStore(root);
(async () => {
  for (let i = 0; i < Number(n); i++) {
    // Even items: inputs only this worker corrects; odd items: inputs every worker corrects (some covered by manual fixtures).
    const subject = i % 2 === 0 ? 'worker ' + worker + ' item ' + i : 'shared item ' + i;
    await recordCorrection(store, { promptId: 'price-change', variables: { subject, body: 'Prices change.' }, modelOutput: false, corrected: true });
  }
})().catch((e) => { console.error(e.stack); process.exit(1); });`;

	function run(root: string, worker: number, n: number): Promise<number> {
		return new Promise((resolve) => {
			const child = spawn(process.execPath, ['-e', WORKER, root, String(worker), String(n)], { stdio: ['ignore', 'inherit', 'inherit'] });
			child.on('exit', (code) => resolve(code ?? 1));
		});
	}

	test('0 lost, 0 duplicated, manual fixtures of the same inputs updated in place', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const n = 40;
		// Manual fixtures cover some of the shared inputs (every other odd item).
		for (let i = 1; i < n; i += 4) {
			await store.writeFixture('price-change', { id: `manual-${i}`, inputs: { subject: `shared item ${i}`, body: 'Prices change.' }, expected: false, source: 'manual' });
		}
		const codes = await Promise.all(Array.from({ length: 8 }, (_, w) => run(root, w, n)));
		expect(codes).toEqual(Array(8).fill(0));
		const fixtures = await store.listFixtures('price-change');
		const keys = fixtures.map((f) => canonicalJson(f.inputs));
		expect(new Set(keys).size).toBe(keys.length); // 0 duplicated
		const expected = new Set<string>();
		for (let w = 0; w < 8; w++) for (let i = 0; i < n; i += 2) expected.add(canonicalJson({ subject: `worker ${w} item ${i}`, body: 'Prices change.' }));
		for (let i = 1; i < n; i += 2) expected.add(canonicalJson({ subject: `shared item ${i}`, body: 'Prices change.' }));
		expect(new Set(keys)).toEqual(expected); // 0 lost
		expect(fixtures.every((f) => f.expected === true && f.source === 'correction')).toBe(true);
		expect(fixtures.filter((f) => f.id.startsWith('manual-'))).toHaveLength(n / 4);
		expect((await validateRegistry(store)).errors).toEqual([]);
	}, 120_000);
});
