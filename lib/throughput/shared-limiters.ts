/**
 * One adaptive limiter per provider endpoint and key for the whole process, and the `fetch` the SDK
 * clients use to go through it (design: docs/adr/0030).
 *
 * The registry lives on `globalThis` under a `Symbol.for` key, so every copy of this module loaded in one
 * process (n8n loads each node file on its own) shares it: all fixtures of a run, and in n8n all items,
 * nodes and executions of that process, meet the same limiter for the same base URL and key.
 */
import { httpFetch, type FetchLike } from '../providers/http-fetch';
import { createHash } from 'node:crypto';
import { AdaptiveLimiter, type LimiterStats, type RequestCost } from './limiter';
import { readRateHeaders } from './rate-headers';
import { isAccountRefusal, readServerDetail } from '../providers/errors';

const REGISTRY = Symbol.for('n8n-nodes-prompt-release.limiters');

type Registry = Map<string, AdaptiveLimiter>;

function registry(): Registry {
	const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
	return (holder[REGISTRY] ??= new Map());
}

/** The registry key: the base URL without trailing slashes and a hash of the key (never the key itself). */
export function limiterKey(baseURL: string, apiKey: string | undefined): string {
	const keyHash = createHash('sha256').update(apiKey ?? '').digest('hex').slice(0, 16);
	return `${baseURL.replace(/\/+$/, '')} ${keyHash}`;
}

/** The process-wide limiter for this endpoint and key, created on first use. */
export function limiterFor(baseURL: string, apiKey: string | undefined): AdaptiveLimiter {
	const key = limiterKey(baseURL, apiKey);
	let limiter = registry().get(key);
	if (!limiter) {
		limiter = new AdaptiveLimiter();
		registry().set(key, limiter);
	}
	return limiter;
}

/** Counters of every limiter in this process, by key (for benchmarks and diagnostics). */
export function limiterStats(): Record<string, LimiterStats> {
	return Object.fromEntries([...registry()].map(([key, limiter]) => [key, limiter.stats]));
}

/** Forget every limiter (tests and benchmarks that need a fresh start). */
export function resetLimiters(): void {
	registry().clear();
}

/**
 * What a request body is expected to spend: input tokens estimated as characters / 4 (the same rule
 * providers document as a rough guide), output tokens as the cap the body sends
 * (`max_completion_tokens`, `max_tokens` or `max_output_tokens`; providers count the cap against the
 * token budget when the request starts).
 */
export function estimateCost(body: unknown): RequestCost {
	if (typeof body !== 'string') return { inputTokens: 0, outputTokens: 0 };
	let outputTokens = 0;
	const cap = /"max_(?:completion_|output_)?tokens"\s*:\s*(\d+)/.exec(body);
	if (cap) outputTokens = Number(cap[1]);
	return { inputTokens: Math.ceil(body.length / 4), outputTokens };
}

export type { FetchLike };

/**
 * A `fetch` for the SDK clients: each HTTP attempt (the SDK's retries included) waits for the limiter,
 * and its status and rate-limit headers go back to the limiter as soon as they arrive. Network errors
 * release the slot without teaching the limiter anything.
 *
 * `timeoutMs` is the attempt's timeout, counted from the moment the limiter lets the request go until its
 * headers arrive: time spent waiting in the limiter is the process pacing itself, not the provider being
 * slow, and must not turn a request that was never sent into a "timed out" failure. The client using this
 * fetch gives the SDK a timeout of `SDK_TIMEOUT_WHEN_LIMITED` so that only this one applies; an abort from
 * the SDK's signal (the caller cancelling) still ends the wait or the request at once.
 */
export function limitedFetch(limiter: AdaptiveLimiter, options: { rpm?: number; fetch?: FetchLike; timeoutMs?: number } = {}): FetchLike {
	const inner: FetchLike = options.fetch ?? httpFetch;
	return async (input, init) => {
		const signal = init?.signal ?? undefined;
		const ticket = await limiter.acquire(estimateCost(init?.body), { rpm: options.rpm, signal });
		let response: Response;
		const timeoutMs = options.timeoutMs;
		const attempt = timeoutMs !== undefined && timeoutMs > 0 ? new AbortController() : undefined;
		let timer: NodeJS.Timeout | undefined;
		const forward = (): void => attempt?.abort(signal?.reason);
		if (attempt) {
			if (signal?.aborted) attempt.abort(signal.reason);
			else signal?.addEventListener('abort', forward, { once: true });
			timer = setTimeout(() => attempt.abort(new DOMException('The operation timed out.', 'AbortError')), timeoutMs);
		}
		try {
			response = await inner(input, attempt ? { ...init, signal: attempt.signal } : init);
		} catch (error) {
			ticket.done();
			throw error;
		} finally {
			if (timer) clearTimeout(timer);
			signal?.removeEventListener('abort', forward);
		}
		ticket.done(response.status, readRateHeaders(response.headers));
		return response;
	};
}

/**
 * A `fetch` that reads every 4xx/5xx error body once and tells the SDK what it says, through the SDK's own
 * `x-should-retry` header (both the openai and @anthropic-ai/sdk clients obey it before their status rules):
 * a 4xx whose body says the account cannot be used (`insufficient_quota`, billing, deactivated; see
 * isAccountRefusal) gets `x-should-retry: false`, so a quota error is sent once instead of once per retry.
 * A body that is a one-element list around the error object (Gemini's OpenAI-compatible endpoint) is passed on
 * as that object, so the SDK's error carries the server's message and code. Other responses pass unchanged.
 */
export function stopRetriesOnAccountErrors(inner: FetchLike = httpFetch): FetchLike {
	return async (input, init) => {
		const response = await inner(input, init);
		if (response.status < 400 || response.body === null) return response;
		const text = await response.text();
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch {
			parsed = undefined;
		}
		const headers = new Headers(response.headers);
		// The text is already decoded: these would describe the original bytes, not the new body.
		headers.delete('content-encoding');
		headers.delete('content-length');
		const first: unknown = Array.isArray(parsed) && parsed.length === 1 ? parsed[0] : undefined;
		const unwrapped = first !== null && typeof first === 'object' && 'error' in first;
		const body = unwrapped ? JSON.stringify(first) : text;
		if (parsed !== undefined && response.status < 500 && isAccountRefusal(response.status, readServerDetail(parsed, ''))) headers.set('x-should-retry', 'false');
		return new Response(body, { status: response.status, statusText: response.statusText, headers });
	};
}

/**
 * The SDK timeout of a client whose fetch is `limitedFetch` with `timeoutMs`: long enough never to fire
 * first (24 h), so the attempt timeout counts from the moment a request leaves the limiter.
 */
export const SDK_TIMEOUT_WHEN_LIMITED = 24 * 60 * 60 * 1000;
