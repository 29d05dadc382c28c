/**
 * Progress of long commands (`test`, `migrate`, `drift`) on stderr: a cli-progress bar with rate and ETA
 * on a terminal; plain periodic lines otherwise (CI logs); nothing with `--json`.
 */
import type { SingleBar as SingleBarType } from 'cli-progress';

export interface Progress {
	/** One more item done. */
	tick(): void;
	/** Final state; removes the bar (the command prints its own summary). */
	stop(): void;
}

export interface ProgressOptions {
	/** What is counted, e.g. "fixtures". */
	label: string;
	total: number;
	/** `--json`: print nothing. */
	quiet?: boolean;
	/** Where to write (default process.stderr); a stream that is not a TTY gets plain lines. */
	stream?: NodeJS.WriteStream;
	/** Plain mode: at most one line per this many ms (default PROMPT_RELEASE_PROGRESS_MS, else 5000), plus one at the end. */
	intervalMs?: number;
	now?: () => number;
}

function plainLine(label: string, done: number, total: number, elapsedMs: number): string {
	const perSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
	const eta = perSecond > 0 && done < total ? `, ETA ${Math.ceil((total - done) / perSecond)}s` : '';
	const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
	return `progress: ${done}/${total} ${label} (${pct}%), ${perSecond.toFixed(1)}/s${eta}\n`;
}

/** A progress display fitting where the output goes. */
export function startProgress(options: ProgressOptions): Progress {
	const stream = options.stream ?? process.stderr;
	if (options.quiet || options.total <= 0) return { tick: () => undefined, stop: () => undefined };
	if (stream.isTTY) {
		// Loaded only for a bar on a terminal: `--json` runs and CI logs never need it.
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { SingleBar } = require('cli-progress') as { SingleBar: typeof SingleBarType };
		const bar = new SingleBar({
			stream,
			format: `  {bar} {value}/{total} ${options.label} | {rate}/s | ETA {eta_formatted}`,
			hideCursor: true,
			clearOnComplete: true,
			etaBuffer: 200,
		});
		const started = Date.now();
		let done = 0;
		bar.start(options.total, 0, { rate: '0.0' });
		return {
			tick: () => {
				done++;
				const elapsed = (Date.now() - started) / 1000;
				bar.update(done, { rate: (elapsed > 0 ? done / elapsed : 0).toFixed(1) });
			},
			stop: () => bar.stop(),
		};
	}
	const now = options.now ?? Date.now;
	const fromEnv = Number(process.env.PROMPT_RELEASE_PROGRESS_MS);
	const interval = options.intervalMs ?? (process.env.PROMPT_RELEASE_PROGRESS_MS !== undefined && Number.isFinite(fromEnv) ? fromEnv : 5000);
	const started = now();
	let last = started;
	let done = 0;
	let printed = false;
	return {
		tick: () => {
			done++;
			const t = now();
			if (t - last >= interval && done < options.total) {
				last = t;
				printed = true;
				stream.write(plainLine(options.label, done, options.total, t - started));
			}
		},
		stop: () => {
			// Short runs print nothing; a run that printed progress ends with its final count.
			if (printed) stream.write(plainLine(options.label, done, options.total, now() - started));
		},
	};
}
