import { InputError, ProviderError } from '../../lib/errors';
import { runPrompt } from '../../lib/run-prompt';
import { toWireJsonSchema } from '../../lib/schema';
import type { CallMeta } from '../../lib/types';
import { makeSpec, resolvedOf, ScriptedProvider } from './helpers';

const vars = { subject: 'Price update', body: 'Our prices rise 5% from March.' };

describe('runPrompt', () => {
	test('a valid first answer: one call, value, raw output and full meta', async () => {
		const spec = makeSpec();
		const resolved = { ...resolvedOf(spec, 3), channel: 'production' };
		const provider = new ScriptedProvider(['{"value": true}'], 'openai', { inputTokens: 1_000_000, outputTokens: 1_000_000 });
		const result = await runPrompt(resolved, vars, provider);
		expect(result).toEqual({
			valid: true,
			value: true,
			rawOutput: '{"value": true}',
			meta: {
				prompt: 'price-change',
				version: 3,
				contentHash: resolved.contentHash,
				channel: 'production',
				model: 'gpt-4o-mini',
				provider: 'openai',
				latencyMs: expect.any(Number),
				inputTokens: 1_000_000,
				outputTokens: 1_000_000,
				costUsd: 0.15 + 0.6, // built-in price of openai:gpt-4o-mini
				calls: 1,
				repaired: false,
				finishReasons: ['stop'],
				fetchedAt: expect.any(String),
			},
		});
		expect(provider.requests).toHaveLength(1);
		const req = provider.requests[0];
		expect(req.system).toBe(spec.instructions);
		expect(req.messages).toEqual([{ role: 'user', content: 'Subject: Price update\n\nOur prices rise 5% from March.' }]);
		expect(req.jsonSchema).toEqual(toWireJsonSchema(spec.output));
		expect(req.schemaName).toBe('price-change');
		expect(req.model).toEqual(spec.model);
	});

	test('invalid then repaired: exactly one repair call that shows the error', async () => {
		const spec = makeSpec({ output: { type: 'integer', minimum: 0 } });
		const provider = new ScriptedProvider(['{"value": "14"}', '{"value": 14}']);
		const result = await runPrompt(resolvedOf(spec), vars, provider);
		expect(result).toMatchObject({ valid: true, value: 14, rawOutput: '{"value": 14}', meta: { calls: 2, repaired: true, inputTokens: 20, outputTokens: 4 } });
		expect(provider.requests).toHaveLength(2);
		const repair = provider.requests[1].messages;
		expect(repair).toHaveLength(3);
		expect(repair[0]).toEqual(provider.requests[0].messages[0]);
		expect(repair[1]).toEqual({ role: 'assistant', content: '{"value": "14"}' });
		expect(repair[2].role).toBe('user');
		expect(repair[2].content).toMatch(/Your answer was rejected: does not match the declared schema: value: Expected number, received string/);
		expect(repair[2].content).toContain(JSON.stringify(toWireJsonSchema(spec.output)));
		expect(provider.requests[1].system).toBe(provider.requests[0].system);
	});

	test('an empty first answer is shown as (empty) in the repair turn', async () => {
		const provider = new ScriptedProvider(['', '{"value": false}']);
		const result = await runPrompt(resolvedOf(makeSpec()), vars, provider);
		expect(result).toMatchObject({ valid: true, value: false });
		expect(provider.requests[1].messages[1]).toEqual({ role: 'assistant', content: '(empty)' });
		expect(provider.requests[1].messages[2].content).toMatch(/empty answer/);
	});

	test('still invalid after the repair: invalid result with both reasons and the raw output', async () => {
		const provider = new ScriptedProvider(['two weeks', '{"value": "two weeks"}', '{"value": 14}']);
		const result = await runPrompt(resolvedOf(makeSpec({ output: { type: 'integer' } })), vars, provider);
		expect(result.valid).toBe(false);
		if (result.valid) return;
		expect(result.rawOutput).toBe('{"value": "two weeks"}');
		expect(result.reason).toMatch(/^invalid model output after one repair attempt: does not match the declared schema.*\(first answer: the answer is not JSON: "two weeks"\)$/);
		expect(result.meta).toMatchObject({ calls: 2, repaired: false, inputTokens: 20, outputTokens: 4 });
		expect(provider.requests).toHaveLength(2); // never a third call
		expect('value' in result).toBe(false);
	});

	test('wrong-typed values are never returned as valid', async () => {
		const cases: Array<[ReturnType<typeof makeSpec>['output'], string]> = [
			[{ type: 'boolean' }, '{"value": "true"}'],
			[{ type: 'integer' }, '{"value": 1.5}'],
			[{ type: 'number' }, '{"value": "3.2"}'],
			[{ type: 'string', enum: ['a', 'b'] }, '{"value": "c"}'],
			[{ type: 'string', format: 'date' }, '{"value": "2026-02-30"}'],
			[{ type: 'string', maxLength: 3 }, '{"value": "abcd"}'],
			[{ type: 'object', properties: { a: { type: 'integer' } } }, '{"a": 1, "b": 2}'],
			[{ type: 'boolean' }, '{"value": null}'],
		];
		for (const [output, answer] of cases) {
			const provider = new ScriptedProvider([answer]);
			const result = await runPrompt(resolvedOf(makeSpec({ output })), vars, provider);
			expect({ output, valid: result.valid }).toEqual({ output, valid: false });
			expect(result.rawOutput).toBe(answer);
		}
	});

	test('object outputs are returned as objects', async () => {
		const output = { type: 'object' as const, properties: { price: { type: 'number' as const }, currency: { type: 'string' as const, enum: ['EUR', 'USD'] } } };
		const provider = new ScriptedProvider(['```json\n{"price": 12.5, "currency": "EUR"}\n```']);
		const result = await runPrompt(resolvedOf(makeSpec({ output })), vars, provider);
		expect(result).toMatchObject({ valid: true, value: { price: 12.5, currency: 'EUR' } });
	});

	test('tokens and cost are summed over both calls; registry prices override', async () => {
		const provider = new ScriptedProvider(['nope', '{"value": true}'], 'openai', { inputTokens: 500_000, outputTokens: 250_000 });
		const result = await runPrompt(resolvedOf(makeSpec()), vars, provider, { pricing: { 'openai:gpt-4o-mini': { input: 2, output: 4 } } });
		expect(result.meta.inputTokens).toBe(1_000_000);
		expect(result.meta.outputTokens).toBe(500_000);
		expect(result.meta.costUsd).toBeCloseTo(2 + 2, 10);
	});

	test('an unknown model costs 0', async () => {
		const spec = makeSpec({ model: { provider: 'openai-compatible', name: 'llama3', temperature: 0, maxTokens: 10 } });
		const result = await runPrompt(resolvedOf(spec), vars, new ScriptedProvider(['true'], 'openai-compatible'));
		expect(result.meta.costUsd).toBe(0);
		expect(result.meta.provider).toBe('openai-compatible');
	});

	test('latency covers both calls', async () => {
		const provider = new ScriptedProvider(['x', '{"value": true}'], 'openai', { inputTokens: 1, outputTokens: 1 }, 25);
		const result = await runPrompt(resolvedOf(makeSpec()), vars, provider);
		expect(result.meta.latencyMs).toBeGreaterThanOrEqual(45);
		expect(Number.isInteger(result.meta.latencyMs)).toBe(true);
	});

	test('a transient provider failure is an invalid, retryable result with the meta of the calls so far', async () => {
		const provider = new ScriptedProvider(['not json', new ProviderError('rate limited by openai', 429)]);
		const result = await runPrompt(resolvedOf(makeSpec(), 2), vars, provider);
		// The failure came in the repair call: the reason still says why the first answer was rejected.
		expect(result).toMatchObject({ valid: false, retryable: true, reason: 'provider error: rate limited by openai (in the repair call; first answer: the answer is not JSON: "not json")', rawOutput: null });
		expect(result.meta).toMatchObject({ prompt: 'price-change', version: 2, calls: 2, inputTokens: 10, outputTokens: 2, repaired: false, finishReasons: ['stop'] });
	});

	test('a fatal ProviderError propagates with the meta of the call so far: calls 1, no tokens', async () => {
		const provider = new ScriptedProvider([new ProviderError('no quota', 429, { fatal: true })]);
		let error: unknown;
		try {
			await runPrompt(resolvedOf(makeSpec()), vars, provider);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ProviderError);
		expect((error as ProviderError & { meta: CallMeta }).meta).toMatchObject({ calls: 1, inputTokens: 0 });
	});

	test('an input too long for the model is invalid for that item, not retryable, not thrown', async () => {
		const provider = new ScriptedProvider([new ProviderError('input too long for model "gpt-4o-mini"', 400, { category: 'input' })]);
		const result = await runPrompt(resolvedOf(makeSpec()), vars, provider);
		expect(result).toMatchObject({ valid: false, retryable: false, reason: 'input too long for model "gpt-4o-mini"' });
	});

	test('other errors propagate unchanged', async () => {
		const boom = new TypeError('bug');
		await expect(runPrompt(resolvedOf(makeSpec()), vars, new ScriptedProvider([boom]))).rejects.toBe(boom);
	});

	test('input errors are thrown before any model call', async () => {
		const provider = new ScriptedProvider(['{"value": true}']);
		await expect(runPrompt(resolvedOf(makeSpec()), { subject: 'x' }, provider)).rejects.toThrow(InputError);
		expect(provider.requests).toHaveLength(0);
	});

	test('the abort signal is passed to the provider', async () => {
		const provider = new ScriptedProvider(['true']);
		const controller = new AbortController();
		await runPrompt(resolvedOf(makeSpec()), vars, provider, { signal: controller.signal });
		expect(provider.requests[0].signal).toBe(controller.signal);
	});
});
