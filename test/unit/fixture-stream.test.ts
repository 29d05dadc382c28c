/** streamFixtures reads fixtures a chunk at a time, yet behaves as one at a time: order, problems, where it stops. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeSpec, tempRegistry } from './helpers';

async function registry(n: number) {
	const { root, store } = await tempRegistry();
	const spec = makeSpec();
	await store.writeDraft(spec);
	const dir = path.join(root, 'price-change', 'fixtures');
	await fs.mkdir(dir, { recursive: true });
	for (let i = 0; i < n; i++) {
		const id = `f${String(i).padStart(4, '0')}`;
		await fs.writeFile(path.join(dir, `${id}.yaml`), `id: ${id}\ninputs:\n  subject: s${i}\n  body: b\nexpected: ${i % 2 === 0}\n`);
	}
	return { store, spec, dir };
}

test('every fixture, in id order, across chunks', async () => {
	const { store, spec } = await registry(150);
	const ids: string[] = [];
	for await (const f of store.streamFixtures('price-change', spec)) ids.push(f.id);
	expect(ids).toEqual(Array.from({ length: 150 }, (_, i) => `f${String(i).padStart(4, '0')}`));
});

test('a fixture that cannot be read ends the stream after every fixture before it, as one at a time did', async () => {
	const { store, spec, dir } = await registry(150);
	await fs.writeFile(path.join(dir, 'f0100.yaml'), 'id: f0100\ninputs: [unclosed\n');
	const ids: string[] = [];
	await expect(
		(async () => {
			for await (const f of store.streamFixtures('price-change', spec)) ids.push(f.id);
		})(),
	).rejects.toThrow(/f0100\.yaml.*invalid YAML/);
	expect(ids).toHaveLength(100);
	expect(ids[99]).toBe('f0099');

	const problems: string[] = [];
	const all: string[] = [];
	for await (const f of store.streamFixtures('price-change', spec, (e) => void problems.push(e.message))) all.push(f.id);
	expect(all).toHaveLength(149);
	expect(problems).toEqual([expect.stringMatching(/f0100\.yaml/)]);
});

test('an empty or vanished file is reported as before (read again to say why)', async () => {
	const { store, spec, dir } = await registry(3);
	await fs.writeFile(path.join(dir, 'f0001.yaml'), '');
	await expect(store.listFixtures('price-change', spec)).rejects.toThrow(/f0001\.yaml.*empty/);
});
