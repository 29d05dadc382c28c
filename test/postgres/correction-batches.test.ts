/**
 * Record Correction on PostgreSQL groups the corrections a process sends at the same time into one statement
 * (lib/registry/postgres/correction-batch.ts, docs/adr/0051): every correction still gets its own answer, a
 * pending review case is resolved by the batch that answers it, one bad correction fails alone, and two
 * processes writing the same inputs in opposite orders lose nothing.
 */
import { contentHash } from '../../lib/hash';
import { closeRegistryConnections } from '../../lib/registry/open';
import { correctionBatchStats } from '../../lib/registry/postgres/correction-batch';
import { parsePostgresUrl } from '../../lib/registry/postgres/settings';
import { PostgresRegistryStore } from '../../lib/registry/postgres/store';
import { reviewCaseId } from '../../lib/review/types';
import type { Fixture } from '../../lib/types';
import { makeSpec } from '../unit/helpers';
import { dropSchemas, pgUrl, uniqueSchema } from '../support/postgres';

const schemas: string[] = [];
const spec = makeSpec();
const frozen = { version: 1, contentHash: contentHash(spec), createdAt: '2026-01-01T00:00:00.000Z', author: 't', prompt: spec };
const guard = { version: 1, contentHash: frozen.contentHash };

afterAll(async () => {
	await closeRegistryConnections();
	await dropSchemas(schemas);
});

/** A registry schema with the prompt and its version 1; `extra` URL options pick another pool (another "process"). */
async function registry(schema = uniqueSchema('batches'), extra = ''): Promise<PostgresRegistryStore> {
	if (!schemas.includes(schema)) schemas.push(schema);
	const store = new PostgresRegistryStore({ ...parsePostgresUrl(pgUrl(schema, extra)), createSchema: true });
	if ((await store.listPrompts()).length === 0) {
		await store.writeDraft(spec);
		await store.createVersion(spec.id, frozen);
	}
	return store;
}

const correction = (subject: string, id = `correction-${subject.replace(/\W/g, '-')}`): Fixture => ({
	id,
	inputs: { subject, body: 'b' },
	expected: true,
	source: 'correction',
	recorded: { version: 1, modelOutput: false, at: '2026-01-01T00:00:00.000Z' },
});

const statsOf = (store: PostgresRegistryStore) => correctionBatchStats(store.pool, store.schema);

describe('Record Correction batches on PostgreSQL', () => {
	it('sends a burst of corrections as fewer statements, each correction answered with its own fixture', async () => {
		const store = await registry();
		const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.recordFixtureForInputs(spec.id, correction(`burst ${i}`), guard)));
		expect(results.map((r) => r?.fixture.inputs.subject)).toEqual(Array.from({ length: 40 }, (_, i) => `burst ${i}`));
		expect(results.every((r) => r?.created === true)).toBe(true);
		const stats = statsOf(store);
		expect(stats.corrections).toBe(40);
		expect(stats.statements).toBeLessThan(10);
		expect(stats.fallbacks).toBe(0);
		expect(await store.listFixtures(spec.id)).toHaveLength(40);
	});

	it('resolves the pending review case of each correction in the batch, with the fixture written for it', async () => {
		const store = await registry();
		const subjects = Array.from({ length: 10 }, (_, i) => `case ${i}`);
		await store.queueReviews(
			spec.id,
			subjects.map((subject) => ({ at: '2026-01-02T00:00:00.000Z', inputs: { subject, body: 'b' }, version: 1, modelOutput: null, kind: 'invalid', reason: 'unreadable' })),
		);
		const results = await Promise.all(subjects.map((subject) => store.recordFixtureForInputs(spec.id, correction(subject), guard)));
		const cases = await store.listReviews(spec.id);
		expect(cases).toHaveLength(10);
		for (const [i, subject] of subjects.entries()) {
			const c = cases.find((x) => x.id === reviewCaseId({ subject, body: 'b' }));
			expect(c).toMatchObject({ status: 'resolved', closed: { status: 'resolved', fixtureId: results[i]!.fixture.id } });
		}
		expect(statsOf(store).statements).toBeLessThan(10);
	});

	it('a correction that cannot be written fails alone; the others of its batch are written', async () => {
		const store = await registry();
		const burst = [
			...Array.from({ length: 6 }, (_, i) => store.recordFixtureForInputs(spec.id, correction(`fine ${i}`), guard)),
			// No such prompt row: the whole batch statement fails (foreign key), then each correction is sent alone.
			store.recordFixtureForInputs('no-such-prompt', correction('orphan')),
			...Array.from({ length: 3 }, (_, i) => store.recordFixtureForInputs(spec.id, correction(`also fine ${i}`), guard)),
		];
		const settled = await Promise.allSettled(burst);
		expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
		expect(String((settled[6] as PromiseRejectedResult).reason)).toMatch(/SQLSTATE 23503/);
		expect(statsOf(store).fallbacks).toBeGreaterThanOrEqual(1);
		expect(await store.listFixtures(spec.id)).toHaveLength(9);
	});

	it('two corrections that reach one existing fixture in one batch are written one after the other, in arrival order', async () => {
		const store = await registry();
		await store.writeFixture(spec.id, { id: 'manual-x', inputs: { subject: 'first', body: 'b' }, expected: false, source: 'manual' });
		const results = await Promise.all([
			store.recordFixtureForInputs(spec.id, correction('warm 1'), guard),
			store.recordFixtureForInputs(spec.id, correction('warm 2'), guard),
			// Same batch: one names manual-x by id, the other has manual-x's inputs (found by them).
			store.recordFixtureForInputs(spec.id, { ...correction('second'), id: 'manual-x' }, guard),
			store.recordFixtureForInputs(spec.id, correction('first'), guard),
		]);
		// As one at a time: manual-x now covers "second", so "first" is covered by no fixture and creates its own.
		expect(results.slice(2).map((r) => [r?.fixture.id, r?.created])).toEqual([
			['manual-x', false],
			['correction-first', true],
		]);
		expect(statsOf(store).fallbacks).toBe(1);
		expect((await store.listFixtures(spec.id)).map((f) => [f.id, f.inputs.subject])).toEqual([
			['correction-first', 'first'],
			['correction-warm-1', 'warm 1'],
			['correction-warm-2', 'warm 2'],
			['manual-x', 'second'],
		]);
	});

	it('two processes correcting the same inputs in opposite orders at once: nothing lost, one creator per inputs', async () => {
		const schema = uniqueSchema('batches');
		const a = await registry(schema);
		const b = await registry(schema, '&max=4'); // another pool: another batcher, as another worker has
		expect(a.pool).not.toBe(b.pool);
		const subjects = Array.from({ length: 30 }, (_, i) => `shared ${i}`);
		const created: number[] = [];
		for (let round = 0; round < 4; round++) {
			const [ra, rb] = await Promise.all([
				Promise.all(subjects.map((s) => a.recordFixtureForInputs(spec.id, correction(`${s} r${round}`), guard))),
				Promise.all([...subjects].reverse().map((s) => b.recordFixtureForInputs(spec.id, correction(`${s} r${round}`), guard))),
			]);
			created.push([...ra, ...rb].filter((r) => r?.created).length);
		}
		expect(created).toEqual([30, 30, 30, 30]);
		expect(await a.listFixtures(spec.id)).toHaveLength(120);
	});
});
