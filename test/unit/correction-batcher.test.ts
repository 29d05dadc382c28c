/**
 * How the PostgreSQL correction batcher groups (lib/registry/postgres/correction-batch.ts), with statements
 * that record what they were sent: the database's side is tested in test/postgres/correction-batches.test.ts.
 */
import { RegistryUnavailableError } from '../../lib/errors';
import { CorrectionBatcher, type CorrectionStatements } from '../../lib/registry/postgres/correction-batch';
import { correctionWrite, type CorrectionWrite } from '../../lib/registry/postgres/corrections';

const write = (subject: string, id = `correction-${subject}`): CorrectionWrite =>
	correctionWrite('price-change', { id, inputs: { subject, body: 'b' }, expected: true, source: 'correction' }, undefined);

/** Statements that answer after a tick and log each call's fixture ids. */
function recording(fail?: (ids: string[]) => Error | undefined): { statements: CorrectionStatements; calls: string[][] } {
	const calls: string[][] = [];
	const answer = async (ws: CorrectionWrite[]) => {
		const ids = ws.map((w) => w.fixture.id);
		calls.push(ids);
		await new Promise((r) => setImmediate(r));
		const error = fail?.(ids);
		if (error) throw error;
		return ws.map((w) => ({ fixtureId: w.fixture.id, body: w.fixture, created: true }));
	};
	return { calls, statements: { one: async (w) => (await answer([w]))[0], many: answer } };
}

describe('CorrectionBatcher', () => {
	it('sends the first correction at once and the ones that arrive meanwhile together, never two of the same inputs', async () => {
		const { statements, calls } = recording();
		const batcher = new CorrectionBatcher(statements, 1, 3);
		const rows = await Promise.all(['a', 'b', 'b', 'c', 'd', 'e'].map((s) => batcher.record(write(s))));
		expect(rows.map((r) => r?.fixtureId)).toEqual(['correction-a', 'correction-b', 'correction-b', 'correction-c', 'correction-d', 'correction-e']);
		// a alone; then at most 3 with the second b held back; then the rest.
		expect(calls).toEqual([['correction-a'], ['correction-b', 'correction-c', 'correction-d'], ['correction-b', 'correction-e']]);
		expect(batcher.stats).toEqual({ statements: 3, corrections: 6, fallbacks: 0 });
	});

	it('a failed batch is sent again one correction at a time, in arrival order, and only the bad one fails', async () => {
		const { statements, calls } = recording((ids) => (ids.includes('correction-bad') ? new Error('bad row') : undefined));
		const batcher = new CorrectionBatcher(statements, 1);
		const settled = await Promise.allSettled(['first', 'x', 'bad', 'y'].map((s) => batcher.record(write(s))));
		expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
		expect(calls).toEqual([['correction-first'], ['correction-x', 'correction-bad', 'correction-y'], ['correction-x'], ['correction-bad'], ['correction-y']]);
		expect(batcher.stats.fallbacks).toBe(1);
	});

	it('a database that does not answer fails the whole batch at once, without sending each again', async () => {
		const down = new RegistryUnavailableError('PostgreSQL registry does not answer');
		const { statements, calls } = recording((ids) => (ids.length > 1 ? down : undefined));
		const batcher = new CorrectionBatcher(statements, 1);
		const settled = await Promise.allSettled(['first', 'x', 'y'].map((s) => batcher.record(write(s))));
		expect(settled.map((s) => (s.status === 'rejected' ? s.reason : 'ok'))).toEqual(['ok', down, down]);
		expect(calls).toHaveLength(2);
		expect(batcher.stats.fallbacks).toBe(0);
	});
});
