/**
 * The runs this process is writing and has neither committed nor discarded, whichever store holds them. The
 * CLI discards them when it is interrupted (Ctrl-C, SIGTERM), so an interrupted `test` or `migrate` leaves no
 * partial results behind (a `runs/.<id>.results.jsonl.<host>-<pid>.partial` file, or PostgreSQL result rows
 * of a run that never committed).
 */
import type { RunWriter } from './store';

const open = new Set<RunWriter>();

/** Note a writer that holds a run not yet committed (called by the writers themselves). */
export function runOpened(writer: RunWriter): void {
	open.add(writer);
}

/** The writer committed or discarded its run. */
export function runClosed(writer: RunWriter): void {
	open.delete(writer);
}

/**
 * Discard every run this process is still writing (each waits for its write in progress first). Resolves to
 * the runs discarded and the problems met; a run whose commit finished meanwhile is left stored (not counted).
 */
export async function discardOpenRuns(): Promise<{ discarded: number; errors: Error[] }> {
	let discarded = 0;
	const errors: Error[] = [];
	for (const writer of [...open]) {
		try {
			if (await writer.discard()) discarded++;
		} catch (error) {
			errors.push(error instanceof Error ? error : new Error(String(error)));
		}
	}
	return { discarded, errors };
}
