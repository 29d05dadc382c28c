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

/**
 * One run writer's writes, one at a time, and how they end (both stores' writers use it). A flush and the
 * commit run through `write` / `commit`; `discard` refuses every later write, waits for the one under way (a
 * commit that succeeds leaves the run stored) and only then removes what was written. Registers the writer
 * as open until its run is committed or discarded.
 */
export class RunWrites {
	/** The flush or commit under way. */
	private busy: Promise<void> | undefined;
	private committed = false;
	private discarded = false;

	/** `refused`: the error for a write after `discard` (names the run and the store). */
	constructor(
		private readonly writer: RunWriter,
		private readonly refused: () => Error,
	) {
		runOpened(writer);
	}

	/** Throws the `refused` error once the run was discarded (for appends that only buffer). */
	check(): void {
		if (this.discarded) throw this.refused();
	}

	/** Run `task` as the write under way (the caller awaits each one). Throws the `refused` error after `discard`. */
	async write(task: () => Promise<void>): Promise<void> {
		this.check();
		const running = task();
		this.busy = running;
		try {
			await running;
		} finally {
			if (this.busy === running) this.busy = undefined;
		}
	}

	/** Run `task` (the commit) as the write under way; when it succeeds the run is stored and no longer open. */
	async commit(task: () => Promise<void>): Promise<void> {
		await this.write(async () => {
			await task();
			this.committed = true;
			runClosed(this.writer);
		});
	}

	/**
	 * Refuse later writes, wait for the one under way, then `remove` what was written unless the run was
	 * committed meanwhile. True when the run was discarded, false when it had been stored.
	 */
	async discard(remove: () => Promise<void>): Promise<boolean> {
		this.discarded = true;
		while (this.busy) await this.busy.catch(() => undefined);
		if (this.committed) return false;
		await remove();
		runClosed(this.writer);
		return true;
	}
}
