/**
 * An adaptive client-side limiter for one provider endpoint and key (design: docs/adr/0030).
 *
 * Three mechanisms, all applied before a request leaves the process:
 * - a concurrency window with AIMD: it starts at `maxConcurrency`; every 429 halves it (to half the
 *   requests that were in flight, at most once per round of requests); every success while the window is
 *   full adds 1/window, so it grows by one per window of successes;
 * - budget followers: when responses carry rate-limit headers (see rate-headers.ts), the limiter models each
 *   budget (requests, tokens, …) as the provider's token bucket — refill rate (limit − remaining) / reset time,
 *   level corrected for requests sent after the reporting one — and holds requests that would overdraw it;
 * - pauses: a 429's `retry-after-ms` / `retry-after` holds every request until then;
 * plus optional fixed requests-per-minute caps given by callers (requests asking for the same cap share it).
 * A request in flight for longer than `stallFactor` × the typical latency (EWMA of answered requests, at least
 * `minStallMs`) stops counting against the window: after a burst of 429s has cut the window to 1, one hung
 * request must not hold the only slot for its whole timeout and stall every other call to the endpoint.
 *
 * The caller's own concurrency (CLI `--concurrency`, the node option) stays the upper bound; the limiter
 * only ever holds requests back. Times are milliseconds.
 */
import type { BudgetName, RateObservation } from './rate-headers';

/** What one request is expected to spend; `requests` is always 1. */
export interface RequestCost {
	/** Estimated input tokens. */
	inputTokens: number;
	/** The output token cap sent with the request (providers count it against the token budget). */
	outputTokens: number;
}

/** Counters for reports and benchmarks. */
export interface LimiterStats {
	/** Requests let through (each SDK retry counts again). */
	started: number;
	/** Responses with status 429. */
	rateLimited: number;
	/** Current concurrency window (may be fractional). */
	window: number;
	/** Total time requests waited in the limiter, ms. */
	waitedMs: number;
	/** Requests that stopped counting against the window because they ran far longer than usual. */
	stalled: number;
}

export interface LimiterOptions {
	/** Upper bound of the window (default 256: in practice the callers' own concurrency binds first). */
	maxConcurrency?: number;
	/** Refill safety margin for followed budgets (default 0.97: plan with 97 % of the measured rate). */
	safety?: number;
	/**
	 * Wait for every request after a 429 that says nothing about when to retry (no Retry-After, no exhausted
	 * budget). Default 0: such a 429 halves the window, and the refused request itself backs off in the SDK;
	 * holding every other request too would turn a burst of such answers into one long idle stretch.
	 */
	defaultPauseMs?: number;
	/**
	 * A request in flight longer than this many times the typical latency stops counting against the window
	 * (default 4). The caller's own concurrency still bounds how many requests are out.
	 */
	stallFactor?: number;
	/** Never call a request stalled before this many ms (default 1000); before any answer: 10 × this. */
	minStallMs?: number;
	/** Clock, for tests (default Date.now). */
	now?: () => number;
}

interface Active {
	startedAt: number;
	stalled: boolean;
}

interface Bucket {
	/** Units per ms; 0 while unknown. */
	rate: number;
	capacity: number;
	level: number;
	at: number;
	/** When the provider said the budget is full again (used while the rate is unknown). */
	fullAt?: number;
}

interface Waiter {
	cost: Record<BudgetName, number>;
	rpm?: number;
	queuedAt: number;
	resolve: (ticket: Ticket) => void;
	reject: (error: unknown) => void;
	signal?: AbortSignal;
	onAbort?: () => void;
	/** Let through (set by `dispatch`). */
	dispatched?: boolean;
}

/** A request the limiter let through; call `done` exactly once with what came back (nothing for a network error). */
export interface Ticket {
	done(status?: number, observation?: RateObservation): void;
}

const BUDGETS: BudgetName[] = ['requests', 'tokens', 'input-tokens', 'output-tokens'];

function costOf(cost: RequestCost): Record<BudgetName, number> {
	return { requests: 1, tokens: cost.inputTokens + cost.outputTokens, 'input-tokens': cost.inputTokens, 'output-tokens': cost.outputTokens };
}

export class AdaptiveLimiter {
	private window: number;
	private readonly max: number;
	private readonly safety: number;
	private readonly defaultPauseMs: number;
	private readonly now: () => number;
	private inFlight = 0;
	/** Requests in flight that no longer count against the window (see `stallFactor`). */
	private stalledInFlight = 0;
	private readonly active = new Set<Active>();
	/** Typical latency of answered requests (EWMA), ms; undefined before the first answer. */
	private typicalMs: number | undefined;
	private stallTimer: NodeJS.Timeout | undefined;
	private readonly stallFactor: number;
	private readonly minStallMs: number;
	private pausedUntil = 0;
	private lastDecreaseAt = -Infinity;
	private readonly buckets = new Map<BudgetName, Bucket>();
	private readonly rpmBuckets = new Map<number, Bucket>();
	/** Cumulative cost sent, per budget: corrects a reported level for requests sent after the reporting one. */
	private readonly sent: Record<BudgetName, number> = { requests: 0, tokens: 0, 'input-tokens': 0, 'output-tokens': 0 };
	private readonly queue: Waiter[] = [];
	private timer: NodeJS.Timeout | undefined;
	private readonly counters = { started: 0, rateLimited: 0, waitedMs: 0, stalled: 0 };

	constructor(options: LimiterOptions = {}) {
		this.max = Math.max(1, options.maxConcurrency ?? 256);
		this.window = this.max;
		this.safety = options.safety ?? 0.97;
		this.defaultPauseMs = options.defaultPauseMs ?? 0;
		this.now = options.now ?? Date.now;
		this.stallFactor = options.stallFactor ?? 4;
		this.minStallMs = options.minStallMs ?? 1000;
	}

	/** Counters and the current window. */
	get stats(): LimiterStats {
		return { ...this.counters, window: this.window };
	}

	/**
	 * Wait for a slot. `rpm` applies a fixed requests-per-minute cap shared with every caller asking for the
	 * same cap. Rejects with the signal's reason when `signal` aborts while waiting.
	 */
	acquire(cost: RequestCost, options: { rpm?: number; signal?: AbortSignal } = {}): Promise<Ticket> {
		return new Promise<Ticket>((resolve, reject) => {
			if (options.signal?.aborted) return reject(options.signal.reason);
			const waiter: Waiter = { cost: costOf(cost), rpm: options.rpm && options.rpm > 0 ? options.rpm : undefined, queuedAt: this.now(), resolve, reject, signal: options.signal };
			this.queue.push(waiter);
			this.pump();
			// Still queued (the usual request goes at once and needs no listener): stop waiting when the caller gives up.
			if (options.signal && !waiter.dispatched) {
				waiter.onAbort = () => {
					const at = this.queue.indexOf(waiter);
					if (at >= 0) this.queue.splice(at, 1);
					reject(options.signal!.reason);
				};
				options.signal.addEventListener('abort', waiter.onAbort, { once: true });
			}
		});
	}

	/** Refill a bucket to `now`; returns how long until it holds `need` (0: now). */
	private waitFor(bucket: Bucket, need: number, now: number): number {
		if (bucket.rate > 0) bucket.level = Math.min(bucket.capacity, bucket.level + bucket.rate * (now - bucket.at));
		else if (bucket.fullAt !== undefined && now >= bucket.fullAt) bucket.level = bucket.capacity;
		bucket.at = now;
		const enough = Math.min(need, bucket.capacity);
		if (bucket.level >= enough) return 0;
		if (bucket.rate > 0) return Math.ceil((enough - bucket.level) / bucket.rate);
		return bucket.fullAt !== undefined ? Math.max(1, bucket.fullAt - now) : 0;
	}

	private rpmBucket(rpm: number, now: number): Bucket {
		let bucket = this.rpmBuckets.get(rpm);
		if (!bucket) {
			bucket = { rate: rpm / 60_000, capacity: 1, level: 1, at: now };
			this.rpmBuckets.set(rpm, bucket);
		}
		return bucket;
	}

	/** How long a request may be in flight before it stops counting against the window. */
	private stallAfterMs(): number {
		if (this.typicalMs === undefined) return this.minStallMs * 10;
		return Math.max(this.minStallMs, this.stallFactor * this.typicalMs);
	}

	/** Requests counted against the window: those in flight, less the stalled ones. */
	private counted(): number {
		return this.inFlight - this.stalledInFlight;
	}

	/**
	 * The window is full and requests wait: mark requests in flight past `stallAfterMs` as stalled (freeing
	 * their slots), and check again when the oldest counted one would pass it.
	 */
	private checkStalled(now: number): void {
		const limit = this.stallAfterMs();
		let next = Infinity;
		for (const a of this.active) {
			if (a.stalled) continue;
			if (now - a.startedAt >= limit) {
				a.stalled = true;
				this.stalledInFlight++;
				this.counters.stalled++;
			} else next = Math.min(next, a.startedAt + limit);
		}
		if (this.stallTimer || next === Infinity || this.counted() < Math.max(1, Math.floor(this.window))) return;
		this.stallTimer = setTimeout(() => {
			this.stallTimer = undefined;
			this.pump();
		}, Math.max(1, next - now));
		this.stallTimer.unref?.();
	}

	private pump(): void {
		if (this.timer) return;
		while (this.queue.length > 0) {
			if (this.counted() >= Math.max(1, Math.floor(this.window))) this.checkStalled(this.now());
			if (this.counted() >= Math.max(1, Math.floor(this.window))) return; // `done` or the stall check pumps again
			const now = this.now();
			const head = this.queue[0];
			let wait = Math.max(0, this.pausedUntil - now);
			for (const name of BUDGETS) {
				const bucket = this.buckets.get(name);
				if (bucket) wait = Math.max(wait, this.waitFor(bucket, head.cost[name], now));
			}
			if (head.rpm) wait = Math.max(wait, this.waitFor(this.rpmBucket(head.rpm, now), 1, now));
			if (wait > 0) {
				this.timer = setTimeout(() => {
					this.timer = undefined;
					this.pump();
				}, wait);
				this.timer.unref?.();
				return;
			}
			this.queue.shift();
			this.dispatch(head, now);
		}
	}

	private dispatch(waiter: Waiter, now: number): void {
		waiter.dispatched = true;
		if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
		for (const name of BUDGETS) {
			this.sent[name] += waiter.cost[name];
			const bucket = this.buckets.get(name);
			if (bucket) bucket.level -= waiter.cost[name];
		}
		if (waiter.rpm) this.rpmBucket(waiter.rpm, now).level -= 1;
		this.inFlight++;
		this.counters.started++;
		this.counters.waitedMs += now - waiter.queuedAt;
		const startedAt = now;
		const sentAtStart = { ...this.sent };
		const inFlightAtStart = this.counted();
		const active: Active = { startedAt, stalled: false };
		this.active.add(active);
		let finished = false;
		waiter.resolve({
			done: (status, observation) => {
				if (finished) return;
				finished = true;
				this.inFlight--;
				this.active.delete(active);
				if (active.stalled) this.stalledInFlight--;
				if (status !== undefined) {
					const took = this.now() - startedAt;
					this.typicalMs = this.typicalMs === undefined ? took : this.typicalMs * 0.8 + took * 0.2;
					this.observe(status, observation, startedAt, sentAtStart, inFlightAtStart);
				}
				this.pump();
			},
		});
	}

	private observe(status: number, observation: RateObservation | undefined, startedAt: number, sentAtStart: Record<BudgetName, number>, inFlightAtStart: number): void {
		const now = this.now();
		for (const name of BUDGETS) {
			const state = observation?.budgets[name];
			if (!state) continue;
			let bucket = this.buckets.get(name);
			const capacity = state.limit ?? Math.max(state.remaining, bucket?.capacity ?? 0);
			if (!bucket) {
				bucket = { rate: 0, capacity, level: state.remaining, at: now };
				this.buckets.set(name, bucket);
			}
			bucket.capacity = capacity;
			if (state.resetMs !== undefined && state.resetMs > 0 && state.remaining < capacity) {
				bucket.rate = ((capacity - state.remaining) / state.resetMs) * this.safety;
				bucket.fullAt = now + state.resetMs;
			}
			// The reported level is as of the server seeing this request; requests sent since have spent more.
			const since = this.sent[name] - sentAtStart[name];
			bucket.level = Math.min(capacity, state.remaining + bucket.rate * (now - startedAt) - since);
			bucket.at = now;
		}
		if (status === 429) {
			this.counters.rateLimited++;
			if (startedAt >= this.lastDecreaseAt) {
				this.window = Math.max(1, Math.min(this.window, inFlightAtStart) / 2);
				this.lastDecreaseAt = now;
			}
			const exhausted = BUDGETS.map((n) => observation?.budgets[n]).filter((b) => b && b.remaining <= 0 && b.resetMs !== undefined);
			const fromBudgets = exhausted.length ? Math.min(...exhausted.map((b) => b!.resetMs!)) : undefined;
			const pause = observation?.retryAfterMs ?? fromBudgets ?? this.defaultPauseMs;
			this.pausedUntil = Math.max(this.pausedUntil, now + pause);
		} else if (status < 400 && this.counted() + 1 >= Math.floor(this.window)) {
			this.window = Math.min(this.max, this.window + 1 / this.window);
		}
	}
}
