/**
 * How real answers end, sent over the wire by the loopback model server in each API's own shape and read
 * through the official SDKs, the providers and runPrompt: finish reasons, cut-offs, filters, refusals and
 * provider error codes. A value is valid only when the model finished and the value passed the schema.
 */
import { ProviderError } from '../../lib/errors';
import { createProvider } from '../../lib/providers';
import { runFixtures } from '../../lib/runner';
import { runPrompt } from '../../lib/run-prompt';
import { startModelServer, type Behaviour, type ModelServer } from '../../lib/testing/model-server';
import type { CallResult, ModelSpec, OutputSchema, PromptSpec, ProviderName } from '../../lib/types';
import { fixture, makeSpec, resolvedOf } from '../unit/helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

const PRICE_OBJECT: OutputSchema = {
	type: 'object',
	properties: { newPrice: { type: 'number', nullable: true }, currency: { type: 'string', enum: ['EUR', 'USD'], nullable: true } },
};

type Wire = ProviderName | 'responses';

function specFor(wire: Wire, output: OutputSchema = { type: 'boolean' }, model: Partial<ModelSpec> = {}): PromptSpec {
	const provider: ProviderName = wire === 'responses' ? 'openai' : wire;
	return makeSpec({ output, model: { provider, name: 'test-model', temperature: 0, maxTokens: 50, ...(wire === 'responses' ? { api: 'responses' } : {}), ...model } });
}

function call(spec: PromptSpec, ...answers: Behaviour[]): Promise<CallResult> {
	server.enqueue(...answers);
	const baseUrl = spec.model.provider === 'anthropic' ? server.anthropicBaseUrl : server.openaiBaseUrl;
	const provider = createProvider(spec.model, { baseUrl, apiKey: 'test-key', maxRetries: 0, timeoutMs: 5_000 });
	return runPrompt(resolvedOf(spec), { subject: 'Price update', body: 'New price 968.50 from March.' }, provider);
}

function posts(): number {
	return server.requests.filter((r) => r.method === 'POST').length;
}

describe('an answer that did not finish is never valid', () => {
	it('anthropic: a forced tool input cut at max_tokens is invalid even though it parses (the nullable currency would have read null)', async () => {
		const result = await call(specFor('anthropic', PRICE_OBJECT), { kind: 'answer', text: '{"newPrice": 968.5}', finish: 'max_tokens' });
		expect(result).toMatchObject({ valid: false, reason: 'answer cut off at maxTokens 50 (the provider said "max_tokens"): raise model.maxTokens' });
		expect(result.meta.finishReasons).toEqual(['length']);
		expect(posts()).toBe(1); // no repair call for a cap a repair cannot lift
	});

	it.each<Wire>(['openai', 'openai-compatible'])('%s chat: JSON cut at finish_reason "length" names the cap, not "not JSON", with no repair call', async (wire) => {
		const result = await call(specFor(wire, PRICE_OBJECT), { kind: 'answer', text: '{"newPrice": 968.5, "curr', finish: 'length' });
		expect(result).toMatchObject({ valid: false, reason: 'answer cut off at maxTokens 50 (the provider said "length"): raise model.maxTokens', rawOutput: '{"newPrice": 968.5, "curr' });
		expect(posts()).toBe(1);
	});

	it('responses: status incomplete with max_output_tokens is a cut-off', async () => {
		const result = await call(specFor('responses'), { kind: 'answer', text: '{"value": tr', finish: 'max_output_tokens' });
		expect(result).toMatchObject({ valid: false, reason: 'answer cut off at maxTokens 50 (the provider said "max_output_tokens"): raise model.maxTokens' });
		expect(result.meta.finishReasons).toEqual(['length']);
	});

	it('a complete-looking answer cut at the cap is still invalid', async () => {
		const result = await call(specFor('openai'), { kind: 'answer', text: '{"value": true}', finish: 'length' });
		expect(result.valid).toBe(false);
	});

	it('a reasoning model that spent its whole budget on reasoning says so', async () => {
		const result = await call(specFor('openai', { type: 'boolean' }, { name: 'o4-mini' }), { kind: 'answer', text: '', finish: 'length', reasoningTokens: 50 });
		expect(result).toMatchObject({ valid: false, reason: 'no answer: the model spent its whole output budget (maxTokens 50) on reasoning (50 reasoning tokens): raise model.maxTokens' });
		expect(posts()).toBe(1);
	});

	it.each<[Wire, string]>([
		['openai', 'content_filter'],
		['responses', 'content_filter'],
	])('%s: stopped by the content filter is invalid with a reason for a person, no repair', async (wire, finish) => {
		const result = await call(specFor(wire), { kind: 'answer', text: '{"value": tru', finish });
		expect(result).toMatchObject({ valid: false, reason: `answer stopped by the provider's content filter (the provider said "${finish}"): a person must decide this item` });
		expect(result.meta.finishReasons).toEqual(['content_filter']);
		expect(posts()).toBe(1);
	});

	it('anthropic: pause_turn and model_context_window_exceeded are not finished answers', async () => {
		let result = await call(specFor('anthropic'), { kind: 'answer', text: '{"value": true}', finish: 'pause_turn' });
		expect(result).toMatchObject({ valid: false, reason: expect.stringContaining('paused the turn') });
		result = await call(specFor('anthropic'), { kind: 'answer', text: '{"value": true}', finish: 'model_context_window_exceeded' });
		expect(result).toMatchObject({ valid: false, reason: expect.stringContaining("exceeded the model's context window") });
	});

	it('a finished answer records its finish reason; a compatible server that sends none is read as unknown and judged by its text', async () => {
		let result = await call(specFor('anthropic', PRICE_OBJECT), { kind: 'answer', text: '{"newPrice": 968.5, "currency": "EUR"}' });
		expect(result).toMatchObject({ valid: true, value: { newPrice: 968.5, currency: 'EUR' } });
		expect(result.meta.finishReasons).toEqual(['stop']);
		result = await call(specFor('openai-compatible'), { kind: 'answer', text: '{"value": true}', finish: null });
		expect(result).toMatchObject({ valid: true, value: true });
		expect(result.meta.finishReasons).toEqual(['unknown']);
	});

	it.each<[Wire, string]>([
		['openai-compatible', 'abort'], // vLLM
		['openai-compatible', 'error'], // OpenRouter
		['openai-compatible', 'insufficient_system_resource'], // DeepSeek
		['openai', 'something_new'],
		['anthropic', 'guardrail_intervened'],
	])('%s: a finish word that is not a known normal end ("%s") is never valid; the item can be retried', async (wire, word) => {
		const result = await call(specFor(wire, PRICE_OBJECT), { kind: 'answer', text: '{"newPrice": 12, "currency": "EUR"}', finish: word });
		expect(result).toMatchObject({ valid: false, retryable: true, reason: `the answer did not end normally (the provider said "${word}"), so it is not taken as finished: the item can be tried again` });
		expect(result.meta.finishReasons).toEqual(['other']);
		expect(posts()).toBe(1);
	});

	it('words in another case and Mistral\'s model_length read like their kind', async () => {
		expect(await call(specFor('openai-compatible'), { kind: 'answer', text: '{"value": true}', finish: 'STOP' })).toMatchObject({ valid: true });
		expect(await call(specFor('openai-compatible'), { kind: 'answer', text: '{"value": true}', finish: 'model_length' })).toMatchObject({ valid: false, reason: expect.stringContaining('cut off at maxTokens 50') });
	});

	it('a missing finish reason is accepted only from an OpenAI-compatible server; Anthropic without stop_reason is not finished', async () => {
		expect(await call(specFor('openai-compatible'), { kind: 'answer', text: '{"value": true}', finish: null })).toMatchObject({ valid: true });
		const anthropic = await call(specFor('anthropic'), { kind: 'answer', text: '{"value": true}', finish: null });
		expect(anthropic).toMatchObject({ valid: false, reason: expect.stringContaining('the provider gave no reason') });
	});

	it.each([
		['cancelled', null],
		['failed', null],
		['incomplete', null],
		['incomplete', { reason: 'interrupted' }],
	])('responses: status %s (details %j) is never valid', async (status, details) => {
		const body = {
			id: 'resp_1', object: 'response', created_at: 0, status, error: null, incomplete_details: details, model: 'test-model',
			output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: '{"value": true}', annotations: [] }] }],
			usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8 },
		};
		const result = await call(specFor('responses'), { kind: 'raw', body: JSON.stringify(body) });
		expect(result.valid).toBe(false);
	});

	it('anthropic: two calls of the answer tool with different inputs are ambiguous; a call of another tool is not an answer', async () => {
		const message = (content: unknown[]) => JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'test-model', content, stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 5 } });
		const two = message([
			{ type: 'tool_use', id: 'toolu_1', name: 'price-change', input: { value: true } },
			{ type: 'tool_use', id: 'toolu_2', name: 'price-change', input: { value: false } },
		]);
		let result = await call(specFor('anthropic'), { kind: 'raw', body: two }, { kind: 'raw', body: two });
		expect(!result.valid && result.reason).toMatch(/ambiguous answer: 2 JSON values/);
		const other = message([{ type: 'tool_use', id: 'toolu_1', name: 'web_search', input: { query: 'price' } }]);
		result = await call(specFor('anthropic'), { kind: 'raw', body: other }, { kind: 'answer', text: '{"value": true}' });
		expect(result).toMatchObject({ valid: true, value: true });
		expect(result.meta.finishReasons).toEqual(['tool_calls', 'stop']);
		// The request forbids parallel tool use.
		expect(server.requests.at(-1)!.body).toMatchObject({ tool_choice: { type: 'tool', name: 'price-change', disable_parallel_tool_use: true } });
	});

	it('the run report carries the finish reasons of every call of every fixture', async () => {
		const spec = specFor('openai');
		server.enqueue({ kind: 'answer', text: '{"value": true}' }, { kind: 'answer', text: 'maybe' }, { kind: 'answer', text: '{"value": false}' }, { kind: 'answer', text: '{"value": tr', finish: 'length' });
		const provider = createProvider(spec.model, { baseUrl: server.openaiBaseUrl, apiKey: 'k', maxRetries: 0 });
		const inputs = { subject: 's', body: 'b' };
		const report = await runFixtures({ resolved: resolvedOf(spec), provider, concurrency: 1, fixtures: [fixture('a', inputs, true), fixture('b', inputs, false), fixture('c', inputs, true)] });
		expect(report.results.map((r) => r.finishReasons)).toEqual([['stop'], ['stop', 'stop'], ['length']]);
		expect(report.results.map((r) => r.tolerated)).toEqual([undefined, undefined, undefined]);
		server.enqueue({ kind: 'answer', text: '<think>x</think>{"value": true}' });
		const tolerant = await runFixtures({ resolved: resolvedOf(spec), provider, concurrency: 1, fixtures: [fixture('a', inputs, true)] });
		expect(tolerant.results[0]).toMatchObject({ passed: true, tolerated: ['dropped a <think> reasoning block'] });
		expect(report.results[2]).toMatchObject({ passed: false, valid: false, reason: expect.stringContaining('cut off at maxTokens 50') });
	});
});

describe('a refusal is an answer, not a provider failure', () => {
	it.each<Wire>(['openai', 'responses', 'anthropic'])('%s: refused → invalid "refused: <text>", refused: true, no repair call', async (wire) => {
		const result = await call(specFor(wire), { kind: 'refusal', text: "I can't help with that request." });
		expect(result).toMatchObject({ valid: false, refused: true, reason: "refused: I can't help with that request.", rawOutput: "I can't help with that request." });
		expect(result.meta.finishReasons).toEqual(['refusal']);
		expect(posts()).toBe(1);
	});

	it('a refused fixture fails in a run with that reason; the run goes on', async () => {
		const spec = specFor('anthropic');
		server.enqueue({ kind: 'refusal', text: 'No.' }, { kind: 'answer', text: '{"value": true}' });
		const provider = createProvider(spec.model, { baseUrl: server.anthropicBaseUrl, apiKey: 'k', maxRetries: 0 });
		const inputs = { subject: 's', body: 'b' };
		const report = await runFixtures({ resolved: resolvedOf(spec), provider, concurrency: 1, fixtures: [fixture('a', inputs, true), fixture('b', inputs, true)] });
		expect(report.results[0]).toMatchObject({ passed: false, valid: false, refused: true, reason: 'refused: No.' });
		expect(report.results[1]).toMatchObject({ passed: true });
		expect(report.summary).toMatchObject({ total: 2, passed: 1 });
	});
});

describe('provider errors are classified by what the provider says', () => {
	const cases: Array<[string, Wire, Behaviour, 'fatal' | 'input' | 'transient', RegExp]> = [
		[
			'OpenAI 429 insufficient_quota',
			'openai',
			{ kind: 'status', status: 429, body: { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } },
			'fatal',
			/refused the account behind the key \(quota, billing or a deactivated key\/organisation\): check the plan and billing details.*retrying will not help \(HTTP 429 insufficient_quota/,
		],
		[
			'OpenAI 401 account_deactivated',
			'openai',
			{ kind: 'status', status: 401, body: { error: { message: 'This key is associated with a deactivated account.', type: 'invalid_request_error', param: null, code: 'account_deactivated' } } },
			'fatal',
			/quota, billing or a deactivated key/,
		],
		[
			'Anthropic 400 credit balance too low',
			'anthropic',
			{ kind: 'status', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' } } },
			'fatal',
			/check the plan and billing details/,
		],
		['Anthropic 402 billing_error', 'anthropic', { kind: 'status', status: 402, body: { type: 'error', error: { type: 'billing_error', message: 'Billing issue' } } }, 'fatal', /billing/],
		[
			'Ollama 404 model not found',
			'openai-compatible',
			{ kind: 'status', status: 404, body: { error: 'model "llama9" not found, try pulling it first' } },
			'fatal',
			/model "test-model" is not available at openai-compatible .*: check model.name.*try pulling it first/,
		],
		[
			'OpenAI 400 context_length_exceeded',
			'openai',
			{ kind: 'status', status: 400, body: { error: { message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 200000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } },
			'input',
			/^input too long for model "test-model": shorten this item's input or use a model with a larger context window/,
		],
		[
			'vLLM 400 maximum context length (numeric code)',
			'openai-compatible',
			{ kind: 'status', status: 400, body: { object: 'error', message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.", type: 'BadRequestError', param: null, code: 400 } },
			'input',
			/^input too long/,
		],
		[
			'Anthropic 400 prompt is too long',
			'anthropic',
			{ kind: 'status', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 208310 tokens > 200000 maximum' } } },
			'input',
			/^input too long/,
		],
		['Anthropic 413 request_too_large', 'anthropic', { kind: 'status', status: 413 }, 'input', /^input too long/],
		['Anthropic 529 overloaded', 'anthropic', { kind: 'status', status: 529 }, 'transient', /^provider error: anthropic .* failed with a server error/],
		['OpenAI 429 rate_limit_exceeded', 'openai', { kind: 'status', status: 429 }, 'transient', /^provider error: rate limited by openai .*: the item can be retried later/],
	];

	it.each(cases)('%s (%s) → %s', async (_name, wire, behaviour, category, message) => {
		const spec = specFor(wire);
		if (category === 'fatal') {
			const error = await call(spec, behaviour).then(
				() => undefined,
				(e: unknown) => e,
			);
			expect(error).toBeInstanceOf(ProviderError);
			expect((error as ProviderError).category).toBe('fatal');
			expect((error as ProviderError).message).toMatch(message);
			return;
		}
		const result = await call(spec, behaviour);
		expect(result).toMatchObject({ valid: false, retryable: category === 'transient', rawOutput: null });
		expect(!result.valid && result.reason).toMatch(message);
	});

	it.each([true, false])('a run stops at a fatal quota error: nothing is stored, the error says billing; the SDK sends it once, no retries (adaptive %s)', async (adaptive) => {
		const spec = specFor('openai');
		const quota = { kind: 'status' as const, status: 429, body: { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } };
		server.enqueue(...Array.from({ length: 30 }, () => quota));
		const provider = createProvider(spec.model, { baseUrl: server.openaiBaseUrl, apiKey: 'k', maxRetries: 2, adaptive });
		const inputs = { subject: 's', body: 'b' };
		const fixtures = Array.from({ length: 10 }, (_, i) => fixture(`f${i}`, inputs, true));
		await expect(runFixtures({ resolved: resolvedOf(spec), provider, concurrency: 1, fixtures })).rejects.toMatchObject({ category: 'fatal', message: expect.stringMatching(/billing/) });
		// One request: the body's insufficient_quota reaches the SDK with x-should-retry: false, so it does not retry a 429 it cannot fix.
		expect(posts()).toBe(1);
	});

	it('a plain 429 rate limit is still retried by the SDK', async () => {
		const spec = specFor('openai');
		server.enqueue({ kind: 'status', status: 429, headers: { 'retry-after-ms': '10' } }, { kind: 'answer', text: '{"value": true}' });
		const provider = createProvider(spec.model, { baseUrl: server.openaiBaseUrl, apiKey: 'k', maxRetries: 2 });
		const result = await runPrompt(resolvedOf(spec), { subject: 's', body: 'b' }, provider);
		expect(result).toMatchObject({ valid: true, value: true });
		expect(posts()).toBe(2);
	});
});

describe('provider errors name the real cause', () => {
	async function fatalOf(spec: PromptSpec, ...answers: Behaviour[]): Promise<ProviderError> {
		const error = await call(spec, ...answers).then(
			(r) => r,
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(ProviderError);
		expect((error as ProviderError).category).toBe('fatal');
		return error as ProviderError;
	}

	it('Gemini\'s 429 "Resource has been exhausted (e.g. check quota)" (a list around the error) is a rate limit, retryable, not an account problem', async () => {
		const body = [{ error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } }];
		const result = await call(specFor('openai-compatible'), { kind: 'status', status: 429, body });
		expect(result).toMatchObject({ valid: false, retryable: true });
		expect(!result.valid && result.reason).toMatch(/^provider error: rate limited by openai-compatible .*\(HTTP 429 RESOURCE_EXHAUSTED: Resource has been exhausted \(e\.g\. check quota\)\.\)$/);
		expect(!result.valid && result.reason).not.toMatch(/refused the account|billing/);
	});

	it('a 400 that merely mentions billing (a field name) is a rejected request, not an account refusal', async () => {
		const error = await fatalOf(specFor('openai'), { kind: 'status', status: 400, body: { error: { message: 'billing address field too long', type: 'invalid_request_error', param: 'billing_address', code: null } } });
		expect(error.message).toMatch(/rejected the request for model "test-model": check the prompt's model settings/);
		expect(error.message).not.toMatch(/refused the account/);
	});

	it.each<[string, Wire, Behaviour]>([
		['Anthropic 400 billing_error type', 'anthropic', { kind: 'status', status: 400, body: { type: 'error', error: { type: 'billing_error', message: 'Billing issue' } } }],
		['OpenAI 429 "exceeded your current quota" without a code', 'openai', { kind: 'status', status: 429, body: { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'requests', code: null } } }],
		['OpenAI 403 billing_not_active', 'openai', { kind: 'status', status: 403, body: { error: { message: 'Billing is not active for this account.', type: 'invalid_request_error', code: 'billing_not_active' } } }],
		['a proxy\'s 400 "Your account has been suspended"', 'openai-compatible', { kind: 'status', status: 400, body: { error: { message: 'Your account has been suspended.' } } }],
	])('%s is an account refusal', async (_name, wire, behaviour) => {
		const error = await fatalOf(specFor(wire), behaviour);
		expect(error.message).toMatch(/refused the account behind the key/);
	});

	it('Anthropic\'s "input length and `max_tokens` exceed context limit" is this item\'s input problem, not fatal', async () => {
		const message = 'input length and `max_tokens` exceed context limit: 199000 + 2000 > 200000, decrease input length or `max_tokens` and try again';
		const result = await call(specFor('anthropic'), { kind: 'status', status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message } } });
		expect(result).toMatchObject({ valid: false, retryable: false, rawOutput: null });
		expect(!result.valid && result.reason).toMatch(/^input plus maxTokens exceed the context window of model "test-model": shorten this item's input, lower model\.maxTokens or use a model with a larger context window \(HTTP 400 invalid_request_error: input length/);
	});

	it.each<Wire>(['openai-compatible', 'responses'])('%s: a 200 whose body is an error (OpenRouter style) keeps the provider\'s message and is classified by its code', async (wire) => {
		const result = await call(specFor(wire), { kind: 'raw', status: 200, body: JSON.stringify({ error: { message: 'Provider returned error', code: 502 } }), headers: { 'content-type': 'application/json' } });
		expect(result).toMatchObject({ valid: false, retryable: true });
		expect(!result.valid && result.reason).toMatch(/^provider error: openai\S* \(http:\S+\) failed with a server error: try again later \(error in an HTTP 200 response, code 502: Provider returned error\)$/);
		expect(!result.valid && result.reason).not.toMatch(/without "choices"|without "output"/);
	});

	it('a 200 error body with an account code is fatal like the same HTTP error', async () => {
		const error = await fatalOf(specFor('openai-compatible'), { kind: 'raw', status: 200, body: JSON.stringify({ error: { message: 'Insufficient credits', code: 402 } }), headers: { 'content-type': 'application/json' } });
		expect(error.message).toMatch(/refused the account behind the key .*\(error in an HTTP 200 response, code 402: Insufficient credits\)/);
	});

	it.each<Wire>(['openai', 'anthropic'])('%s: a connection reset mid-request says it was reset, is retryable, and does not blame the base URL', async (wire) => {
		const result = await call(specFor(wire), { kind: 'reset' });
		expect(result).toMatchObject({ valid: false, retryable: true });
		expect(!result.valid && result.reason).toMatch(/^provider error: the connection to \S+ at http:\/\/127\.0\.0\.1:\d+\S* was reset \(ECONNRESET\) before the answer was complete: try again$/);
		expect(!result.valid && result.reason).not.toMatch(/could not connect|server is running/);
	});

	it.each<[Wire, number]>([
		['openai', 6000],
		['anthropic', 10080],
		['openai-compatible', 1],
	])('%s: a base URL on a port fetch refuses (port %i) is fatal and says so, before any request', async (wire, port) => {
		const spec = specFor(wire);
		const provider = createProvider(spec.model, { baseUrl: `http://127.0.0.1:${port}${wire === 'anthropic' ? '' : '/v1'}`, apiKey: 'test-key', maxRetries: 2 });
		const error = await runPrompt(resolvedOf(spec), { subject: 's', body: 'b' }, provider).then(
			(r) => r,
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(ProviderError);
		expect(error).toMatchObject({ category: 'fatal' });
		expect((error as ProviderError).message).toMatch(new RegExp(`fetch refuses port ${port} \\(a port on the "bad port" list of the WHATWG fetch standard.*\\): run the server on another port`));
	});

	it('a 404 "404 page not found" in plain text (a base URL without /v1) says nothing answers there, not that the model is missing', async () => {
		const error = await fatalOf(specFor('openai-compatible'), { kind: 'raw', status: 404, body: '404 page not found', headers: { 'content-type': 'text/plain' } });
		expect(error.message).toMatch(/^nothing answers at http:\/\/127\.0\.0\.1:\d+\/v1 for this API \(HTTP 404 from the server, not a model error\): check the base URL \(.*http:\/\/localhost:11434\/v1 for Ollama\) or the model name "test-model"/);
		expect(error.message).not.toMatch(/is not available/);
	});

	it('the provider\'s own 404 for an unknown model still names the model', async () => {
		const error = await fatalOf(specFor('anthropic'), { kind: 'status', status: 404 });
		expect(error.message).toMatch(/^model "test-model" is not available at anthropic/);
	});

	it('an OpenAI-compatible answer whose content is a list of text parts is read, with no repair call', async () => {
		const body = {
			id: 'c1',
			object: 'chat.completion',
			created: 1,
			model: 'test-model',
			choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: [{ type: 'text', text: '{"value": ' }, { type: 'text', text: 'true}' }] } }],
			usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
		};
		const result = await call(specFor('openai-compatible'), { kind: 'raw', status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
		expect(result).toMatchObject({ valid: true, value: true, rawOutput: '{"value": true}' });
		expect(posts()).toBe(1);
	});

	it('a transient failure of the repair call keeps why the first answer was rejected', async () => {
		const result = await call(specFor('openai'), { kind: 'answer', text: 'maybe' }, { kind: 'status', status: 503 });
		expect(result).toMatchObject({ valid: false, retryable: true });
		expect(!result.valid && result.reason).toMatch(/^provider error: openai .* failed with a server error: try again later \(HTTP 503.*\) \(in the repair call; first answer: .+\)$/);
		expect(posts()).toBe(2);
	});
});
