/**
 * Provider errors as n8n node errors: the help under the message depends on the error's class, so a fatal error
 * never suggests retries while its message says retrying will not help. The errors come over the wire from the
 * loopback model server through the official SDK.
 */
import type { INode } from 'n8n-workflow';
import { ProviderError } from '../../lib/errors';
import { createProvider } from '../../lib/providers';
import { startModelServer, type Behaviour, type ModelServer } from '../../lib/testing/model-server';
import { toNodeError } from '../../nodes/shared/errors';

const node: INode = { id: 'n', name: 'Extract', type: 'test', typeVersion: 1, position: [0, 0], parameters: {} };
let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

async function providerErrorFor(behaviour: Behaviour): Promise<ProviderError> {
	server.enqueue(behaviour);
	const model = { provider: 'openai' as const, name: 'test-model', temperature: 0, maxTokens: 50 };
	const provider = createProvider(model, { baseUrl: server.openaiBaseUrl, apiKey: 'test-key', maxRetries: 0, timeoutMs: 5_000 });
	const error = await provider.complete({ model, system: '', messages: [{ role: 'user', content: 'hi' }], jsonSchema: { type: 'object' }, schemaName: 's' }).then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(ProviderError);
	return error as ProviderError;
}

describe('the node error\'s hint follows the provider error\'s class', () => {
	it('fatal (429 insufficient_quota): key, billing and model; no retries or timeouts', async () => {
		const error = await providerErrorFor({ kind: 'status', status: 429, body: { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } });
		const wrapped = toNodeError(node, error, { itemIndex: 2, subject: 'item 2, signal "b"' });
		expect(wrapped.message).toMatch(/^item 2, signal "b": .*retrying will not help/);
		expect(wrapped.description).toMatch(/^Retrying will not help: check the model credential \(API key, Base URL\), the account's plan and billing, and the prompt's model name\.$/);
	});

	it('input (context_length_exceeded): shorten the input', async () => {
		const error = await providerErrorFor({ kind: 'status', status: 400, body: { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } });
		expect(toNodeError(node, error).description).toMatch(/shorten the input or use a model with a larger context window/);
		expect(toNodeError(node, error).description).not.toMatch(/Max Retries|billing/);
	});

	it('transient (503): retries and timeouts', async () => {
		const error = await providerErrorFor({ kind: 'status', status: 503 });
		expect(toNodeError(node, error).description).toBe('The provider failed for now: try again later, or raise Timeout / Max Retries in the node options.');
	});
});
