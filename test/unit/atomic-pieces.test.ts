/** writeFileAtomicFrom: a text given in pieces lands whole, byte for byte, or not at all. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicFrom } from '../../lib/yaml-io';
import { tempDir } from './helpers';

test('pieces of any size and script are written in order, byte for byte; missing folders are created', async () => {
	const dir = await tempDir();
	const file = path.join(dir, 'a', 'b', 'report.json');
	const pieces = ['{', ...Array.from({ length: 20_000 }, (_, i) => `"é😀–${i}",`), 'x'.repeat(300_000), '€'.repeat(90_000), '}'];
	await writeFileAtomicFrom(file, pieces);
	expect(await fs.readFile(file, 'utf8')).toBe(pieces.join(''));
	await writeFileAtomicFrom(file, []);
	expect(await fs.readFile(file, 'utf8')).toBe('');
});

test('a failure while the pieces come leaves the old file as it was and no temporary file', async () => {
	const dir = await tempDir();
	const file = path.join(dir, 'report.html');
	await fs.writeFile(file, 'old');
	function* failing(): Generator<string> {
		yield 'new '.repeat(100_000);
		throw new Error('rendering failed');
	}
	await expect(writeFileAtomicFrom(file, failing())).rejects.toThrow('rendering failed');
	expect(await fs.readFile(file, 'utf8')).toBe('old');
	expect(await fs.readdir(dir)).toEqual(['report.html']);
});
