/**
 * The providers through the official SDKs against a real loopback model server: no mocked SDK objects.
 */
import { ProviderError } from '../lib/errors';
import { createProvider, type ProviderOptions, type ProviderRequest } from '../lib/providers';
import { startModelServer, type ModelServer } from '../lib/testing/model-server';
import type { ModelSpec } from '../lib/types';

const ENV_KEYS = ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_ADMIN_KEY', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_PROFILE'];
const savedEnv: Record<string, string | undefined> = {};

const SCHEMA = {
	type: 'object',
	properties: { value: { type: 'boolean' } },
	required: ['value'],
	additionalProperties: false,
};

function spec(over: Partial<ModelSpec> = {}): ModelSpec {
	return { provider: 'openai', name: 'test-model', temperature: 0, maxTokens: 50, ...over };
}

function request(model: ModelSpec, over: Partial<ProviderRequest> = {}): ProviderRequest {
	return {
		model,
		system: 'Answer whether the email announces a price change.',
		messages: [{ role: 'user', content: 'We will apply a price increase of 5% from March.' }],
		jsonSchema: SCHEMA,
		schemaName: 'price-change',
		...over,
	};
}

let server: ModelServer;

beforeAll(async () => {
	for (const key of ENV_KEYS) {
		savedEnv[key] = process.env[key];
		delete process.env[key];
	}
	server = await startModelServer({ rules: { models: ['test-model'], rules: [{ prompt: 'price-change', when: 'price increase', value: true }] } });
});

afterAll(async () => {
	await server.close();
	for (const key of ENV_KEYS) {
		if (savedEnv[key] === undefined) delete process.env[key];
		else process.env[key] = savedEnv[key];
	}
});

beforeEach(() => server.reset());

function openai(model: ModelSpec = spec(), options: ProviderOptions = {}) {
	return createProvider(model, { apiKey: 'sk-test', baseUrl: server.openaiBaseUrl, ...options });
}

function anthropic(model: ModelSpec = spec({ provider: 'anthropic' }), options: ProviderOptions = {}) {
	return createProvider(model, { apiKey: 'sk-ant-test', baseUrl: server.anthropicBaseUrl, ...options });
}

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(ProviderError);
	return error as ProviderError;
}

describe('OpenAI chat completions', () => {
	it('sends system + user, temperature, max_tokens and a strict json_schema; reads text and usage', async () => {
		server.enqueue({ kind: 'answer', text: '{"value":true}' });
		const res = await openai().complete(request(spec({ temperature: 0.2 })));

		expect(res.text).toBe('{"value":true}');
		expect(res.model).toBe('test-model');
		expect(res.usage.outputTokens).toBe(Math.ceil('{"value":true}'.length / 4));
		expect(res.usage.inputTokens).toBeGreaterThan(0);

		expect(server.requests).toHaveLength(1);
		const [sent] = server.requests;
		expect(sent.method).toBe('POST');
		expect(sent.path).toBe('/v1/chat/completions');
		expect(sent.headers.authorization).toBe('Bearer sk-test');
		expect(sent.body).toMatchObject({
			model: 'test-model',
			temperature: 0.2,
			max_tokens: 50,
			messages: [
				{ role: 'system', content: 'Answer whether the email announces a price change.' },
				{ role: 'user', content: 'We will apply a price increase of 5% from March.' },
			],
			response_format: { type: 'json_schema', json_schema: { name: 'price-change', schema: SCHEMA, strict: true } },
		});
		expect(sent.body).not.toHaveProperty('max_completion_tokens');
	});

	it('sends the repair turns in order', async () => {
		server.enqueue({ kind: 'answer', text: '{"value":false}' });
		const messages = [
			{ role: 'user' as const, content: 'q' },
			{ role: 'assistant' as const, content: 'yes' },
			{ role: 'user' as const, content: 'That was not JSON.' },
		];
		await openai().complete(request(spec(), { messages }));
		expect((server.requests[0].body as { messages: unknown[] }).messages.slice(1)).toEqual(messages);
	});

	it('returns empty text for empty content; the caller validates', async () => {
		server.enqueue({ kind: 'answer', text: '' });
		expect((await openai().complete(request(spec()))).text).toBe('');
	});

	it('turns a refusal into a ProviderError with the refusal text', async () => {
		server.enqueue({ kind: 'refusal', text: 'I cannot help with that.' });
		const err = await providerError(openai().complete(request(spec())));
		expect(err.message).toContain('I cannot help with that.');
	});
});

describe('OpenAI Responses API', () => {
	it('sends instructions, input, text.format json_schema and max_output_tokens; reads output_text', async () => {
		server.enqueue({ kind: 'answer', text: '{"value":false}' });
		const res = await openai().complete(request(spec({ api: 'responses' })));

		expect(res.text).toBe('{"value":false}');
		expect(res.usage.outputTokens).toBe(Math.ceil('{"value":false}'.length / 4));
		expect(res.usage.inputTokens).toBeGreaterThan(0);
		const [sent] = server.requests;
		expect(sent.path).toBe('/v1/responses');
		expect(sent.body).toMatchObject({
			model: 'test-model',
			instructions: 'Answer whether the email announces a price change.',
			input: [{ role: 'user', content: 'We will apply a price increase of 5% from March.' }],
			temperature: 0,
			max_output_tokens: 50,
			text: { format: { type: 'json_schema', name: 'price-change', schema: SCHEMA, strict: true } },
		});
	});

	it('turns a refusal part into a ProviderError', async () => {
		server.enqueue({ kind: 'refusal', text: 'No.' });
		const err = await providerError(openai().complete(request(spec({ api: 'responses' }))));
		expect(err.message).toContain('refused');
	});
});

describe('Anthropic messages', () => {
	it('forces one tool with the schema, sends system and max_tokens; the tool input is the text', async () => {
		server.enqueue({ kind: 'answer', text: '{"value":true}' });
		const res = await anthropic().complete(request(spec({ provider: 'anthropic' })));

		expect(JSON.parse(res.text)).toEqual({ value: true });
		expect(res.usage.outputTokens).toBeGreaterThan(0);
		expect(res.usage.inputTokens).toBeGreaterThan(0);
		const [sent] = server.requests;
		expect(sent.path).toBe('/v1/messages');
		expect(sent.headers['anthropic-version']).toBeTruthy();
		expect(sent.body).toMatchObject({
			model: 'test-model',
			max_tokens: 50,
			system: 'Answer whether the email announces a price change.',
			messages: [{ role: 'user', content: 'We will apply a price increase of 5% from March.' }],
			tools: [{ name: 'price-change', input_schema: SCHEMA }],
			tool_choice: { type: 'tool', name: 'price-change' },
		});
		const tools = (sent.body as { tools: Array<{ description?: string }> }).tools;
		expect(tools).toHaveLength(1);
		expect(tools[0].description).toBeTruthy();
	});

	it('returns the text blocks when the model did not call the tool', async () => {
		server.enqueue({ kind: 'answer', text: 'two weeks' });
		expect((await anthropic().complete(request(spec({ provider: 'anthropic' })))).text).toBe('two weeks');
	});

	it('maps an unknown model to a ProviderError naming it', async () => {
		const err = await providerError(anthropic().complete(request(spec({ provider: 'anthropic', name: 'claude-nope' }))));
		expect(err.status).toBe(404);
		expect(err.message).toContain(`model "claude-nope" is not available at anthropic (${server.anthropicBaseUrl})`);
	});

	it('says which key to set when there is none', async () => {
		const provider = createProvider(spec({ provider: 'anthropic' }), { baseUrl: server.anthropicBaseUrl });
		const err = await providerError(provider.complete(request(spec({ provider: 'anthropic' }))));
		expect(err.message).toContain('ANTHROPIC_API_KEY');
		expect(server.requests).toHaveLength(0);
	});
});

describe('retries, timeouts and broken responses', () => {
	it('retries a 429 with Retry-After, then succeeds', async () => {
		server.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '0' } }, { kind: 'answer', text: '{"value":true}' });
		const res = await openai().complete(request(spec()));
		expect(res.text).toBe('{"value":true}');
		expect(server.requests).toHaveLength(2);
	});

	it('retries a 500, then succeeds (Anthropic)', async () => {
		server.enqueue({ kind: 'status', status: 500, headers: { 'retry-after-ms': '10' } }, { kind: 'answer', text: '{"value":false}' });
		const res = await anthropic().complete(request(spec({ provider: 'anthropic' })));
		expect(JSON.parse(res.text)).toEqual({ value: false });
		expect(server.requests).toHaveLength(2);
	});

	it('gives up after maxRetries with the status', async () => {
		const retry = { kind: 'status' as const, status: 500, headers: { 'retry-after-ms': '0' } };
		server.enqueue(retry, retry, retry);
		const err = await providerError(openai(spec(), { maxRetries: 1 }).complete(request(spec())));
		expect(err.status).toBe(500);
		expect(err.message).toMatch(/HTTP 500/);
		expect(err.message).toContain('after 1 retry');
		expect(server.requests).toHaveLength(2);
	});

	it('reports a 429 that outlasts the retries as rate limited', async () => {
		server.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '0' } });
		const err = await providerError(openai(spec(), { maxRetries: 0 }).complete(request(spec())));
		expect(err.status).toBe(429);
		expect(err.message).toMatch(/rate limited/);
	});

	it('times out a hanging server', async () => {
		server.enqueue({ kind: 'hang' });
		const started = Date.now();
		const err = await providerError(openai(spec(), { timeoutMs: 300, maxRetries: 0 }).complete(request(spec())));
		expect(err.message).toContain('timed out after 300 ms');
		expect(Date.now() - started).toBeLessThan(3000);
	});

	it('times out a hanging server (Anthropic)', async () => {
		server.enqueue({ kind: 'hang' });
		const err = await providerError(anthropic(spec({ provider: 'anthropic' }), { timeoutMs: 300, maxRetries: 0 }).complete(request(spec({ provider: 'anthropic' }))));
		expect(err.message).toContain('timed out after 300 ms');
	});

	it('stops when the caller aborts', async () => {
		server.enqueue({ kind: 'hang' });
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 50);
		const err = await providerError(openai(spec(), { maxRetries: 0 }).complete(request(spec(), { signal: controller.signal })));
		expect(err.message).toContain('aborted');
	});

	const broken = [
		['malformed', /returned a response that is not valid JSON/],
		['truncated', /closed the connection before the response was complete/],
	] as const;

	it.each(broken)('turns a %s body into a ProviderError (OpenAI)', async (kind, message) => {
		server.enqueue({ kind });
		const err = await providerError(openai(spec(), { maxRetries: 0, timeoutMs: 2000 }).complete(request(spec())));
		expect(err.message).toMatch(message);
		expect(err.message).toContain(server.openaiBaseUrl);
	});

	it.each(broken)('turns a %s body into a ProviderError (Anthropic)', async (kind, message) => {
		server.enqueue({ kind });
		const err = await providerError(anthropic(spec({ provider: 'anthropic' }), { maxRetries: 0, timeoutMs: 2000 }).complete(request(spec({ provider: 'anthropic' }))));
		expect(err.message).toMatch(message);
		expect(err.message).toContain(server.anthropicBaseUrl);
	});

	it('rejects a 200 that is not a chat completion', async () => {
		server.enqueue({ kind: 'raw', body: '{"hello":"world"}' });
		const err = await providerError(openai().complete(request(spec())));
		expect(err.message).toContain('choices');
	});
});

describe('keys, base URLs and errors a user can act on', () => {
	it('maps an unknown model to a ProviderError naming the model and the base URL', async () => {
		const err = await providerError(openai().complete(request(spec({ name: 'gpt-nope' }))));
		expect(err.status).toBe(404);
		expect(err.message).toContain(`model "gpt-nope" is not available at openai (${server.openaiBaseUrl})`);
		expect(err.message).toContain('check model.name');
	});

	it('names the key on a 401', async () => {
		server.enqueue({ kind: 'status', status: 401 });
		const err = await providerError(openai().complete(request(spec())));
		expect(err.status).toBe(401);
		expect(err.message).toContain('OPENAI_API_KEY');
	});

	it('openai-compatible: uses model.baseUrl and a placeholder key when there is none', async () => {
		const model = spec({ provider: 'openai-compatible', baseUrl: server.openaiBaseUrl });
		const provider = createProvider(model);
		expect(provider.name).toBe('openai-compatible');
		const res = await provider.complete(request(model));
		expect(res.text).toBe('{"value":true}'); // from the rules
		expect(server.requests[0].headers.authorization).toMatch(/^Bearer \S+/);
	});

	it('openai: refuses to call without a key and says how to set one', async () => {
		const provider = createProvider(spec(), { baseUrl: server.openaiBaseUrl });
		const err = await providerError(provider.complete(request(spec())));
		expect(err.message).toContain('OPENAI_API_KEY');
		expect(server.requests).toHaveLength(0);
	});

	it('reads OPENAI_API_KEY and OPENAI_BASE_URL from the environment', async () => {
		process.env.OPENAI_API_KEY = 'sk-from-env';
		process.env.OPENAI_BASE_URL = server.openaiBaseUrl;
		try {
			const res = await createProvider(spec()).complete(request(spec()));
			expect(res.text).toBe('{"value":true}');
			expect(server.requests[0].headers.authorization).toBe('Bearer sk-from-env');
		} finally {
			delete process.env.OPENAI_API_KEY;
			delete process.env.OPENAI_BASE_URL;
		}
	});

	it('names the base URL when nothing listens there', async () => {
		const dead = await startModelServer();
		const baseUrl = dead.openaiBaseUrl;
		await dead.close();
		const err = await providerError(openai(spec(), { baseUrl, maxRetries: 0 }).complete(request(spec())));
		expect(err.message).toContain(`could not connect to openai at ${baseUrl}`);
	});

	it('sends extra headers', async () => {
		await openai(spec(), { headers: { 'x-team': 'billing' } }).complete(request(spec()));
		expect(server.requests[0].headers['x-team']).toBe('billing');
	});
});
