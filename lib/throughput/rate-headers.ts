/**
 * Reads the rate-limit state that OpenAI and Anthropic send with every response, and the retry hints
 * sent with a 429, into one shape the limiter understands.
 *
 * Sources (checked against the providers' documentation and their official SDKs):
 * - OpenAI "Rate limits" guide: `x-ratelimit-limit-requests|tokens`, `x-ratelimit-remaining-requests|tokens`,
 *   `x-ratelimit-reset-requests|tokens`; the reset is a Go-style duration until the budget is fully
 *   replenished (`"1s"`, `"6m0s"`, `"20ms"`, `"1h2m3.5s"`).
 * - Anthropic "Rate limits" reference: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`;
 *   the reset is an RFC 3339 timestamp at which the budget is fully replenished.
 * - Both SDKs (openai-node and anthropic-sdk-typescript `retryRequest`): `retry-after-ms` (milliseconds, not standard)
 *   wins over `retry-after` (seconds, or an HTTP date).
 */

/** One budget as a response reports it. `resetMs`: time from the response until the budget is full again. */
export interface BudgetState {
	limit?: number;
	remaining: number;
	resetMs?: number;
}

/** The budgets the limiter follows; the cost of one request in each is estimated by the caller. */
export type BudgetName = 'requests' | 'tokens' | 'input-tokens' | 'output-tokens';

export interface RateObservation {
	budgets: Partial<Record<BudgetName, BudgetState>>;
	/** From `retry-after-ms` / `retry-after`; undefined when the response has neither. */
	retryAfterMs?: number;
}

/** A minimal read-only view of response headers (fetch `Headers` fits). */
export interface HeaderSource {
	get(name: string): string | null;
}

const GO_DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/** `"6m0s"` → 360000, `"20ms"` → 20, `"1.5s"` → 1500, a bare number → seconds; undefined when unreadable. */
export function parseDurationMs(text: string | null | undefined): number | undefined {
	if (!text) return undefined;
	const t = text.trim();
	if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
	const m = GO_DURATION.exec(t);
	if (!m || t === '') return undefined;
	const [h, min, s, ms] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
	return ((h * 60 + min) * 60 + s) * 1000 + ms;
}

function num(text: string | null): number | undefined {
	if (text === null || text.trim() === '') return undefined;
	const n = Number(text);
	return Number.isFinite(n) ? n : undefined;
}

/** `retry-after-ms`, else `retry-after` as seconds or as an HTTP date; negative results count as 0. */
export function retryAfterMs(headers: HeaderSource, now: number = Date.now()): number | undefined {
	const ms = num(headers.get('retry-after-ms'));
	if (ms !== undefined) return Math.max(0, ms);
	const after = headers.get('retry-after');
	if (!after) return undefined;
	const seconds = num(after);
	if (seconds !== undefined) return Math.max(0, seconds * 1000);
	const at = Date.parse(after);
	return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Everything the headers say about the caller's budgets (empty `budgets` for servers that send none). */
export function readRateHeaders(headers: HeaderSource, now: number = Date.now()): RateObservation {
	const budgets: RateObservation['budgets'] = {};
	for (const name of ['requests', 'tokens'] as const) {
		const remaining = num(headers.get(`x-ratelimit-remaining-${name}`));
		if (remaining === undefined) continue;
		budgets[name] = { remaining, limit: num(headers.get(`x-ratelimit-limit-${name}`)), resetMs: parseDurationMs(headers.get(`x-ratelimit-reset-${name}`)) };
	}
	for (const name of ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const) {
		const remaining = num(headers.get(`anthropic-ratelimit-${name}-remaining`));
		if (remaining === undefined) continue;
		const reset = headers.get(`anthropic-ratelimit-${name}-reset`);
		const at = reset ? Date.parse(reset) : NaN;
		budgets[name] = { remaining, limit: num(headers.get(`anthropic-ratelimit-${name}-limit`)), resetMs: Number.isNaN(at) ? undefined : Math.max(0, at - now) };
	}
	const retry = retryAfterMs(headers, now);
	return { budgets, ...(retry !== undefined ? { retryAfterMs: retry } : {}) };
}
