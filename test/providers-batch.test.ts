/**
 * The batch path of both providers against the loopback server: every batch line is answered and read
 * like a direct call (same text, usage, finish reasons, refusals and error classes).
 */
import { BatchingProvider, roundKey } from '../lib/batch/batching-provider';
import { responseCacheKey } from '../lib/cache/key';
import { ProviderError } from '../lib/errors';
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

describe('a saved batch id the provider no longer knows', () => {
	/** Save a pending batch for `request` (as an interrupted run would have) with the given id. */
	async function savePending(dir: string, provider: OpenAIProvider | AnthropicProvider, request: ProviderRequest, batchId: string): Promise<PendingBatches> {
		const pending = new PendingBatches(dir);
		const key = responseCacheKey(provider.name, provider.baseUrlFor(request.model), request);
		await pending.save({ format: 1, round: roundKey([key]), batchId, label: 'earlier run', submittedAt: '2026-01-02T03:04:05.000Z', customIds: [key] });
		return pending;
	}

	for (const name of ['openai', 'anthropic'] as const) {
		test(`${name}: the provider's 404 for the batch drops the saved id with a notice and submits the requests anew`, async () => {
			const model = name === 'anthropic' ? { provider: 'anthropic' as const, name: 'claude-haiku-4-5' } : {};
			const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'batch-'));
			const inner = direct[name]();
			const request = req('yes', model);
			const pending = await savePending(dir, inner, request, name === 'openai' ? 'batch_gone' : 'msgbatch_gone');
			const notices: string[] = [];
			const resumedFlags: boolean[] = [];
			const batching = new BatchingProvider(inner, { pending, pollIntervalMs: 5, quietMs: 10, onNotice: (m) => notices.push(m), onProgress: (p) => resumedFlags.push(p.resumed) });
			const answer = await batching.complete(request);
			expect(JSON.parse(answer.text)).toEqual({ value: true });
			expect(server.batchCount()).toBe(1);
			expect(notices).toHaveLength(1);
			expect(notices[0]).toMatch(new RegExp(`batch ${name === 'openai' ? 'batch_gone' : 'msgbatch_gone'} \\(saved 2026-01-02T03:04:05.000Z in ${dir}/[0-9a-f]{64}\\.json\\) is unknown to ${name === 'openai' ? 'openai' : 'anthropic message'} batch at .*HTTP 404.*dropped.*submitted anew`));
			// Only the new batch is the run's: the stale id is not reported as one of its batches.
			expect(batching.batchIds).toEqual([...server.batchIds()]);
			expect(resumedFlags.every((r) => !r)).toBe(true);
			expect(await fs.readdir(dir)).toEqual([]);
		});
	}

	test('a batch that vanishes while this run polls it ends the run with what to do, and its saved id is dropped', async () => {
		const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'batch-'));
		server.setBatchPolls(1_000_000);
		const batching = new BatchingProvider(direct.openai(), {
			pending: new PendingBatches(dir),
			pollIntervalMs: 5,
			quietMs: 10,
			onProgress: () => server.reset(), // the server restarts after the first status answer: the batch is gone
		});
		const error = await batching.complete(req('yes')).catch((e: unknown) => e as ProviderError);
		expect(error).toBeInstanceOf(ProviderError);
		expect((error as ProviderError).fatal).toBe(true);
		expect((error as ProviderError).message).toMatch(/no longer knows batch batch_\w+, submitted by this run \(HTTP 404: No batch found.*its saved id was dropped: run the same command again to submit the requests anew/);
		expect(await fs.readdir(dir)).toEqual([]);
	});

	test('a server that cannot be reached keeps the saved id and says to run again to resume', async () => {
		const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'batch-'));
		const closed = await startModelServer();
		const baseUrl = closed.openaiBaseUrl;
		await closed.close();
		const inner = new OpenAIProvider('openai', { baseUrl, apiKey: 'k', maxRetries: 0 });
		const request = req('yes');
		const pending = await savePending(dir, inner, request, 'batch_elsewhere');
		const notices: string[] = [];
		const batching = new BatchingProvider(inner, { pending, pollIntervalMs: 5, quietMs: 10, onNotice: (m) => notices.push(m) });
		await expect(batching.complete(request)).rejects.toThrow(/lost contact with openai batch at .*, batch batch_elsewhere: could not connect .*ECONNREFUSED.*The batch keeps running at the provider: run the same command again to resume it/);
		expect(notices).toEqual([]);
		expect(await fs.readdir(dir)).toHaveLength(1);
	});
});
