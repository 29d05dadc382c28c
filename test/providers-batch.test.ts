/**
 * The batch path of both providers against the loopback server: every batch line is answered and read
 * like a direct call (same text, usage, finish reasons, refusals and error classes).
 */
import { BatchingProvider } from '../lib/batch/batching-provider';
import { PendingBatches } from '../lib/batch/pending';
import { AnthropicProvider, OpenAIProvider } from '../lib/providers';
import type { ProviderRequest } from '../lib/providers/types';
import { startModelServer, type ModelServer } from '../lib/testing/model-server';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let server: ModelServer;
beforeAll(async () => {
	server = await startModelServer({ rules: { rules: [{ prompt: 'p', when: 'yes', value: true }, { prompt: 'p', value: false }] } });
});
afterAll(async () => {
	await server.close();
});
beforeEach(() => {
	server.reset();
	server.setBatchPolls(2);
});

function req(content: string, over: Partial<ProviderRequest['model']> = {}): ProviderRequest {
	return {
		model: { provider: 'openai', name: 'gpt-4o-mini', temperature: 0, maxTokens: 20, ...over },
		system: 'Answer.',
		messages: [{ role: 'user', content }],
		jsonSchema: { type: 'object', properties: { value: { type: 'boolean' } }, required: ['value'], additionalProperties: false },
		schemaName: 'p',
	};
}

const direct = {
	openai: () => new OpenAIProvider('openai', { baseUrl: server.openaiBaseUrl, apiKey: 'k', maxRetries: 0 }),
	anthropic: () => new AnthropicProvider({ baseUrl: server.anthropicBaseUrl, apiKey: 'k', maxRetries: 0 }),
};

for (const [name, api] of [['openai', 'chat'], ['openai', 'responses'], ['anthropic', undefined]] as const) {
	test(`${name}${api ? ` ${api}` : ''}: answers, cut-offs and errors read like direct calls`, async () => {
		const model = name === 'anthropic' ? { provider: 'anthropic' as const, name: 'claude-haiku-4-5' } : { ...(api === 'responses' ? { api } : {}) };
		const cut = name === 'anthropic' ? 'max_tokens' : api === 'responses' ? 'max_output_tokens' : 'length';
		const plain = direct[name]();
		server.enqueue({ kind: 'answer', text: '{"value": tr', finish: cut }, { kind: 'status', status: 429 }, { kind: 'status', status: 404 });
		const expected = [await plain.complete(req('yes please', model)).then((r) => r.end.reason), await plain.complete(req('no', model)).catch((e: Error) => e.constructor.name)];
		expect(expected).toEqual(['length', 'ProviderError']);
		await plain.complete(req('yes', model)).catch(() => undefined);
		const oneDirect = await plain.complete(req('yes', model));

		server.reset();
		const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'batch-'));
		const batching = new BatchingProvider(direct[name](), { pending: new PendingBatches(dir), pollIntervalMs: 5, quietMs: 10 });
		server.enqueue({ kind: 'answer', text: '{"value": tr', finish: cut }, { kind: 'status', status: 429 }, { kind: 'status', status: 404 });
		const settled = await Promise.allSettled([req('cut', model), req('limited', model), req('unknown', model), req('yes', model), req('no', model)].map((r) => batching.complete(r)));
		const [c, limited, unknown, yes, no] = settled;
		expect(c.status === 'fulfilled' && c.value.end.reason).toBe('length');
		expect(limited.status === 'rejected' && (limited.reason as { category: string }).category).toBe('transient');
		expect(unknown.status === 'rejected' && (unknown.reason as { category: string }).category).toBe('fatal');
		expect(yes.status === 'fulfilled' && yes.value).toMatchObject({ text: oneDirect.text, usage: oneDirect.usage, end: oneDirect.end, batch: true });
		expect(no.status === 'fulfilled' && JSON.parse(no.value.text)).toEqual({ value: false });
		expect(batching.batchIds).toHaveLength(1);
		expect(await fs.readdir(dir)).toEqual([]);
	});
}
