/** The canary outcome log of the file store: one JSONL file per process and canary, so writers never interleave. */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { OutcomeRecord } from '../types';

/** Append `records` to this process's own file in `dir` (remembered in `files`, one per directory). */
export async function appendOutcomeLines(dir: string, files: Map<string, string>, records: OutcomeRecord[]): Promise<void> {
	if (records.length === 0) return;
	let file = files.get(dir);
	if (!file) {
		file = path.join(dir, `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`);
		files.set(dir, file);
	}
	await fs.mkdir(dir, { recursive: true });
	await fs.appendFile(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
}

/** Every record of every process's file in `dir` (files in name order); a torn last line is skipped. */
export async function readOutcomeLines(dir: string, listDir: (dir: string) => Promise<string[]>): Promise<OutcomeRecord[]> {
	const out: OutcomeRecord[] = [];
	for (const name of (await listDir(dir)).filter((f) => f.endsWith('.jsonl')).sort()) {
		const text = await fs.readFile(path.join(dir, name), 'utf8');
		for (const line of text.split('\n')) {
			if (!line.trim()) continue;
			try {
				out.push(JSON.parse(line) as OutcomeRecord);
			} catch {
				// A torn last line of a process that died mid-append: skipped, the rest counts.
			}
		}
	}
	return out;
}
