/**
 * The adaptive limiter: header reading, and over the wire against the loopback server enforcing a rate
 * limit like the providers do. No timed assertions: counts of requests and 429s only.
 */
import pLimit from 'p-limit';
import { createProvider, type ProviderRequest } from '../../lib/providers';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { goDuration } from '../../lib/testing/server-rate-limit';
import { parseDurationMs, readRateHeaders } from '../../lib/throughput/rate-headers';
import { limiterKey, limiterStats, resetLimiters } from '../../lib/throughput/shared-limiters';
import type { ModelSpec } from '../../lib/types';

const SCHEMA = { type: 'object', properties: { value: { type: 'boolean' } }, required: ['value'], additionalProperties: false };

function request(model: ModelSpec, i: number): ProviderRequest {
	return { model, system: 'Does the email announce a price change?', messages: [{ role: 'user', content: `price increase #${i}` }], jsonSchema: SCHEMA, schemaName: 'price-change' };
}

function headers(map: Record<string, string>): { get(name: string): string | null } {
	return { get: (name) => map[name] ?? null };
}

describe('rate-limit headers', () => {
	it('reads Go-style durations as OpenAI sends them', () => {
		expect(parseDurationMs('6m0s')).toBe(360_000);
		expect(parseDurationMs('20ms')).toBe(20);
		expect(parseDurationMs('1.5s')).toBe(1500);
		expect(parseDurationMs('1h2m3s')).toBe(3_723_000);
		expect(parseDurationMs('2')).toBe(2000);
		expect(parseDurationMs('soon')).toBeUndefined();
		expect(parseDurationMs(goDuration(1234))).toBe(1234);
	});

	it('reads OpenAI budgets and prefers retry-after-ms over retry-after', () => {
		const seen = readRateHeaders(
			headers({
				'x-ratelimit-limit-requests': '5000',
				'x-ratelimit-remaining-requests': '4999',
				'x-ratelimit-reset-requests': '12ms',
				'x-ratelimit-limit-tokens': '160000',
				'x-ratelimit-remaining-tokens': '159976',
				'x-ratelimit-reset-tokens': '9ms',
				'retry-after-ms': '250',
				'retry-after': '1',
			}),
		);
		expect(seen.budgets.requests).toEqual({ limit: 5000, remaining: 4999, resetMs: 12 });
		expect(seen.budgets.tokens).toEqual({ limit: 160000, remaining: 159976, resetMs: 9 });
		expect(seen.retryAfterMs).toBe(250);
	});

	it('reads Anthropic budgets with RFC 3339 reset times and retry-after as seconds or a date', () => {
		const now = Date.parse('2026-01-01T00:00:00Z');
		const seen = readRateHeaders(
			headers({
				'anthropic-ratelimit-requests-limit': '50',
				'anthropic-ratelimit-requests-remaining': '0',
				'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:02Z',
				'anthropic-ratelimit-input-tokens-remaining': '1000',
				'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT',
			}),
			now,
		);
		expect(seen.budgets.requests).toEqual({ limit: 50, remaining: 0, resetMs: 2000 });
		expect(seen.budgets['input-tokens']?.remaining).toBe(1000);
		expect(seen.retryAfterMs).toBe(3000);
		expect(readRateHeaders(headers({ 'retry-after': '2' })).retryAfterMs).toBe(2000);
	});

	it('keys limiters by base URL and a hash of the key, never the key itself', () => {
		expect(limiterKey('http://x/v1/', 'sk-secret')).toBe(limiterKey('http://x/v1', 'sk-secret'));
		expect(limiterKey('http://x/v1', 'sk-secret')).not.toContain('sk-secret');
		expect(limiterKey('http://x/v1', 'a')).not.toBe(limiterKey('http://x/v1', 'b'));
	});
});

describe('adaptive limiter over the wire', () => {
	let server: ModelServer;
	const rules = { models: ['test-model'], rules: [{ prompt: 'price-change', when: 'price increase', value: true }] };

	beforeEach(() => resetLimiters());
	afterEach(async () => server?.close());

	/** `limit` may depend on what one call costs in tokens (measured with a first call before the limit applies). */
	async function burst(provider: 'openai' | 'anthropic', total: number, limit: (tokensPerCall: number) => { requestsPerSecond?: number; tokensPerMinute?: number }, adaptive = true) {
		server = await startModelServer({ rules, latencyMs: 20 });
		const model: ModelSpec = { provider, name: 'test-model', temperature: 0, maxTokens: 20 };
		const client = createProvider(model, {
			baseUrl: provider === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl,
			apiKey: 'test-key',
			adaptive,
			maxRetries: 6,
		});
		await client.complete(request(model, 0));
		const probe = server.requests[server.requests.length - 1];
		server.setRateLimit(limit(Math.ceil(JSON.stringify(probe.body).length / 4) + 20));
		const before = server.completions;
		const limit16 = pLimit(16);
		const settled = await Promise.allSettled(Array.from({ length: total }, (_, i) => limit16(() => client.complete(request(model, i)))));
		const answers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
		return { answers, failed: settled.length - answers.length, rejections: server.rateLimitRejections, completions: server.completions - before };
	}

	it('answers every call with few 429s under a requests-per-second limit (OpenAI headers)', async () => {
		const { answers, rejections, completions } = await burst('openai', 120, () => ({ requestsPerSecond: 40 }));
		expect(answers).toHaveLength(120);
		expect(answers.every((a) => a.text.includes('true'))).toBe(true);
		// Without the limiter, 16 calls at once against a bucket of 40 refilling 40/s are refused by the dozen.
		expect(rejections).toBeLessThanOrEqual(6);
		expect(completions).toBe(120 + rejections);
		const stats = Object.values(limiterStats());
		expect(stats).toHaveLength(1);
		expect(stats[0].rateLimited).toBe(rejections);
	});

	it('follows a tokens-per-minute budget and Anthropic headers', async () => {
		// A budget of 90 % of what the 40 calls cost: the last tenth waits for the refill (about 6 s).
		const { answers, rejections } = await burst('anthropic', 40, (perCall) => ({ tokensPerMinute: Math.floor(perCall * 40 * 0.9) }));
		expect(answers).toHaveLength(40);
		expect(rejections).toBeLessThanOrEqual(4);
	}, 60_000);

	it('without the limiter the same burst is refused far more often (the SDK retries blindly)', async () => {
		const { rejections, failed } = await burst('openai', 120, () => ({ requestsPerSecond: 40 }), false);
		expect(rejections).toBeGreaterThan(6);
		expect(failed).toBeGreaterThanOrEqual(0);
	});
});
