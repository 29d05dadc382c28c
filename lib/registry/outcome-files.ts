/** The outcome logs of the file store (canary and served): one JSONL file per process and log, so writers never interleave. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { appendJsonLines } from './process-logs';
import type { OutcomeRecord } from '../types';

/**
 * Append `records` to this process's own file in `dir` (`<prompt folder>/outcomes/<log id>`,
 * ./process-logs.ts). Only the folders below the prompt's are created: when the
 * prompt folder is gone (the registry moved or unmounted while a node serves from its cache) this throws
 * a ConfigError naming it rather than recreating a registry that holds nothing else.
 */
export async function appendOutcomeLines(dir: string, files: Map<string, string>, records: OutcomeRecord[]): Promise<void> {
	if (records.length === 0) return;
	const promptDir = path.dirname(path.dirname(dir));
	try {
		await fs.access(promptDir);
	} catch {
		throw new ConfigError(`cannot append outcomes: the prompt folder ${promptDir} is gone (registry moved or unmounted?)`);
	}
	await appendJsonLines(dir, files, records);
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
