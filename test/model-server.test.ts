/**
 * The test model server at the HTTP level (plain fetch): wire shapes, the scripted queue, the rules and their loader.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../lib/errors';
import { loadRules, startModelServer, type ModelServer, type RulesFile } from '../lib/testing/model-server';

const RULES_YAML = `# The answers of the project's deterministic test model. Not an LLM.
models: [test-model]
rules:
  - prompt: price-change
    when: "price (increase|change|adjust)"
    flags: i
    value: true
  - prompt: price-change
    value: false
  - prompt: new-unit-price
    capture: "new (?:unit )?price[^0-9]*([0-9]+(?:\\\\.[0-9]+)?)"
    as: number
  - prompt: quantity
    capture: "([0-9]+) units"
    as: integer
  - prompt: delivery-delay-days
    when: "two weeks"
    raw: "two weeks"
  - prompt: some-object-prompt
    object: {a: 1, b: "x"}
`;

let dir: string;
let rulesPath: string;
let server: ModelServer;

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'model-server-'));
	rulesPath = join(dir, 'test-model.yaml');
	writeFileSync(rulesPath, RULES_YAML);
	server = await startModelServer({ rules: rulesPath });
});

afterAll(async () => {
	await server.close();
	rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => server.reset());

interface Reply {
	status: number;
	headers: Headers;
	json: Record<string, unknown>;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
	const res = await fetch(`${server.url}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body: JSON.stringify(body),
	});
	return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

function chat(prompt: string, user: string, model = 'test-model', extra: Array<{ role: string; content: string }> = []) {
	return post('/v1/chat/completions', {
		model,
		messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: user }, ...extra],
		response_format: { type: 'json_schema', json_schema: { name: prompt, schema: { type: 'object' }, strict: true } },
	});
}

function contentOf(reply: Reply): unknown {
	return (reply.json as { choices: Array<{ message: { content: unknown } }> }).choices[0].message.content;
}

function messages(prompt: string, user: string, model = 'test-model', path = '/v1/messages') {
	return post(path, {
		model,
		max_tokens: 10,
		system: 'sys',
		messages: [{ role: 'user', content: user }],
		tools: [{ name: prompt, input_schema: { type: 'object' } }],
		tool_choice: { type: 'tool', name: prompt },
	});
}

describe('rules (the deterministic test model)', () => {
	it('answers value when the prompt and `when` match, else the next rule', async () => {
		expect(contentOf(await chat('price-change', 'We will ADJUST the price of widgets... price adjust'))).toBe('{"value":true}');
		expect(contentOf(await chat('price-change', 'Nothing to see here'))).toBe('{"value":false}');
	});

	it('converts a capture with `as`', async () => {
		expect(contentOf(await chat('new-unit-price', 'The new unit price: EUR 12.50 each'))).toBe('{"value":12.5}');
		expect(contentOf(await chat('quantity', 'Please send 40 units'))).toBe('{"value":40}');
	});

	it('skips a rule whose capture does not match; no rule → {"value": null}', async () => {
		expect(contentOf(await chat('new-unit-price', 'no numbers here'))).toBe('{"value":null}');
		expect(contentOf(await chat('unknown-prompt', 'anything'))).toBe('{"value":null}');
	});

	it('answers raw text verbatim and objects as-is', async () => {
		expect(contentOf(await chat('delivery-delay-days', 'Delivery slips by two weeks'))).toBe('two weeks');
		expect(JSON.parse(contentOf(await chat('some-object-prompt', 'x')) as string)).toEqual({ a: 1, b: 'x' });
	});

	it('looks only at the first user message, so a repair turn gets the same answer', async () => {
		const repair = [
			{ role: 'assistant', content: 'yes' },
			{ role: 'user', content: 'Not JSON. Nothing about price here.' },
		];
		expect(contentOf(await chat('price-change', 'a price increase', 'test-model', repair))).toBe('{"value":true}');
	});

	it('answers an unknown model with 404 model_not_found in the OpenAI shape', async () => {
		const reply = await chat('price-change', 'x', 'gpt-nope');
		expect(reply.status).toBe(404);
		expect(reply.json).toMatchObject({ error: { code: 'model_not_found', type: 'invalid_request_error' } });
		expect((reply.json.error as { message: string }).message).toContain('gpt-nope');
	});

	it('answers an unknown model with 404 not_found_error in the Anthropic shape', async () => {
		const reply = await messages('price-change', 'x', 'claude-nope');
		expect(reply.status).toBe(404);
		expect(reply.json).toEqual({ type: 'error', error: { type: 'not_found_error', message: 'model: claude-nope' } });
	});

	it('answers Anthropic with a forced tool_use block, or a text block for raw text', async () => {
		const reply = await messages('price-change', 'price change ahead');
		expect(reply.json).toMatchObject({
			type: 'message',
			role: 'assistant',
			model: 'test-model',
			stop_reason: 'tool_use',
			content: [{ type: 'tool_use', name: 'price-change', input: { value: true } }],
			usage: { input_tokens: Math.ceil('sysprice change ahead'.length / 4) },
		});
		expect(String((reply.json.content as Array<{ id: string }>)[0].id)).toMatch(/^toolu_/);
		const raw = await messages('delivery-delay-days', 'two weeks late');
		expect(raw.json).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: 'two weeks' }] });
	});

	it('answers the Responses API with an output_text message', async () => {
		const reply = await post('/v1/responses', {
			model: 'test-model',
			instructions: 'sys',
			input: [{ role: 'user', content: 'price increase' }],
			text: { format: { type: 'json_schema', name: 'price-change', schema: { type: 'object' }, strict: true } },
		});
		expect(reply.json).toMatchObject({
			object: 'response',
			status: 'completed',
			model: 'test-model',
			output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: '{"value":true}' }] }],
			usage: { input_tokens: Math.ceil('sysprice increase'.length / 4), output_tokens: Math.ceil('{"value":true}'.length / 4) },
		});
	});
});

describe('wire shapes, routes and recording', () => {
	it('answers chat completions in the OpenAI shape with estimated usage', async () => {
		const reply = await chat('price-change', 'price change');
		expect(reply.json).toMatchObject({
			object: 'chat.completion',
			model: 'test-model',
			choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '{"value":true}' } }],
			usage: { prompt_tokens: Math.ceil('sysprice change'.length / 4), completion_tokens: 4 },
		});
		expect(String(reply.json.id)).toMatch(/^chatcmpl-/);
	});

	it('accepts paths with and without /v1', async () => {
		expect((await post('/chat/completions', { model: 'test-model', messages: [] })).status).toBe(200);
		expect((await messages('x', 'y', 'test-model', '/v1/v1/messages')).status).toBe(200);
		expect((await messages('x', 'y', 'test-model', '/messages')).status).toBe(200);
		expect((await post('/v1/nothing', {})).status).toBe(404);
	});

	it('lists the models in the OpenAI or the Anthropic shape', async () => {
		const openai = (await (await fetch(`${server.openaiBaseUrl}/models`)).json()) as Record<string, unknown>;
		expect(openai).toEqual({ object: 'list', data: [{ id: 'test-model', object: 'model', created: 0, owned_by: 'test-model-server' }] });
		const anthropic = (await (await fetch(`${server.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } })).json()) as Record<string, unknown>;
		expect(anthropic).toMatchObject({ data: [{ type: 'model', id: 'test-model' }], has_more: false });
	});

	it('records method, path, headers, the parsed body and when it arrived', async () => {
		const before = Date.now();
		await post('/v1/chat/completions?x=1', { model: 'test-model', messages: [] }, { 'x-team': 'billing' });
		expect(server.requests[0].receivedAt).toBeGreaterThanOrEqual(before);
		expect(server.requests[0].receivedAt).toBeLessThanOrEqual(Date.now());
		expect(server.requests).toEqual([
			expect.objectContaining({ method: 'POST', path: '/v1/chat/completions?x=1', body: { model: 'test-model', messages: [] } }),
		]);
		expect(server.requests[0].headers['x-team']).toBe('billing');
	});

	it('answers 400 in the API shape when the body is not JSON', async () => {
		const res = await fetch(`${server.url}/v1/messages`, { method: 'POST', body: 'nope' });
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
		expect(server.requests[0].body).toBe('nope');
	});
});

describe('scripted queue', () => {
	it('plays behaviours in order, then falls back to the rules', async () => {
		server.enqueue({ kind: 'answer', text: 'first' }, { kind: 'status', status: 429, headers: { 'retry-after': '0' } });
		expect(contentOf(await chat('price-change', 'x'))).toBe('first');
		const limited = await chat('price-change', 'x');
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('0');
		expect(limited.json).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
		expect(contentOf(await chat('price-change', 'price change'))).toBe('{"value":true}');
	});

	it('takes a custom status body and raw bodies', async () => {
		server.enqueue({ kind: 'status', status: 503, body: { error: { message: 'down' } } }, { kind: 'raw', status: 202, body: '{"ok":1}', headers: { 'x-a': 'b' } });
		const down = await chat('p', 'x');
		expect(down).toMatchObject({ status: 503, json: { error: { message: 'down' } } });
		const raw = await chat('p', 'x');
		expect(raw).toMatchObject({ status: 202, json: { ok: 1 } });
		expect(raw.headers.get('x-a')).toBe('b');
	});

	it('answers a refusal in each API shape', async () => {
		server.enqueue({ kind: 'refusal', text: 'no' }, { kind: 'refusal', text: 'no' });
		expect((await chat('p', 'x')).json).toMatchObject({ choices: [{ message: { content: null, refusal: 'no' } }] });
		expect((await messages('p', 'x')).json).toMatchObject({ stop_reason: 'refusal', content: [{ type: 'text', text: 'no' }] });
	});

	it('sends a body that is not JSON for malformed', async () => {
		server.enqueue({ kind: 'malformed' });
		const res = await fetch(`${server.openaiBaseUrl}/chat/completions`, { method: 'POST', body: '{}' });
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('application/json');
		await expect(res.json()).rejects.toThrow();
	});

	it('drops the connection in the middle of the JSON for truncated', async () => {
		server.enqueue({ kind: 'truncated' });
		const res = await fetch(`${server.openaiBaseUrl}/chat/completions`, { method: 'POST', body: '{}' });
		expect(res.status).toBe(200);
		await expect(res.text()).rejects.toThrow();
	});

	it('never answers for hang (until the client gives up)', async () => {
		server.enqueue({ kind: 'hang' });
		const started = Date.now();
		await expect(fetch(`${server.openaiBaseUrl}/chat/completions`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) })).rejects.toThrow();
		expect(Date.now() - started).toBeGreaterThanOrEqual(150);
	});

	it('closes even with a hanging request open', async () => {
		const other = await startModelServer();
		other.enqueue({ kind: 'hang' });
		const pending = fetch(`${other.openaiBaseUrl}/chat/completions`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
		while (other.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
		await other.close();
		expect(await pending).toHaveProperty('message'); // the client sees the dropped connection
	});
});

describe('loadRules', () => {
	function write(name: string, text: string): string {
		const file = join(dir, name);
		writeFileSync(file, text);
		return file;
	}

	function configError(fn: () => unknown): ConfigError {
		try {
			fn();
		} catch (error) {
			expect(error).toBeInstanceOf(ConfigError);
			return error as ConfigError;
		}
		throw new Error('expected a ConfigError');
	}

	it('loads the documented format', () => {
		const rules = loadRules(rulesPath);
		expect(rules.models).toEqual(['test-model']);
		expect(rules.rules).toHaveLength(6);
		expect(rules.rules[2]).toEqual({ prompt: 'new-unit-price', capture: 'new (?:unit )?price[^0-9]*([0-9]+(?:\\.[0-9]+)?)', as: 'number' });
	});

	it('names the file, the rule index and the line of a bad regex', () => {
		const file = write('bad-regex.yaml', 'rules:\n  - prompt: a\n    value: true\n  - prompt: b\n    when: "(unclosed"\n    value: 1\n');
		const err = configError(() => loadRules(file));
		expect(err.message).toContain(`${file}:5`);
		expect(err.message).toContain('rules[1].when');
		expect(err.message).toContain('not a valid regular expression');
	});

	it.each([
		['no answer', 'rules:\n  - prompt: a\n', 'exactly one of value, capture, raw, object'],
		['two answers', 'rules:\n  - prompt: a\n    value: 1\n    raw: "x"\n', 'found value, raw'],
		['no prompt', 'rules:\n  - value: 1\n', 'needs "prompt"'],
		['unknown key', 'rules:\n  - prompt: a\n    valeu: 1\n    value: 1\n', 'unknown key "valeu"'],
		['bad as', 'rules:\n  - prompt: a\n    capture: "(x)"\n    as: float\n', 'number, integer or string'],
		['capture without a group', 'rules:\n  - prompt: a\n    capture: "x"\n', '(group)'],
		['object value', 'rules:\n  - prompt: a\n    value: {a: 1}\n', 'use "object"'],
		['no rules list', 'models: [m]\n', '"rules" must be a list'],
		['bad models', 'models: m\nrules: []\n', '"models" must be a list'],
	])('rejects %s', (_name, text, message) => {
		const file = write('bad.yaml', text);
		const err = configError(() => loadRules(file));
		expect(err.message).toContain(file);
		expect(err.message).toContain(message);
	});

	it('reports invalid YAML and missing files with the path', () => {
		const bad = write('broken.yaml', 'rules: [\n');
		expect(configError(() => loadRules(bad)).message).toContain(bad);
		expect(configError(() => loadRules(join(dir, 'missing.yaml'))).message).toContain('missing.yaml');
	});

	it('checks a rules object passed in code', async () => {
		const rules = { rules: [{ prompt: 'a' }] } as unknown as RulesFile;
		await expect(startModelServer({ rules })).rejects.toThrow(/rules\[0\]/);
	});
});
