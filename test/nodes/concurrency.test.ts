/** The bounded, order-keeping, stop-on-first-error map the three nodes use for items. */
import { getMaxListeners, setMaxListeners } from 'node:events';
import type { INode } from 'n8n-workflow';
import { KeyedSerializer, concurrencyOf, mapLimited } from '../../nodes/shared/concurrency';

const node: INode = { id: 'n', name: 'Node', type: 'test', typeVersion: 1, position: [0, 0], parameters: {} };
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapLimited', () => {
	it('keeps at most `limit` tasks running and keeps the order of results', async () => {
		let running = 0;
		let peak = 0;
		const out = await mapLimited(node, 10, 3, async (i) => {
			running++;
			peak = Math.max(peak, running);
			await tick(10 - i);
			running--;
			return i * 2;
		});
		expect(out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
		expect(peak).toBe(3);
	});

	it('stops queued tasks after the first failure, aborts running ones, and throws that failure as a node error', async () => {
		const started: number[] = [];
		const aborted: number[] = [];
		const promise = mapLimited(node, 6, 2, async (i, signal) => {
			started.push(i);
			if (i === 1) throw new Error('item 1 broke');
			await tick(30);
			if (signal.aborted) aborted.push(i);
			return i;
		});
		await expect(promise).rejects.toMatchObject({ name: 'NodeOperationError', message: 'item 1 broke' });
		expect(started).toEqual([0, 1]); // 2..5 were queued and never start
		expect(aborted).toEqual([0]);
	});

	it('lifts the listener limit of the shared signal, so 32 tasks listening on it print no MaxListenersExceededWarning where signals warn at 10 (Node before 24)', async () => {
		// Emulate Node 20/22, where a new AbortSignal warns past 10 listeners (Node 24 made it unlimited).
		const NativeController = globalThis.AbortController;
		const nativeAny = AbortSignal.any.bind(AbortSignal);
		globalThis.AbortController = class extends NativeController {
			constructor() {
				super();
				setMaxListeners(10, this.signal);
			}
		};
		AbortSignal.any = (signals: AbortSignal[]) => {
			const signal = nativeAny(signals);
			setMaxListeners(10, signal);
			return signal;
		};
		const limits = new Set<number>();
		try {
			const outer = new NativeController();
			await mapLimited(
				node,
				32,
				32,
				async (i, signal) => {
					const listener = () => undefined;
					signal.addEventListener('abort', listener); // what each model call does while it is in flight
					limits.add(getMaxListeners(signal));
					await tick(20);
					signal.removeEventListener('abort', listener);
					return i;
				},
				outer.signal,
			);
		} finally {
			globalThis.AbortController = NativeController;
			AbortSignal.any = nativeAny;
		}
		// 0 is "no limit": Node warns past the limit (the warning goes to the real process, not Jest's sandbox).
		expect([...limits]).toEqual([0]);
	});

	it('reads the concurrency option defensively', () => {
		expect([concurrencyOf(undefined), concurrencyOf(0), concurrencyOf('3'), concurrencyOf(2.7)]).toEqual([16, 16, 3, 2]);
	});
});

describe('KeyedSerializer', () => {
	it('runs tasks of one key one after another, other keys alongside', async () => {
		const serializer = new KeyedSerializer();
		const log: string[] = [];
		const task = (key: string, n: number, ms: number) =>
			serializer.run(key, async () => {
				log.push(`start ${key}${n}`);
				await tick(ms);
				log.push(`end ${key}${n}`);
			});
		await Promise.all([task('a', 1, 20), task('a', 2, 1), task('b', 1, 5)]);
		expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
		expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
	});
});
