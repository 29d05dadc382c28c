import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { NodeOperationError, type INode } from 'n8n-workflow';
import { toNodeError } from './errors';

export const DEFAULT_CONCURRENCY = 16;

/** A concurrency option value as a positive integer (default 16). */
export function concurrencyOf(value: unknown): number {
	const n = Math.floor(Number(value));
	return Number.isFinite(n) && n >= 1 ? n : DEFAULT_CONCURRENCY;
}

/**
 * How many items a node works on at once for a call concurrency of `concurrency`: twice as many, so items
 * read their parameters while calls are in flight and a freed call slot starts the next call at once. The
 * model calls themselves stay bounded by `concurrency` (a p-limit around each call).
 */
export function lookahead(concurrency: number): number {
	return concurrency * 2;
}

/**
 * Run `task(i)` for i in 0..count-1 with at most `limit` at a time; results keep the order.
 * The first task that throws stops the rest: `signal` is aborted, queued tasks do not start, and
 * that first error (as a node error) is thrown once everything running has settled.
 */
export async function mapLimited<T>(
	node: INode,
	count: number,
	limit: number,
	task: (index: number, signal: AbortSignal) => Promise<T>,
	outer?: AbortSignal,
): Promise<T[]> {
	const controller = new AbortController();
	const signal = outer ? AbortSignal.any([controller.signal, outer]) : controller.signal;
	// Every task in flight listens on this signal (its SDK request, a wait for the limiter) and removes its listener
	// when it ends: a high concurrency is far more than Node's default of 10 before it warns of a leak.
	setMaxListeners(0, controller.signal, signal);
	const run = pLimit(limit);
	const results: T[] = new Array<T>(count);
	let failure: { error: unknown } | undefined;
	await Promise.all(
		Array.from({ length: count }, (_, index) =>
			run(async () => {
				if (failure || signal.aborted) return;
				try {
					results[index] = await task(index, signal);
				} catch (error) {
					if (!failure) {
						failure = { error };
						controller.abort(error);
					}
				}
			}),
		),
	);
	if (failure) throw toNodeError(node, failure.error);
	if (signal.aborted) throw new NodeOperationError(node, 'The execution was cancelled');
	return results;
}

/** Runs tasks with the same key one after another (different keys run concurrently). */
export class KeyedSerializer {
	private readonly tails = new Map<string, Promise<unknown>>();

	async run<T>(key: string, task: () => Promise<T>): Promise<T> {
		const previous = this.tails.get(key) ?? Promise.resolve();
		const current = previous.then(task, task);
		const tail = current.catch(() => undefined);
		this.tails.set(key, tail);
		try {
			return await current;
		} finally {
			if (this.tails.get(key) === tail) this.tails.delete(key);
		}
	}
}
