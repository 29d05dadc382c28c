/**
 * Answer shapes of local and OpenAI-compatible servers that ignore `response_format` (Ollama, vLLM, LM Studio),
 * sent over the wire by the loopback server: reasoning blocks, code fences, JSON in prose, and the string
 * shapes that would otherwise pass a schema as the wrong literal text.
 */
import { createProvider } from '../../lib/providers';
import { runPrompt } from '../../lib/run-prompt';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { CallResult, OutputSchema } from '../../lib/types';
import { makeSpec, resolvedOf } from '../unit/helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer();
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

async function answer(output: OutputSchema, ...texts: string[]): Promise<CallResult> {
	server.enqueue(...texts.map((text) => ({ kind: 'answer' as const, text })));
	const spec = makeSpec({ output, model: { provider: 'openai-compatible', name: 'qwen3:8b', temperature: 0, maxTokens: 400, baseUrl: server.openaiBaseUrl } });
	return runPrompt(resolvedOf(spec), { subject: 's', body: 'The email says two weeks.' }, createProvider(spec.model, { maxRetries: 0 }));
}

const posts = () => server.requests.filter((r) => r.method === 'POST').length;
const INTEGER: OutputSchema = { type: 'integer', minimum: 0 };
const ORDER: OutputSchema = { type: 'string', maxLength: 40, nullable: true };

describe('what a local model wraps around the JSON', () => {
	it('drops a leading <think> block: the issue\'s input is valid 14 with one call', async () => {
		const result = await answer(INTEGER, '<think>\nThe email says two weeks.\n</think>\n\n{"value": 14}');
		expect(result).toMatchObject({ valid: true, value: 14 });
		expect(result.meta.tolerated).toEqual(['dropped a <think> reasoning block']);
		expect(posts()).toBe(1);
	});

	it.each([
		['<thinking> block', '<thinking>two weeks = 14 days</thinking>{"value": 14}'],
		['two reasoning blocks', '<think>a</think>\n<think>b</think>\n{"value": 14}'],
		['a closing </think> whose opening tag the server stripped', 'two weeks is 14 days.\n</think>\n\n{"value": 14}'],
		['a fence after a sentence', 'Here is the answer:\n```json\n{"value": 14}\n```'],
		['a fence without a language', '```\n{"value": 14}\n```'],
		['JSON followed by a sentence', '{"value": 14}\nThe delay is two weeks.'],
		['JSON inside a sentence', 'Sure! {"value": 14} Hope that helps.'],
		['think block, then a fence, then prose', '<think>x</think>\nAnswer:\n```json\n{"value": 14}\n```\nDone.'],
	])('%s → valid 14, one call', async (_name, text) => {
		expect(await answer(INTEGER, text)).toMatchObject({ valid: true, value: 14 });
		expect(posts()).toBe(1);
	});

	it.each([
		['two JSON values in prose', 'Either {"value": 14} or {"value": 7}.', /ambiguous answer: 2 JSON values \(2 in the text: {"value":14}, {"value":7}\)/],
		['two fences', '```json\n{"value": 14}\n```\nor\n```json\n{"value": 7}\n```', /ambiguous answer: 2 JSON values \(2 in code fences: /],
		['a <think> block that never closes', '<think>The email says two weeks, so', /the answer is only reasoning/],
		['Python-style dict', "{'value': 14}", /the answer is not JSON/],
		['a number in prose is not an answer', 'The delay is 14 days.', /the answer is not JSON/],
	])('%s → invalid after one repair call that got the same answer', async (_name, text, reason) => {
		const result = await answer(INTEGER, text, text);
		expect(result.valid).toBe(false);
		expect(!result.valid && result.reason).toMatch(reason);
		expect(posts()).toBe(2);
	});

	it.each([
		['[THINK] (Magistral) holding a draft', '[THINK]Draft: {"value": 7}. Hmm, actually two weeks.[/THINK]{"value": 14}'],
		['harmony channels (gpt-oss served raw)', '<|channel|>analysis<|message|>Draft {"value": 7}<|end|><|start|>assistant<|channel|>final<|message|>{"value": 14}<|return|>'],
		['◁think▷ (Kimi)', '◁think▷{"value": 7}?◁/think▷{"value": 14}'],
		['<seed:think>', '<seed:think>{"value": 7}?</seed:think>{"value": 14}'],
		['<reflection>', '<reflection>{"value": 7} is wrong</reflection>The answer: {"value": 14}'],
		['<think> with attributes', '<think time="3s">{"value": 7}</think>{"value": 14}'],
		['a reasoning block after the answer', '{"value": 14} <think>or was it {"value": 7}?</think>'],
	])('reasoning in %s never counts as the answer', async (_name, text) => {
		expect(await answer(INTEGER, text)).toMatchObject({ valid: true, value: 14 });
		expect(posts()).toBe(1);
	});

	it.each([
		['a draft inside reasoning and no answer after it', '[THINK]Draft: {"value": 7}[/THINK]The delay is two weeks.', /the answer is not JSON/],
		['a harmony analysis with no final channel', '<|channel|>analysis<|message|>{"value": 7}<|end|>', /only reasoning/],
		['JSON in prose and a different JSON in a fence', 'The answer is {"value": 14}.\n\nFormat used:\n```json\n{"value": 0}\n```', /ambiguous answer: 2 JSON values \(1 in code fences, 1 in the text/],
		['a key given twice', '{"value": 7, "value": 14}', /ambiguous answer: the key "value" is given twice in one object/],
		['an integer beyond 2^53', '{"value": 9007199254740993}', /the number 9007199254740993 is beyond the integers JSON numbers hold exactly/],
		['a number that underflows to 0', '{"value": 1e-400}', /the number 1e-400 is too small to represent/],
	])('%s is never valid', async (_name, text, reason) => {
		const result = await answer({ type: 'number', nullable: true }, text, text);
		expect(result.valid).toBe(false);
		expect(!result.valid && result.reason).toMatch(reason);
	});

	it('whatever is extracted still goes through the schema', async () => {
		const result = await answer(INTEGER, '<think>x</think>{"value": "14"}', '<think>x</think>{"value": -1}');
		expect(result.valid).toBe(false);
		expect(!result.valid && result.reason).toMatch(/invalid model output after one repair attempt: does not match the declared schema/);
	});
});

describe('string outputs never pass as the literal text of a wire object or a placeholder', () => {
	it.each([
		['the JSON text of the wire object', '{"value": "{\\"value\\":\\"PO-4711\\"}"}', 'PO-4711'],
		['that text twice encoded', '{"value": "{\\"value\\": \\"{\\\\\\"value\\\\\\": \\\\\\"PO-4711\\\\\\"}\\"}"}', 'PO-4711'],
		['a quoted JSON string', '{"value": "\\"PO-4711\\""}', 'PO-4711'],
		['the word null', '{"value": "null"}', null],
		['None', '{"value": "None"}', null],
		['undefined', '{"value": "undefined"}', null],
		['N/A', '{"value": "N/A"}', null],
		['an empty string', '{"value": ""}', null],
		['the wire object holding "null"', '{"value": "{\\"value\\": null}"}', null],
	])('%s is unwrapped where unambiguous', async (_name, text, expected) => {
		expect(await answer(ORDER, text)).toMatchObject({ valid: true, value: expected });
		expect(posts()).toBe(1);
	});

	it.each([
		['Not provided'], ['not available'], ['TBD'], ['?'], ['None found'], ['No PO number mentioned'], ['<null>'], ["'null'"], ['unbekannt'], ['–'], ['NA'], ['No PO number given'],
	])('the placeholder %s reads as not stated', async (word) => {
		expect(await answer(ORDER, JSON.stringify({ value: word }))).toMatchObject({ valid: true, value: null });
	});

	it.each([
		['single quotes around the value', '{"value": "\'PO-4711\'"}', 'PO-4711'],
		['backticks around the value', '{"value": "`PO-4711`"}', 'PO-4711'],
		['the wire object inside a code fence', '{"value": "```json\\n{\\"value\\":\\"PO-4711\\"}\\n```"}', 'PO-4711'],
	])('%s is unwrapped', async (_name, text, expected) => {
		expect(await answer(ORDER, text)).toMatchObject({ valid: true, value: expected });
	});

	it('Python-style text of the wire object is invalid, and an enum word in another case is left to the schema', async () => {
		const python = await answer(ORDER, `{"value": "{'value': 'PO-4711'}"}`, `{"value": "{'value': 'PO-4711'}"}`);
		expect(!python.valid && python.reason).toMatch(/Python-style text/);
		const enumCase = await answer({ type: 'string', enum: ['EUR', 'USD', 'unknown'], nullable: true }, '{"value": "Unknown"}', '{"value": "Unknown"}');
		expect(!enumCase.valid && enumCase.reason).toMatch(/does not match the declared schema/);
	});

	it('a placeholder for a string that is not nullable is invalid with its reason, and not asked again', async () => {
		const result = await answer({ type: 'string' }, '{"value": "None"}');
		expect(result).toMatchObject({ valid: false, reason: expect.stringMatching(/the model answered "None", which stands for "not stated", but the output is not nullable/) });
		expect(posts()).toBe(1);
	});

	it('other JSON text where a string belongs, or a cut wire object, is invalid', async () => {
		let result = await answer(ORDER, '{"value": "{\\"order\\": \\"PO-4711\\"}"}', '{"value": "[\\"PO-1\\", \\"PO-2\\"]"}');
		expect(!result.valid && result.reason).toMatch(/value is the JSON text "\[\\"PO-1\\", \\"PO-2\\"]", not a string/);
		result = await answer(ORDER, '{"value": "{\\"value\\": \\"PO-47"}', '{"value": "{\\"value\\": \\"PO-47"}');
		expect(!result.valid && result.reason).toMatch(/cut or malformed JSON text of {"value": …}/);
	});

	it('a placeholder that is a declared enum value stays that value', async () => {
		const result = await answer({ type: 'string', enum: ['EUR', 'USD', 'unknown'] }, '{"value": "unknown"}');
		expect(result).toMatchObject({ valid: true, value: 'unknown' });
	});

	it('object outputs: properties get the same scrutiny; an object sent as a JSON string or wrapped in {"value": …} is that object', async () => {
		const schema: OutputSchema = { type: 'object', properties: { orderNumber: { type: 'string', nullable: true }, days: { type: 'integer', nullable: true } } };
		expect(await answer(schema, '{"orderNumber": "None", "days": "null"}')).toMatchObject({ valid: true, value: { orderNumber: null, days: null } });
		expect(await answer(schema, '"{\\"orderNumber\\": \\"PO-1\\", \\"days\\": 3}"')).toMatchObject({ valid: true, value: { orderNumber: 'PO-1', days: 3 } });
		expect(await answer(schema, '{"value": {"orderNumber": "PO-2", "days": 4}}')).toMatchObject({ valid: true, value: { orderNumber: 'PO-2', days: 4 } });
		const strict: OutputSchema = { type: 'object', properties: { orderNumber: { type: 'string' } } };
		const result = await answer(strict, '{"orderNumber": "n/a"}');
		expect(!result.valid && result.reason).toMatch(/"orderNumber": the model answered "n\/a"/);
	});
});
