/**
 * Keeps the CLI's memory flat on long runs (docs/adr/0031). A `test` of 100,000 fixtures allocates a lot
 * of short-lived garbage (HTTP bodies, parsed YAML, JSON lines) while keeping ~25 MB alive; left alone, V8
 * grows its young generation to 2 × 64 MB and lets the old generation grow to 4× the live size, so peak RSS
 * climbed with the run's length (329 MB at 10,000 fixtures) although nothing was retained. These two V8
 * flags are read at every collection, so they can be set after start-up: the young generation keeps its
 * initial size and the old generation grows to at most 3× what is alive after a full collection.
 * Only the CLI does this; the n8n nodes run in n8n's process and leave its heap alone.
 */
import { setFlagsFromString } from 'node:v8';

/** Flags applied by `boundHeapGrowth` (exported for the docs and tests). */
export const HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=200'];

/** Apply HEAP_FLAGS unless PROMPT_RELEASE_HEAP=default; never throws (a V8 without these flags ignores them). */
export function boundHeapGrowth(env: NodeJS.ProcessEnv = process.env): void {
	if (env.PROMPT_RELEASE_HEAP === 'default') return;
	for (const flag of HEAP_FLAGS) {
		try {
			setFlagsFromString(flag);
		} catch {
			// an unknown flag on another engine: memory is then bounded only by V8's own heuristics
		}
	}
}
