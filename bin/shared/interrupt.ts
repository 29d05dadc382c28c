/**
 * Ctrl-C during a batch run: the batch keeps running at the provider and its id is already saved, so the
 * command says how to resume and exits 130 (the shell's code for SIGINT) instead of dying silently.
 */
import { note } from './output';

/** While `run` runs with `--batch` (`active`), SIGINT / SIGTERM print how to resume, then exit 130. */
export async function interruptible<T>(active: boolean, batchIds: () => string[], stop: () => void, run: () => Promise<T>): Promise<T> {
	if (!active) return run();
	const onSignal = (signal: NodeJS.Signals): void => {
		stop();
		const ids = batchIds();
		note(`\ninterrupted by ${signal}: the batch keeps running at the provider${ids.length ? ` (batch ${ids.join(', ')})` : ''} and its id is kept in the cache folder; run the same command again to resume it without paying twice.`);
		process.exit(130);
	};
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	try {
		return await run();
	} finally {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
	}
}
