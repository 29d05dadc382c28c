/**
 * Ctrl-C (SIGINT) or SIGTERM while a command runs fixtures (`test`, `migrate`, `drift`): the run stops sending
 * requests (calls in flight are aborted), every run this process was writing is discarded — its partial
 * results file removed (lib/registry/open-runs.ts) — one line says so, and the process exits 130 (SIGINT) or
 * 143 (SIGTERM), the shell's codes for them. Streamed runs have no resume: run the command again. With
 * `--batch` the batch keeps running at the provider and its id stays in the cache folder, so the same command
 * resumes it (docs/adr/0021). A second signal exits at once.
 */
import { constants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { discardOpenRuns } from '../../lib/registry/open-runs';
import { note } from './output';

export interface InterruptOptions {
	/** What is running, for the message: "the run", "the drift check". */
	what: string;
	/** With `--batch`: the ids of the batches submitted so far (they keep running and are resumed). */
	batchIds?: () => string[];
	/** Called as soon as the signal arrives (progress bars off). */
	stop?: () => void;
	/** The stored run, once the command stored it (named when the signal came too late to stop it). */
	stored?: () => string | undefined;
}

/** How long the run may take to wind down after the signal (calls in flight are aborted at once) before the process exits anyway. */
const GRACE_MS = 5000;

/** The exit code of a process ended by `signal`, as shells report it: 128 + its number (SIGINT 130, SIGTERM 143). */
export function exitCodeOf(signal: NodeJS.Signals): number {
	return 128 + (constants.signals[signal] ?? 0);
}

/** The one line printed on an interrupt. */
export function interruptLine(signal: NodeJS.Signals, options: Pick<InterruptOptions, 'what' | 'batchIds'>, outcome: { stored?: string; discarded: number; errors: Error[] }): string {
	if (outcome.stored) return `interrupted by ${signal} after ${outcome.stored} was stored; the rest of the output was skipped.`;
	if (options.batchIds) {
		const ids = options.batchIds();
		return `interrupted by ${signal}: nothing was stored; the batch keeps running at the provider${ids.length ? ` (batch ${ids.join(', ')})` : ''} and its id is kept in the cache folder: run the same command again to resume it without paying twice.`;
	}
	if (outcome.errors.length) {
		return `interrupted by ${signal}: ${options.what} stopped and no run was stored, but its partial results could not be removed (${outcome.errors[0].message}): "prompt-release validate --fix" removes them.`;
	}
	return `interrupted by ${signal}: ${options.what} stopped and nothing was stored.`;
}

/**
 * Run `run` with SIGINT / SIGTERM handled as above; `run` gets the AbortSignal to hand to the fixture run
 * (`streamFixtureRun`'s `signal`). After a signal, `run`'s outcome never reaches the caller: the process ends.
 */
export async function interruptible<T>(options: InterruptOptions, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
	const controller = new AbortController();
	let interrupted: NodeJS.Signals | undefined;
	let running: Promise<T> | undefined;
	const onSignal = (signal: NodeJS.Signals): void => {
		if (interrupted) process.exit(exitCodeOf(signal)); // a second Ctrl-C: at once
		interrupted = signal;
		options.stop?.();
		controller.abort(signal);
		void (async () => {
			// The run winds down first (its own cleanup, a commit under way). A batch run waits on the provider,
			// not on calls it could abort: nothing to wait for.
			if (!options.batchIds && running) await Promise.race([running.catch(() => undefined), delay(GRACE_MS)]);
			const stored = options.stored?.();
			const outcome = stored ? { stored, discarded: 0, errors: [] } : await discardOpenRuns();
			// On a terminal the line starts below the ^C the terminal echoed.
			note(`${process.stderr.isTTY ? '\n' : ''}${interruptLine(signal, options, outcome)}`);
			process.exit(exitCodeOf(signal));
		})();
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	let value: T;
	try {
		running = run(controller.signal);
		value = await running;
	} catch (error) {
		if (!interrupted) throw error;
		return new Promise<never>(() => undefined); // the signal handler ends the process
	} finally {
		if (!interrupted) {
			process.off('SIGINT', onSignal);
			process.off('SIGTERM', onSignal);
		}
	}
	if (interrupted) return new Promise<never>(() => undefined);
	return value;
}
