/**
 * A hung request after a burst of 429s (docs/adr/0030): the window is down to 1, and the one request holding
 * it never answers. Other calls to the same endpoint and key must still be answered long before the hung
 * one's 60 s timeout. No timed assertions: without the fix the calls below wait for the timeout and the
 * test runs out of time; with it, we count answers while the hung request is still pending.
 */
import { createProvider, type ProviderRequest } from '../../lib/providers';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { limiterStats, resetLimiters } from '../../lib/throughput/shared-limiters';
import type { ModelSpec } from '../../lib/types';

const SCHEMA = { type: 'object', properties: { value: { type: 'boolean' } }, required: ['value'], additionalProperties: false };
const model: ModelSpec = { provider: 'openai', name: 'test-model', temperature: 0, maxTokens: 20 };

function request(i: number): ProviderRequest {
	return { model, system: 'Does the email announce a price change?', messages: [{ role: 'user', content: `price increase #${i}` }], jsonSchema: SCHEMA, schemaName: 'price-change' };
}

let server: ModelServer;
beforeEach(() => resetLimiters());
afterEach(async () => server?.close());

test('after 429s cut the window to 1, a hung request stops holding the only slot: the other calls are answered', async () => {
	server = await startModelServer({ rules: { models: ['test-model'], rules: [{ prompt: 'price-change', value: true }] } });
	// maxRetries 0: each 429 reaches the limiter once and the call fails (the window halves to 1).
	const client = createProvider(model, { baseUrl: server.openaiBaseUrl, apiKey: 'stall-key', maxRetries: 0 });
	await expect(client.complete(request(0))).resolves.toBeDefined(); // a typical latency to compare with
	server.enqueue(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 429, headers: { 'retry-after-ms': '1' } })));
	for (let i = 0; i < 4; i++) await expect(client.complete(request(i))).rejects.toThrow();
	expect(Object.values(limiterStats())[0].window).toBe(1);

	server.enqueue({ kind: 'hang' });
	let hungSettled = false;
	const hung = client.complete(request(99)).finally(() => (hungSettled = true));
	hung.catch(() => undefined);
	const others = await Promise.all(Array.from({ length: 5 }, (_, i) => client.complete(request(100 + i))));
	expect(others).toHaveLength(5);
	expect(others.every((a) => a.text.includes('true'))).toBe(true);
	expect(hungSettled).toBe(false); // still in flight: the others did not wait for its timeout
	expect(Object.values(limiterStats())[0].stalled).toBeGreaterThanOrEqual(1);
	expect(server.completions).toBe(1 + 4 + 1 + 5);
}, 20_000);
