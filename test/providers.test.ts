/**
 * The providers through the official SDKs against a real loopback model server: no mocked SDK objects.
 */
import { ProviderError } from '../lib/errors';
import { APIConnectionError } from 'openai';
import { createProvider, toProviderError, type ProviderOptions, type ProviderRequest } from '../lib/providers';
import { startModelServer, type ModelServer } from '../lib/testing/model-server';
import type { ModelSpec } from '../lib/types';

const ENV_KEYS = [
	'OPENAI_API_KEY',
	'OPENAI_BASE_URL',
	'OPENAI_ADMIN_KEY',
	'OPENAI_COMPATIBLE_API_KEY',
	'ANTHROPIC_API_KEY',
	'ANTHROPIC_BASE_URL',
	'ANTHROPIC_AUTH_TOKEN',
	'ANTHROPIC_PROFILE',
];
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

/** Run `fn` with these environment variables set, then remove them again. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
	Object.assign(process.env, vars);
	try {
		return await fn();
	} finally {
		for (const key of Object.keys(vars)) delete process.env[key];
	}
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
	it('sends system + user, temperature, max_completion_tokens and a strict json_schema; reads text and usage', async () => {
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
			max_completion_tokens: 50,
			messages: [
				{ role: 'system', content: 'Answer whether the email announces a price change.' },
				{ role: 'user', content: 'We will apply a price increase of 5% from March.' },
			],
			response_format: { type: 'json_schema', json_schema: { name: 'price-change', schema: SCHEMA, strict: true } },
		});
		expect(sent.body).not.toHaveProperty('max_tokens');
	});

	it.each(['o1', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-5-mini'])('openai: sends no temperature to the reasoning model %s', async (name) => {
		server.enqueue({ kind: 'answer', text: '{"value":true}' });
		await openai().complete(request(spec({ name, temperature: 0.3 })));
		const body = server.requests[0].body as Record<string, unknown>;
		expect(body).toMatchObject({ model: name, max_completion_tokens: 50 });
		expect(body).not.toHaveProperty('temperature');
		expect(body).not.toHaveProperty('max_tokens');
	});

	it('openai-compatible: keeps max_tokens and temperature, whatever the model name', async () => {
		server.enqueue({ kind: 'answer', text: '{"value":true}' }, { kind: 'answer', text: '{"value":true}' });
		for (const name of ['llama3.1', 'gpt-5']) {
			const model = spec({ provider: 'openai-compatible', name, temperature: 0.3 });
			await openai(model).complete(request(model));
		}
		for (const sent of server.requests) {
			expect(sent.body).toMatchObject({ max_tokens: 50, temperature: 0.3 });
			expect(sent.body).not.toHaveProperty('max_completion_tokens');
		}
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

	it('reports a refusal as how the answer ended, with the refusal text (not an error)', async () => {
		server.enqueue({ kind: 'refusal', text: 'I cannot help with that.' });
		const res = await openai().complete(request(spec()));
		expect(res).toMatchObject({ text: '', refusal: 'I cannot help with that.', end: { reason: 'refusal', providerReason: 'stop' } });
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

	it('openai: sends no temperature to a reasoning model', async () => {
		server.enqueue({ kind: 'answer', text: '{"value":true}' });
		await openai().complete(request(spec({ api: 'responses', name: 'o4-mini', temperature: 0.3 })));
		expect(server.requests[0].body).toMatchObject({ model: 'o4-mini', max_output_tokens: 50 });
		expect(server.requests[0].body).not.toHaveProperty('temperature');
	});

	it('reports a refusal part as a refusal with its text', async () => {
		server.enqueue({ kind: 'refusal', text: 'No.' });
		const res = await openai().complete(request(spec({ api: 'responses' })));
		expect(res).toMatchObject({ text: '', refusal: 'No.', end: { reason: 'refusal' } });
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
			tool_choice: { type: 'tool', name: 'price-change', disable_parallel_tool_use: true },
		});
		const tools = (sent.body as { tools: Array<{ description?: string }> }).tools;
		expect(tools).toHaveLength(1);
		expect(tools[0].description).toBeTruthy();
	});

	it('sends exactly these parameters: no temperature (the SDK has none), nothing else added or dropped silently', async () => {
		server.enqueue({ kind: 'answer', text: '{"value":true}' });
		await anthropic().complete(request(spec({ provider: 'anthropic', temperature: 0.7 })));
		expect(Object.keys(server.requests[0].body as object).sort()).toEqual(['max_tokens', 'messages', 'model', 'system', 'tool_choice', 'tools']);
	});

	it('returns the text blocks when the model did not call the tool', async () => {
		server.enqueue({ kind: 'answer', text: 'two weeks' });
		expect((await anthropic().complete(request(spec({ provider: 'anthropic' })))).text).toBe('two weeks');
	});

	it('maps an unknown model to a fatal ProviderError naming it', async () => {
		const err = await providerError(anthropic().complete(request(spec({ provider: 'anthropic', name: 'claude-nope' }))));
		expect(err.status).toBe(404);
		expect(err.fatal).toBe(true);
		expect(err.message).toContain(`model "claude-nope" is not available at anthropic (${server.anthropicBaseUrl})`);
	});

	it('says which key to set when there is none (fatal)', async () => {
		const provider = createProvider(spec({ provider: 'anthropic' }), { baseUrl: server.anthropicBaseUrl });
		const err = await providerError(provider.complete(request(spec({ provider: 'anthropic' }))));
		expect(err.message).toContain('ANTHROPIC_API_KEY');
		expect(err.fatal).toBe(true);
		expect(server.requests).toHaveLength(0);
	});
});

describe('retries, timeouts and broken responses', () => {
	it('retries a 429 after the Retry-After delay, then succeeds', async () => {
		// One second: well above the SDK's own first backoff (< 500 ms), so an ignored header fails the test.
		server.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '1' } }, { kind: 'answer', text: '{"value":true}' });
		const res = await openai().complete(request(spec()));
		expect(res.text).toBe('{"value":true}');
		expect(server.requests).toHaveLength(2);
		expect(server.requests[1].receivedAt - server.requests[0].receivedAt).toBeGreaterThanOrEqual(900);
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
		expect(err.fatal).toBeFalsy();
	});

	it('reports a 429 that outlasts the retries as rate limited', async () => {
		server.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '0' } });
		const err = await providerError(openai(spec(), { maxRetries: 0 }).complete(request(spec())));
		expect(err.status).toBe(429);
		expect(err.message).toMatch(/rate limited/);
		expect(err.fatal).toBeFalsy();
	});

	it('times out a hanging server', async () => {
		server.enqueue({ kind: 'hang' });
		const started = Date.now();
		const err = await providerError(openai(spec(), { timeoutMs: 300, maxRetries: 0 }).complete(request(spec())));
		expect(err.message).toContain('timed out after 300 ms');
		expect(Date.now() - started).toBeLessThan(3000);
		expect(err.fatal).toBeFalsy();
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
		expect(err.fatal).toBeFalsy();
	});

	it.each(broken)('turns a %s body into a ProviderError (Anthropic)', async (kind, message) => {
		server.enqueue({ kind });
		const err = await providerError(anthropic(spec({ provider: 'anthropic' }), { maxRetries: 0, timeoutMs: 2000 }).complete(request(spec({ provider: 'anthropic' }))));
		expect(err.message).toMatch(message);
		expect(err.message).toContain(server.anthropicBaseUrl);
		expect(err.fatal).toBeFalsy();
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
		expect(err.fatal).toBe(true);
	});

	it('names the key on a 401 (fatal): the key given with the base URL, never OPENAI_API_KEY, which that server is not sent', async () => {
		server.enqueue({ kind: 'status', status: 401 });
		const err = await providerError(openai().complete(request(spec())));
		expect(err.status).toBe(401);
		expect(err.message).toContain('set a valid key in the API key of the n8n credential');
		expect(err.message).not.toContain('OPENAI_API_KEY');
		expect(err.fatal).toBe(true);
	});

	it('marks a 403 and a rejected request (400) as fatal: every call would fail alike', async () => {
		server.enqueue({ kind: 'status', status: 403 }, { kind: 'status', status: 400 });
		const forbidden = await providerError(anthropic().complete(request(spec({ provider: 'anthropic' }))));
		expect(forbidden.status).toBe(403);
		expect(forbidden.fatal).toBe(true);
		const bad = await providerError(openai().complete(request(spec())));
		expect(bad.status).toBe(400);
		expect(bad.category).toBe('fatal');
		expect(bad.message).toMatch(/rejected the request for model "test-model": check the prompt's model settings/);
	});

	it('openai-compatible: a missing base URL is fatal', async () => {
		const model = spec({ provider: 'openai-compatible' });
		const err = await providerError(createProvider(model).complete(request(model)));
		expect(err.message).toContain('needs a base URL');
		expect(err.fatal).toBe(true);
	});

	it('marks ENOTFOUND as fatal, other socket errors not', () => {
		const ctx = { provider: 'openai' as const, model: 'm', baseURL: 'http://nowhere.invalid/v1', keyHint: 'k', timeoutMs: 1000, maxRetries: 0 };
		const socketError = (code: string) => new APIConnectionError({ cause: Object.assign(new Error(`getaddrinfo ${code}`), { code }) });
		const notFound = toProviderError(socketError('ENOTFOUND'), ctx);
		expect(notFound.message).toContain('(ENOTFOUND)');
		expect(notFound.fatal).toBe(true);
		expect(toProviderError(socketError('ECONNRESET'), ctx).fatal).toBeFalsy();
	});

	it('openai-compatible: uses model.baseUrl and a placeholder key when there is none', async () => {
		const model = spec({ provider: 'openai-compatible', baseUrl: server.openaiBaseUrl });
		const provider = createProvider(model);
		expect(provider.name).toBe('openai-compatible');
		const res = await provider.complete(request(model));
		expect(res.text).toBe('{"value":true}'); // from the rules
		expect(server.requests[0].headers.authorization).toMatch(/^Bearer \S+/);
	});

	it('openai: refuses to call without a key and says how to set one (fatal)', async () => {
		const provider = createProvider(spec(), { baseUrl: server.openaiBaseUrl });
		const err = await providerError(provider.complete(request(spec())));
		expect(err.message).toContain('OPENAI_API_KEY');
		expect(err.fatal).toBe(true);
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
		expect(err.message).toContain(`could not connect to openai at ${baseUrl} (ECONNREFUSED)`);
		expect(err.fatal).toBe(true);
	});

	it('sends extra headers', async () => {
		await openai(spec(), { headers: { 'x-team': 'billing' } }).complete(request(spec()));
		expect(server.requests[0].headers['x-team']).toBe('billing');
	});
});

describe('a key travels only to the base URL configured with it', () => {
	const authOf = (i = 0) => server.requests[i].headers.authorization;

	it('openai: the prompt names the server: OPENAI_API_KEY stays home, a placeholder goes', async () => {
		const model = spec({ baseUrl: server.openaiBaseUrl });
		await withEnv({ OPENAI_API_KEY: 'sk-host-secret' }, () => createProvider(model).complete(request(model)));
		expect(authOf()).toBe('Bearer not-needed');
		expect(JSON.stringify(server.requests[0].headers)).not.toContain('sk-host-secret');
	});

	it('openai: the prompt names the server: OPENAI_COMPATIBLE_API_KEY goes, if set', async () => {
		const model = spec({ baseUrl: server.openaiBaseUrl });
		await withEnv({ OPENAI_API_KEY: 'sk-host-secret', OPENAI_COMPATIBLE_API_KEY: 'sk-local' }, () => createProvider(model).complete(request(model)));
		expect(authOf()).toBe('Bearer sk-local');
	});

	it('openai-compatible: the prompt names the server: OPENAI_API_KEY stays home', async () => {
		const model = spec({ provider: 'openai-compatible', baseUrl: server.openaiBaseUrl });
		await withEnv({ OPENAI_API_KEY: 'sk-host-secret' }, () => createProvider(model).complete(request(model)));
		expect(authOf()).toBe('Bearer not-needed');
	});

	it('an apiKey option without its baseUrl does not go to the server the prompt names', async () => {
		const model = spec({ baseUrl: server.openaiBaseUrl });
		await createProvider(model, { apiKey: 'sk-credential' }).complete(request(model));
		expect(authOf()).toBe('Bearer not-needed');
	});

	it('apiKey and baseUrl options given together: the key goes there, whatever the prompt names', async () => {
		const model = spec({ baseUrl: 'http://127.0.0.1:9/v1' });
		await createProvider(model, { apiKey: 'sk-credential', baseUrl: server.openaiBaseUrl }).complete(request(model));
		expect(authOf()).toBe('Bearer sk-credential');
	});

	it('OPENAI_API_KEY goes to OPENAI_BASE_URL, also when the prompt names that same server', async () => {
		const model = spec({ baseUrl: `${server.openaiBaseUrl}/` });
		await withEnv({ OPENAI_API_KEY: 'sk-host', OPENAI_BASE_URL: server.openaiBaseUrl }, () => createProvider(model).complete(request(model)));
		expect(authOf()).toBe('Bearer sk-host');
	});

	it('OPENAI_API_KEY does not follow a baseUrl option to another server', async () => {
		const err = await withEnv({ OPENAI_API_KEY: 'sk-host-secret' }, () => providerError(createProvider(spec(), { baseUrl: server.openaiBaseUrl }).complete(request(spec()))));
		expect(err.message).toContain('OPENAI_API_KEY is only sent to https://api.openai.com/v1');
		expect(server.requests).toHaveLength(0);
	});

	it('anthropic: the prompt names the server: ANTHROPIC_API_KEY stays home, a placeholder goes', async () => {
		const model = spec({ provider: 'anthropic', baseUrl: server.anthropicBaseUrl });
		await withEnv({ ANTHROPIC_API_KEY: 'sk-ant-host-secret' }, () => createProvider(model).complete(request(model)));
		expect(authOf()).toBe('Bearer not-needed');
		expect(JSON.stringify(server.requests[0].headers)).not.toContain('sk-ant-host-secret');
	});

	it('anthropic: the prompt names the server: neither ANTHROPIC_AUTH_TOKEN nor an apiKey option without baseUrl goes', async () => {
		const model = spec({ provider: 'anthropic', baseUrl: server.anthropicBaseUrl });
		await withEnv({ ANTHROPIC_AUTH_TOKEN: 'sk-ant-token-secret' }, () => createProvider(model, { apiKey: 'sk-ant-credential' }).complete(request(model)));
		expect(authOf()).toBe('Bearer not-needed');
		expect(JSON.stringify(server.requests[0].headers)).not.toMatch(/sk-ant-(token-secret|credential)/);
	});

	it('anthropic: ANTHROPIC_API_KEY goes to ANTHROPIC_BASE_URL', async () => {
		const model = spec({ provider: 'anthropic' });
		await withEnv({ ANTHROPIC_API_KEY: 'sk-ant-host', ANTHROPIC_BASE_URL: server.anthropicBaseUrl }, () => createProvider(model).complete(request(model)));
		expect(authOf()).toBe('Bearer sk-ant-host');
	});
});
