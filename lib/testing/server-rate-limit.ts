/**
 * Rate limits for the loopback model server, enforced the way OpenAI and Anthropic describe theirs:
 * token buckets that refill continuously, a 429 with `retry-after-ms` / `retry-after` when a request does
 * not fit, and the rate-limit headers on every completion response (OpenAI `x-ratelimit-*` with Go-style
 * durations; Anthropic `anthropic-ratelimit-*` with RFC 3339 times; see lib/throughput/rate-headers.ts).
 */

export interface ServerRateLimit {
	/** Requests per second (bucket capacity: one second's worth, at least 1). */
	requestsPerSecond?: number;
	/** Tokens per minute, counted as the provider does: estimated input tokens + the request's output cap. */
	tokensPerMinute?: number;
}

interface Bucket {
	capacity: number;
	/** Units per ms. */
	rate: number;
	level: number;
	at: number;
}

export interface RateDecision {
	ok: boolean;
	headers: Record<string, string>;
}

/** `1234` → `"1.234s"`, `20` → `"20ms"`, `360000` → `"6m0s"` (OpenAI's reset format). */
export function goDuration(ms: number): string {
	const whole = Math.max(0, Math.ceil(ms));
	if (whole < 1000) return `${whole}ms`;
	const minutes = Math.floor(whole / 60_000);
	const seconds = (whole - minutes * 60_000) / 1000;
	return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

function refill(b: Bucket, now: number): void {
	b.level = Math.min(b.capacity, b.level + b.rate * (now - b.at));
	b.at = now;
}

/** Time until the bucket is full, ms. */
function untilFull(b: Bucket): number {
	return (b.capacity - b.level) / b.rate;
}

export class ServerRateLimiter {
	private readonly requests?: Bucket;
	private readonly tokens?: Bucket;
	/** 429s answered by the limit (not by the fault plan). */
	rejected = 0;

	constructor(limit: ServerRateLimit, now: number = Date.now()) {
		if (limit.requestsPerSecond && limit.requestsPerSecond > 0) {
			const capacity = Math.max(1, Math.floor(limit.requestsPerSecond));
			this.requests = { capacity, rate: limit.requestsPerSecond / 1000, level: capacity, at: now };
		}
		if (limit.tokensPerMinute && limit.tokensPerMinute > 0) {
			this.tokens = { capacity: limit.tokensPerMinute, rate: limit.tokensPerMinute / 60_000, level: limit.tokensPerMinute, at: now };
		}
	}

	/** Take one request costing `tokens`, or refuse it; headers in the style of `api` either way. */
	take(tokens: number, anthropic: boolean, now: number = Date.now()): RateDecision {
		const buckets = [this.requests, this.tokens];
		const costs = [1, tokens];
		for (const b of buckets) if (b) refill(b, now);
		let waitMs = 0;
		buckets.forEach((b, i) => {
			if (b && b.level < Math.min(costs[i], b.capacity)) waitMs = Math.max(waitMs, (Math.min(costs[i], b.capacity) - b.level) / b.rate);
		});
		const ok = waitMs === 0;
		if (ok) buckets.forEach((b, i) => b && (b.level -= costs[i]));
		else this.rejected++;
		const headers: Record<string, string> = {};
		const describe = (name: 'requests' | 'tokens', b: Bucket | undefined): void => {
			if (!b) return;
			const remaining = String(Math.max(0, Math.floor(b.level)));
			if (anthropic) {
				headers[`anthropic-ratelimit-${name}-limit`] = String(b.capacity);
				headers[`anthropic-ratelimit-${name}-remaining`] = remaining;
				headers[`anthropic-ratelimit-${name}-reset`] = new Date(now + untilFull(b)).toISOString();
			} else {
				headers[`x-ratelimit-limit-${name}`] = String(b.capacity);
				headers[`x-ratelimit-remaining-${name}`] = remaining;
				headers[`x-ratelimit-reset-${name}`] = goDuration(untilFull(b));
			}
		};
		describe('requests', this.requests);
		describe('tokens', this.tokens);
		if (!ok) {
			headers['retry-after-ms'] = String(Math.ceil(waitMs));
			headers['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
		}
		return { ok, headers };
	}
}
