/**
 * Append-only JSONL logs of the folder registry (canary and served outcome logs, review events): each process
 * appends to its own file in the log's folder, `<host>-<pid>-<random>.jsonl`, so writers never interleave and
 * no lock is needed. Readers read every file of the folder.
 */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as path from 'node:path';

/** This host's name as it appears in file names: letters, digits, `-` and `_` (anything else becomes `_`). */
export function hostTag(): string {
	return hostname().replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Whether process `pid` of this host is running: true when it is, or when it exists under another user
 * (EPERM); false only when no such process exists.
 */
export function processRunning(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/**
 * Append `values`, one JSON line each, in one write to this process's file in `dir` (remembered in `files`,
 * one per folder; the folder is created when missing). A failed append (disk full, I/O error) may leave a
 * torn line: the file is forgotten, so the next append starts a new one and that line stays the last of its
 * file, where readers skip it.
 */
export async function appendJsonLines(dir: string, files: Map<string, string>, values: readonly unknown[]): Promise<void> {
	if (values.length === 0) return;
	let file = files.get(dir);
	if (!file) {
		file = path.join(dir, `${hostTag()}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`);
		files.set(dir, file);
	}
	await fs.mkdir(dir, { recursive: true });
	try {
		// One write per call: O_APPEND keeps each call's lines together even with other processes appending.
		await fs.appendFile(file, values.map((v) => `${JSON.stringify(v)}\n`).join(''), 'utf8');
	} catch (error) {
		files.delete(dir);
		throw error;
	}
}
