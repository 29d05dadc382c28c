/**
 * The review queue's contract (RegistryStore.queueReviews / listReviews / countReviews / closeReview and the
 * correction that resolves a case), run unchanged against the folder and PostgreSQL stores; then what only
 * one store has (the folder's log lines, PostgreSQL's checked rows).
 */
import { readReviewCases } from '../../lib/registry/review-files';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { recordCorrection } from '../../lib/corrections';
import { contentHash } from '../../lib/hash';
import { closeRegistryConnections } from '../../lib/registry/open';
import { reviewCaseId, type ReviewRequest } from '../../lib/review/types';
import type { Fixture } from '../../lib/types';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { makeSpec } from '../unit/helpers';
import { sql } from '../support/postgres';
import { fileStoreFactory, postgresStoreFactory, type StoreFactory, type StoreUnderTest } from './stores';

const factories: StoreFactory[] = [fileStoreFactory(), postgresStoreFactory()];
const DIST = path.resolve(__dirname, '..', '..', 'dist', 'lib');

afterAll(async () => {
	for (const f of factories) await f.cleanup();
	await closeRegistryConnections();
});

/**
 * A time `s` seconds after a fixed start in the past, as the stores keep times. Closings by corrections take
 * the clock's time, so they come after these; a request meant to come after such a closing uses `later()`.
 */
const at = (s: number): string => new Date(Date.UTC(2020, 0, 1, 9, 0, s)).toISOString();
const later = (): string => new Date(Date.now() + 60_000).toISOString();

function request(subject: string, s: number, over: Partial<ReviewRequest> = {}): ReviewRequest {
	return { kind: 'invalid', version: 1, inputs: { subject, body: 'b' }, modelOutput: 'maybe', reason: 'refused: policy', at: at(s), ...over };
}

const correction = (subject: string): Fixture => ({ id: `correction-${subject}`, inputs: { subject, body: 'b' }, expected: true, source: 'correction' });

describe.each(factories)('review queue contract: $name', (factory) => {
	let t: StoreUnderTest;
	const spec = makeSpec();
	const p = spec.id;

	beforeEach(async () => {
		t = await factory.create();
		await t.store.writeDraft(spec);
	});

	it('queues one case per inputs, lists them first seen first, filters and counts by status', async () => {
		expect(await t.store.listReviews(p)).toEqual([]);
		await t.store.queueReviews(p, [request('b', 2, { kind: 'audit', reason: 'audit sample', modelOutput: true, channel: 'production', arm: 'canary', canaryId: 'canary-1', source: { routingKey: 'k1', node: 'Extract' } }), request('a', 1)]);
		await t.store.queueReviews(p, []);
		const cases = await t.store.listReviews(p);
		expect(cases.map((c) => c.inputs.subject)).toEqual(['a', 'b']);
		expect(cases[1]).toEqual({
			id: reviewCaseId({ subject: 'b', body: 'b' }),
			promptId: p,
			kind: 'audit',
			version: 1,
			inputs: { subject: 'b', body: 'b' },
			modelOutput: true,
			reason: 'audit sample',
			channel: 'production',
			arm: 'canary',
			canaryId: 'canary-1',
			source: { routingKey: 'k1', node: 'Extract' },
			firstSeen: at(2),
			lastSeen: at(2),
			occurrences: 1,
			status: 'pending',
		});
		await t.store.closeReview(p, cases[0].id, { status: 'dismissed', at: at(5), reason: 'not a price email', by: 'ann' });
		expect((await t.store.listReviews(p, 'pending')).map((c) => c.id)).toEqual([cases[1].id]);
		expect((await t.store.listReviews(p, 'dismissed')).map((c) => c.id)).toEqual([cases[0].id]);
		expect(await t.store.listReviews(p, 'resolved')).toEqual([]);
		expect(await t.store.countReviews(p)).toEqual({ pending: 1, resolved: 0, dismissed: 1 });
		expect(await t.store.countReviews('other')).toEqual({ pending: 0, resolved: 0, dismissed: 0 });
	});

	it('refuses requests of an unknown prompt and malformed requests, queueing nothing of the batch', async () => {
		await expect(t.store.queueReviews('nope', [request('a', 1)])).rejects.toThrow(/prompt "nope" not found/);
		await expect(t.store.queueReviews(p, [request('a', 1), request('b', 2, { at: '2026-11-29 09:00' })])).rejects.toThrow(/review request 2 of 2 for "price-change": field "at" must be an ISO 8601 UTC time/);
		await expect(t.store.queueReviews(p, [{ ...request('a', 1), kind: 'weird' as never }])).rejects.toThrow(/field "kind" must be "invalid" or "audit"/);
		await expect(t.store.queueReviews(p, [{ ...request('a', 1), inputs: [] as never }])).rejects.toThrow(/field "inputs" must be an object/);
		expect(await t.store.listReviews(p)).toEqual([]);
	});

	it('counts every repeat, keeps the first and last time and the newest answer, in one batch or many, in any arrival order', async () => {
		await t.store.queueReviews(p, [request('a', 10, { reason: 'second', modelOutput: 'x' })]);
		// One batch: a later and an earlier request of the same inputs, and another case.
		await t.store.queueReviews(p, [request('a', 30, { reason: 'newest', modelOutput: 'z', version: 2, finishReason: 'length' }), request('a', 5, { reason: 'oldest' }), request('c', 7)]);
		await t.store.queueReviews(p, [request('a', 20, { reason: 'late arrival' })]);
		const [a, c] = await t.store.listReviews(p);
		expect(a).toMatchObject({ firstSeen: at(5), lastSeen: at(30), occurrences: 4, reason: 'newest', modelOutput: 'z', version: 2, finishReason: 'length', status: 'pending' });
		expect(c).toMatchObject({ firstSeen: at(7), occurrences: 1 });
	});

	it('opens a closed case again when its inputs come back, keeping the earlier closing as previous', async () => {
		const id = reviewCaseId({ subject: 'a', body: 'b' });
		await t.store.queueReviews(p, [request('a', 1)]);
		const dismissal = { status: 'dismissed' as const, at: at(10), reason: 'spam', by: 'ann' };
		expect(await t.store.closeReview(p, id, dismissal)).toMatchObject({ status: 'dismissed', closed: dismissal });
		// A request from before the closing that arrives late counts, but does not reopen.
		await t.store.queueReviews(p, [request('a', 5)]);
		expect(await t.store.listReviews(p)).toEqual([expect.objectContaining({ status: 'dismissed', occurrences: 2, closed: dismissal })]);
		await t.store.queueReviews(p, [request('a', 20, { reason: 'again' })]);
		const [reopened] = await t.store.listReviews(p);
		expect(reopened).toMatchObject({ status: 'pending', occurrences: 3, reason: 'again', previous: dismissal, firstSeen: at(1), lastSeen: at(20) });
		expect(reopened.closed).toBeUndefined();
		const second = { status: 'dismissed' as const, at: at(30), reason: 'still spam' };
		await t.store.closeReview(p, id, second);
		await t.store.queueReviews(p, [request('a', 40)]);
		expect(await t.store.listReviews(p)).toEqual([expect.objectContaining({ status: 'pending', previous: second, occurrences: 4 })]);
	});

	it('closes a case once: unknown ids give undefined, the first closing wins, also when closings race', async () => {
		expect(await t.store.closeReview(p, 'review-0000000000000000', { status: 'dismissed', at: at(1), reason: 'x' })).toBeUndefined();
		await t.store.queueReviews(p, [request('a', 1), request('b', 1)]);
		const [a, b] = await t.store.listReviews(p);
		await expect(t.store.closeReview(p, a.id, { status: 'dismissed', at: at(2) })).rejects.toThrow(/field "reason" is required to dismiss/);
		const first = { status: 'dismissed' as const, at: at(2), reason: 'first' };
		expect((await t.store.closeReview(p, a.id, first))?.closed).toEqual(first);
		expect((await t.store.closeReview(p, a.id, { status: 'dismissed', at: at(3), reason: 'second' }))?.closed).toEqual(first);
		const raced = await Promise.all(Array.from({ length: 6 }, (_, i) => t.store.closeReview(p, b.id, { status: 'dismissed', at: at(5), reason: `closer ${i}` })));
		const stored = (await t.store.listReviews(p)).find((c) => c.id === b.id)!;
		expect(stored.status).toBe('dismissed');
		expect(stored.closed?.reason).toMatch(/^closer \d$/);
		for (const r of raced) expect(r?.closed).toEqual(stored.closed);
	});

	it('resolves the pending case of the same inputs with the fixture a correction writes, and no other case', async () => {
		await t.store.writeFixture(p, { id: 'manual-1', inputs: { subject: 'covered', body: 'b' }, expected: false, source: 'manual' });
		await t.store.queueReviews(p, [request('new', 1), request('covered', 2), request('untouched', 3)]);
		expect((await t.store.recordFixtureForInputs(p, correction('new')))?.created).toBe(true);
		expect((await t.store.recordFixtureForInputs(p, correction('covered')))?.fixture.id).toBe('manual-1');
		await t.store.recordFixtureForInputs(p, correction('never-queued'));
		const byInputs = Object.fromEntries((await t.store.listReviews(p)).map((c) => [c.inputs.subject, c]));
		expect(byInputs.new).toMatchObject({ status: 'resolved', closed: { status: 'resolved', fixtureId: 'correction-new' } });
		expect(byInputs.covered).toMatchObject({ status: 'resolved', closed: { status: 'resolved', fixtureId: 'manual-1' } });
		expect(byInputs.untouched).toMatchObject({ status: 'pending' });
		expect(byInputs.untouched.closed).toBeUndefined();
		expect(Object.keys(byInputs).sort()).toEqual(['covered', 'new', 'untouched']);
		// A guarded correction refused for a stale version hash writes nothing and resolves nothing.
		await t.store.createVersion(p, { version: 1, contentHash: contentHash(spec), createdAt: at(0), author: 'ann', prompt: spec });
		expect(await t.store.recordFixtureForInputs(p, correction('untouched'), { version: 1, contentHash: 'sha256:stale' })).toBeUndefined();
		expect((await t.store.listReviews(p, 'pending')).map((c) => c.inputs.subject)).toEqual(['untouched']);
	});

	it('Record Correction (lib/corrections) resolves the case its declared inputs name, and a resolved case reopens when queued again', async () => {
		await t.store.queueReviews(p, [request('mail', 1), request('other', 2)]);
		// Extra item fields are not declared inputs: they do not change the case the correction resolves.
		const written = await recordCorrection(t.store, { promptId: p, variables: { subject: 'mail', body: 'b', messageId: 'm-1' }, modelOutput: 'maybe', corrected: 'true' });
		const [mail, other] = await t.store.listReviews(p);
		expect(mail).toMatchObject({ status: 'resolved', closed: { fixtureId: written.fixture.id } });
		expect(other.status).toBe('pending');
		await t.store.queueReviews(p, [{ ...request('mail', 0), at: later() }]);
		expect((await t.store.listReviews(p))[0]).toMatchObject({ status: 'pending', previous: { status: 'resolved', fixtureId: written.fixture.id } });
	});

	it('loses nothing when many calls queue the same and different inputs at once', async () => {
		const calls = 24;
		await Promise.all(
			Array.from({ length: calls }, (_, i) =>
				t.store.queueReviews(p, [request('shared', i), request(`own-${i}`, i), request('shared', i + 100), request(`pair-${i % 2}`, i)]),
			),
		);
		const cases = await t.store.listReviews(p);
		const by = Object.fromEntries(cases.map((c) => [c.inputs.subject, c.occurrences]));
		expect(by.shared).toBe(2 * calls);
		expect(by['pair-0']).toBe(calls / 2);
		expect(by['pair-1']).toBe(calls / 2);
		for (let i = 0; i < calls; i++) expect(by[`own-${i}`]).toBe(1);
		expect(cases).toHaveLength(calls + 3);
		expect(cases.find((c) => c.inputs.subject === 'shared')).toMatchObject({ firstSeen: at(0), lastSeen: at(calls - 1 + 100) });
	});

	it('loses nothing when several processes queue and resolve at once', async () => {
		const workers = 4;
		const batches = 15;
		// Each worker: batches of [its own item, a shared item]; worker 0 also corrects one of its own items and a shared one midway.
		const WORKER = `
const { openRegistryStore, closeRegistryConnections } = require(${JSON.stringify(path.join(DIST, 'registry', 'open.js'))});
const [location, worker, batches] = process.argv.slice(1);
const store = openRegistryStore(location);
const at = (s) => new Date(Date.UTC(2020, 0, 1, 9, 0, s)).toISOString();
(async () => {
  for (let i = 0; i < Number(batches); i++) {
    await store.queueReviews('price-change', [
      { kind: 'invalid', version: 1, inputs: { subject: 'w' + worker + '-' + i, body: 'b' }, modelOutput: null, reason: 'r', at: at(i) },
      { kind: 'audit', version: 1, inputs: { subject: 'shared-' + (i % 3), body: 'b' }, modelOutput: true, reason: 'audit sample', at: at(i) },
    ]);
    if (worker === '0' && i === 7) {
      for (const subject of ['w0-3', 'shared-0']) {
        await store.recordFixtureForInputs('price-change', { id: 'fix-' + subject, inputs: { subject, body: 'b' }, expected: true, source: 'correction' });
      }
    }
  }
})().then(() => closeRegistryConnections()).catch((e) => { console.error(e.stack); process.exit(1); });`;
		const codes = await Promise.all(
			Array.from(
				{ length: workers },
				(_, w) =>
					new Promise<number>((resolve) => {
						const child = spawn(process.execPath, ['-e', WORKER, t.store.location, String(w), String(batches)], { stdio: ['ignore', 'inherit', 'inherit'] });
						child.on('exit', (code) => resolve(code ?? 1));
					}),
			),
		);
		expect(codes).toEqual(Array(workers).fill(0));
		const cases = await t.store.listReviews(p);
		expect(cases).toHaveLength(workers * batches + 3);
		const by = Object.fromEntries(cases.map((c) => [c.inputs.subject, c.occurrences]));
		expect([by['shared-0'], by['shared-1'], by['shared-2']]).toEqual([workers * 5, workers * 5, workers * 5]);
		expect(cases.filter((c) => String(c.inputs.subject).startsWith('w')).every((c) => c.occurrences === 1)).toBe(true);
		// Requests queued after the corrections carry earlier times (the fixed past): they count without reopening.
		const resolved = cases.filter((c) => c.status === 'resolved').map((c) => [c.inputs.subject, c.closed?.fixtureId]);
		expect(resolved.sort()).toEqual([
			['shared-0', 'fix-shared-0'],
			['w0-3', 'fix-w0-3'],
		]);
		if (t.store instanceof FileRegistryStore) expect((await fs.readdir(path.join(t.store.root, p, 'reviews'))).length).toBe(workers);
	}, 60_000);
});

describe('folder store review log', () => {
	const factory = fileStoreFactory();
	afterAll(() => factory.cleanup());

	async function withLog(text: string): Promise<{ store: FileRegistryStore; file: string }> {
		const t = await factory.create();
		await t.store.writeDraft(makeSpec());
		await t.store.queueReviews('price-change', [request('a', 1)]);
		const store = t.store as FileRegistryStore;
		const dir = path.join(store.root, 'price-change', 'reviews');
		const file = path.join(dir, 'other-host-1-abcd.jsonl');
		await fs.writeFile(file, text);
		return { store, file };
	}

	const queued = (subject: string, s: number) => JSON.stringify({ t: 'queued', request: request(subject, s) });

	it('skips a torn last line (a process that died mid-append) and reads the rest', async () => {
		const { store } = await withLog(`${queued('b', 2)}\n${queued('c', 3).slice(0, 40)}`);
		expect((await store.listReviews('price-change')).map((c) => c.inputs.subject)).toEqual(['a', 'b']);
	});

	it('skips a corrupt line that is not the last, with a warning naming file and line; the other cases stay readable', async () => {
		const { store, file } = await withLog(`${queued('b', 2)}\n{"t":"queued",\n${queued('c', 3)}\n`);
		expect((await store.listReviews('price-change')).map((c) => c.inputs.subject)).toEqual(['a', 'b', 'c']);
		expect((await store.countReviews('price-change')).pending).toBe(3);
		// What the store hands to the warning (a process warning: on stderr and in the n8n log).
		const problems: string[] = [];
		await readReviewCases(path.dirname(file), 'price-change', (d) => fs.readdir(d), (f) => f, (e) => problems.push(e.message));
		expect(problems).toEqual([`${file}:2: not a JSON line: restore the file from a backup or delete that line`]);
		const { store: s2, file: f2 } = await withLog(`${JSON.stringify({ t: 'queued', request: { ...request('b', 2), at: 'yesterday' } })}\n`);
		expect((await s2.listReviews('price-change')).map((c) => c.inputs.subject)).toEqual(['a']);
		problems.length = 0;
		await readReviewCases(path.dirname(f2), 'price-change', (d) => fs.readdir(d), (f) => f, (e) => problems.push(e.message));
		expect(problems).toEqual([expect.stringMatching(/other-host-1-abcd\.jsonl:1: queued event: field "request\.at" must be an ISO 8601/)]);
	});

	it('starts a new log file after a failed append, so a torn line stays last in its file', async () => {
		const t = await factory.create();
		await t.store.writeDraft(makeSpec());
		const store = t.store as FileRegistryStore;
		await store.queueReviews('price-change', [request('a', 1)]);
		const dir = path.join(store.root, 'price-change', 'reviews');
		const [first] = await fs.readdir(dir);
		// The process's file turns into a folder: appending to it fails (EISDIR), as a full disk would.
		const saved = await fs.readFile(path.join(dir, first), 'utf8');
		await fs.rm(path.join(dir, first));
		await fs.mkdir(path.join(dir, first));
		await expect(store.queueReviews('price-change', [request('b', 2)])).rejects.toThrow(/EISDIR/);
		await store.queueReviews('price-change', [request('c', 3)]);
		await fs.rmdir(path.join(dir, first));
		await fs.writeFile(path.join(dir, first), saved);
		expect((await fs.readdir(dir)).length).toBe(2);
		expect((await store.listReviews('price-change')).map((c) => c.inputs.subject)).toEqual(['a', 'c']);
	});
});

describe('PostgreSQL review rows', () => {
	const factory = postgresStoreFactory();
	afterAll(() => factory.cleanup());

	it('checks rows on read, naming the table, prompt, case and field', async () => {
		const t = await factory.create();
		await t.store.writeDraft(makeSpec());
		await t.store.queueReviews('price-change', [request('a', 1)]);
		const schema = (t.store as unknown as { schema: string }).schema;
		await sql(`UPDATE "${schema}".review_cases SET body = body - 'inputs'`);
		const id = reviewCaseId({ subject: 'a', body: 'b' });
		await expect(t.store.listReviews('price-change')).rejects.toThrow(`${schema}.review_cases prompt "price-change" case "${id}" field "body": field "inputs" must be an object`);
	});
});
