/** `test` checks its fixtures once and runs the checked ones (bin/shared/fixtures.ts), within a memory budget. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkFixturesForRun, checkFixturesKeeping } from '../../bin/shared/fixtures';
import type { Fixture } from '../../lib';
import { makeSpec, tempRegistry } from './helpers';

async function registry(n: number) {
	const { root, store } = await tempRegistry();
	const spec = makeSpec();
	await store.writeDraft(spec);
	for (let i = 0; i < n; i++) await store.writeFixture('price-change', { id: `f${i}`, inputs: { subject: `s${i}`, body: 'b' }, expected: true, source: 'manual' });
	return { store, spec, dir: path.join(root, 'price-change', 'fixtures') };
}

test('within the budget the run goes through the fixtures checked, not a second read of the files', async () => {
	const { store, spec, dir } = await registry(4);
	const checked = await checkFixturesKeeping(store, 'price-change', spec, { fixtures: 10, bytes: 1_000_000 });
	expect(checked.count).toBe(4);
	expect(Symbol.asyncIterator in checked.fixtures).toBe(false);
	// Changed after the check: the run still runs what was checked (the next run reads the change).
	await fs.writeFile(path.join(dir, 'f0.yaml'), 'id: f0\ninputs: {subject: changed, body: b}\nexpected: false\n');
	const run: Fixture[] = [];
	for await (const f of checked.fixtures) run.push(f);
	expect(run.map((f) => [f.id, f.inputs.subject])).toEqual([['f0', 's0'], ['f1', 's1'], ['f2', 's2'], ['f3', 's3']]);
});

test('past the budget (count or bytes) nothing is kept: the run streams the fixtures again', async () => {
	const { store, spec, dir } = await registry(4);
	for (const budget of [{ fixtures: 3, bytes: 1_000_000 }, { fixtures: 10, bytes: 200 }]) {
		const checked = await checkFixturesKeeping(store, 'price-change', spec, budget);
		expect(checked.count).toBe(4);
		expect(Symbol.asyncIterator in checked.fixtures).toBe(true);
		await fs.writeFile(path.join(dir, 'f0.yaml'), `id: f0\ninputs: {subject: s${budget.bytes}, body: b}\nexpected: true\n`);
		const run: Fixture[] = [];
		for await (const f of checked.fixtures) run.push(f);
		expect(run[0].inputs.subject).toBe(`s${budget.bytes}`); // read again
	}
	expect(await checkFixturesForRun(store, 'price-change', spec)).toBe(4);
});

test('every problem is reported before anything runs, whatever the budget', async () => {
	const { store, spec, dir } = await registry(3);
	await fs.writeFile(path.join(dir, 'f1.yaml'), 'id: f1\ninputs: {subject: s}\nexpected: true\n');
	await fs.writeFile(path.join(dir, 'f2.yaml'), 'id: f2\ninputs: {subject: s, body: b}\nexpected: maybe\n');
	await expect(checkFixturesKeeping(store, 'price-change', spec)).rejects.toThrow(/f1\.yaml[\s\S]*required input "body"[\s\S]*f2\.yaml/);
	await expect(checkFixturesKeeping(store, 'price-change', spec, { fixtures: 0, bytes: 0 })).rejects.toThrow(/f1\.yaml[\s\S]*f2\.yaml/);
});
