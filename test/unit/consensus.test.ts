/**
 * Consensus voting over the loopback model server: samples and models, `all` and `{majority: k}`, an invalid
 * answer as a disagreeing vote, costs and calls summed, agreement in the summary, minAgreement in the gate,
 * the prompt format (validated, hashed only when declared).
 */
import * as path from 'node:path';
import { contentHash } from '../../lib/hash';
import { checkPolicy, DEFAULT_POLICY, loadPolicy } from '../../lib/policy';
import { createProvider } from '../../lib/providers';
import { RoutingProvider } from '../../lib/accuracy/routing-provider';
import { runPrompt } from '../../lib/run-prompt';
import { runFixtures } from '../../lib/runner';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { ConsensusSpec, ModelSpec, PromptSpec } from '../../lib/types';
import { fixture, makeSpec, resolvedOf, tempRegistry, writeDraftFile, writeText } from './helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer({
		rules: {
			rules: [
				// "lucky": samples of one model answer true, true, false in turn.
				{ prompt: 'price-change', when: 'lucky', cycle: [true, true, false] },
				{ prompt: 'price-change', when: 'garbled', model: 'claude-haiku-4-5', raw: 'maybe?' },
				{ prompt: 'price-change', when: 'price list', model: 'claude-haiku-4-5', value: true },
				{ prompt: 'price-change', when: 'price (increase|list)', model: 'gpt-4o', value: true },
				{ prompt: 'price-change', when: 'price increase', value: true },
				{ prompt: 'price-change', value: false },
			],
		},
	});
});

afterAll(async () => {
	await server.close();
});

const model = (over: Partial<ModelSpec> = {}): ModelSpec => ({ provider: 'openai', name: 'gpt-4o-mini', temperature: 0, maxTokens: 50, ...over });
const claude = model({ provider: 'anthropic', name: 'claude-haiku-4-5' });

function provider(): RoutingProvider {
	const make = (m: ModelSpec) =>
		m.provider === 'anthropic' ? createProvider(m, { apiKey: 'k', baseUrl: server.anthropicBaseUrl, maxRetries: 0 }) : createProvider(m, { apiKey: 'k', baseUrl: server.openaiBaseUrl, maxRetries: 0 });
	return new RoutingProvider(make(model()), make);
}

function spec(consensus: ConsensusSpec): PromptSpec {
	return makeSpec({ model: model(), consensus });
}

const posts = () => server.requests.filter((r) => r.method === 'POST').length;

describe('voting', () => {
	beforeEach(() => server.reset());

	test('samples agree → valid; calls, tokens and cost cover every sample; latency is the parallel wall time', async () => {
		const result = await runPrompt(resolvedOf(spec({ samples: 3, rule: 'all' })), { subject: 'price increase', body: 'x' }, provider(), { pricing: { 'openai:gpt-4o-mini': { input: 1, output: 1 } } });
		expect(result.valid && result.value).toBe(true);
		expect(posts()).toBe(3);
		expect(result.meta.calls).toBe(3);
		expect(result.meta.consensus).toMatchObject({ rule: 'all', voters: 3, agreed: 3, reached: true });
		const single = await runPrompt(resolvedOf(makeSpec({ model: model() })), { subject: 'price increase', body: 'x' }, provider(), { pricing: { 'openai:gpt-4o-mini': { input: 1, output: 1 } } });
		expect(result.meta.inputTokens).toBe(3 * single.meta.inputTokens);
		expect(result.meta.costUsd).toBeCloseTo(3 * single.meta.costUsd, 12);
	});

	test('an answer that is right only by luck: rule all → "no consensus" with every answer; majority 2 → the majority value', async () => {
		const all = await runPrompt(resolvedOf(spec({ samples: 3, rule: 'all' })), { subject: 'lucky', body: 'x' }, provider());
		expect(all.valid).toBe(false);
		if (all.valid) return;
		expect(all.reason).toBe(
			'no consensus (rule all: 2 of 3 answers agree): sample 1 of openai:gpt-4o-mini answered true; sample 2 of openai:gpt-4o-mini answered true; sample 3 of openai:gpt-4o-mini answered false',
		);
		server.reset();
		const majority = await runPrompt(resolvedOf(spec({ samples: 3, rule: { majority: 2 } })), { subject: 'lucky', body: 'y' }, provider());
		expect(majority.valid && majority.value).toBe(true);
		expect(majority.meta.consensus).toMatchObject({ rule: 'majority 2', agreed: 2, reached: true });
	});

	test('one OpenAI and one Anthropic model, each through its own API; disagreement names both answers', async () => {
		const both = spec({ models: [model({ name: 'gpt-4o' }), claude], rule: 'all' });
		const agree = await runPrompt(resolvedOf(both), { subject: 'price increase', body: 'x' }, provider());
		expect(agree.valid && agree.value).toBe(true);
		expect(agree.meta.model).toBe('gpt-4o+claude-haiku-4-5');
		expect(server.requests.map((r) => r.path).sort()).toEqual(['/v1/chat/completions', '/v1/messages']);
		const split = await runPrompt(resolvedOf(spec({ models: [model(), claude], rule: 'all' })), { subject: 'hello', body: 'our price list' }, provider());
		expect(split.valid).toBe(false);
		expect(!split.valid && split.reason).toBe('no consensus (rule all: 1 of 2 answers agree): openai:gpt-4o-mini answered false; anthropic:claude-haiku-4-5 answered true');
	});

	test('an invalid answer is a disagreeing vote, never a value', async () => {
		const three = spec({ models: [model(), model({ name: 'gpt-4o' }), claude], rule: { majority: 2 } });
		const r = await runPrompt(resolvedOf(three), { subject: 'garbled', body: 'x' }, provider());
		// gpt-4o-mini and gpt-4o answer false, claude answers garbage: 2 of 3 agree.
		expect(r.valid && r.value).toBe(false);
		expect(r.meta.consensus?.answers[2]).toMatchObject({ voter: 'anthropic:claude-haiku-4-5', invalid: expect.any(String) });
		const strict = await runPrompt(resolvedOf({ ...three, consensus: { ...three.consensus!, rule: 'all' } }), { subject: 'garbled', body: 'x' }, provider());
		expect(strict.valid).toBe(false);
		expect(!strict.valid && strict.reason).toMatch(/^no consensus \(rule all: 2 of 3 answers agree\): .*anthropic:claude-haiku-4-5 gave no valid answer \(/);
	});
});

describe('runs and the gate', () => {
	test('a fixture that passes only by luck shows as disagreement; agreement per fixture and per segment; minAgreement', async () => {
		const fixtures = [
			fixture('sure', { subject: 'price increase', body: 'x' }, true, { segment: 'acme' }),
			fixture('lucky', { subject: 'lucky', body: 'x' }, true, { segment: 'acme' }),
			fixture('calm', { subject: 'hello', body: 'x' }, false, { segment: 'globex' }),
		];
		const run = await runFixtures({ resolved: resolvedOf(spec({ samples: 3, rule: 'all' }), 1), fixtures, provider: provider(), concurrency: 1 });
		const lucky = run.results.find((r) => r.fixtureId === 'lucky')!;
		expect(lucky).toMatchObject({ passed: false, valid: false, consensus: { voters: 3, agreed: 2, reached: false } });
		expect(lucky.reason).toMatch(/^no consensus/);
		expect(run.summary.agreement).toEqual({
			total: 3,
			agreed: 2,
			rate: 0.6667,
			meanVoteShare: 0.8889,
			segments: { acme: { total: 2, agreed: 1, rate: 0.5 }, globex: { total: 1, agreed: 1, rate: 1 } },
		});
		const policy = { ...DEFAULT_POLICY, minPassRate: 0 };
		expect(checkPolicy(run, undefined, policy).checks.find((c) => c.rule === 'minAgreement')).toMatchObject({ status: 'skipped', message: 'not set' });
		expect(checkPolicy(run, undefined, { ...policy, minAgreement: 0.6 }).ok).toBe(true);
		const refused = checkPolicy(run, undefined, { ...policy, minAgreement: 0.9 });
		expect(refused.violations).toEqual([{ rule: 'minAgreement', message: expect.stringContaining('agreement 66.67% (2 of 3 fixtures reached consensus) — below minAgreement 90%; no consensus: lucky'), fixtures: ['lucky'] }]);
		const plain = await runFixtures({ resolved: resolvedOf(makeSpec({ model: model() }), 1), fixtures: fixtures.slice(0, 1), provider: provider() });
		expect(plain.summary.agreement).toBeUndefined();
		expect(checkPolicy(plain, undefined, { ...policy, minAgreement: 0.9 }).checks.find((c) => c.rule === 'minAgreement')).toMatchObject({ status: 'skipped', message: 'the run was not voted on: the prompt declares no consensus' });
	});

	test('repeat: a fixture agrees only if every attempt reached consensus', async () => {
		server.reset();
		const run = await runFixtures({ resolved: resolvedOf(spec({ samples: 2, rule: 'all' }), 1), fixtures: [fixture('lucky', { subject: 'lucky', body: 'r' }, true)], provider: provider(), repeat: 2 });
		// Answers in turn true, true | false, true: the first attempt agrees, the second does not.
		expect(run.results[0]).toMatchObject({ passed: false, consensus: { voters: 2, agreed: 1, reached: false }, attempts: 2, attemptsPassed: 1 });
	});
});

describe('format', () => {
	test('old versions hash as before; consensus is part of the hash', () => {
		const plain = makeSpec();
		expect(contentHash({ ...plain, consensus: undefined })).toBe(contentHash(plain));
		expect(contentHash({ ...plain, consensus: { samples: 3, rule: 'all' } })).not.toBe(contentHash(plain));
		expect(contentHash({ ...plain, consensus: { samples: 3, rule: 'all' } })).not.toBe(contentHash({ ...plain, consensus: { samples: 3, rule: { majority: 2 } } }));
	});

	test('prompt.yaml: consensus is validated, naming file and field; rule defaults to all', async () => {
		const { root, store } = await tempRegistry();
		const base = 'id: price-change\nmodel: {provider: openai, name: gpt-4o-mini}\ninputs: {subject: {type: string}, body: {type: string}}\ninstructions: x\ntemplate: "{{subject}} {{body}}"\noutput: {type: boolean}\n';
		await writeDraftFile(root, 'price-change', `${base}consensus: {models: [{provider: openai, name: gpt-4o-mini}, {provider: anthropic, name: claude-haiku-4-5}]}\n`);
		const read = await store.readDraft('price-change');
		expect(read.consensus).toEqual({ models: [{ provider: 'openai', name: 'gpt-4o-mini', temperature: 0, maxTokens: 256 }, { provider: 'anthropic', name: 'claude-haiku-4-5', temperature: 0, maxTokens: 256 }], rule: 'all' });
		const cases: Array<[string, RegExp]> = [
			['consensus: {samples: 3, models: [{provider: openai, name: a}, {provider: openai, name: b}]}', /prompt\.yaml:7 field "consensus": give samples .* or models .*, not both and not neither/],
			['consensus: {samples: 1}', /field "consensus\.samples": must be at least 2/],
			['consensus: {samples: 4, rule: {majority: 2}}', /field "consensus\.rule\.majority": must be more than half of the 4 voters/],
			['consensus: {samples: 3, rule: most}', /field "consensus\.rule": must be all, or \{majority: k\}/],
		];
		for (const [line, pattern] of cases) {
			await writeDraftFile(root, 'price-change', `${base}${line}\n`);
			await expect(store.readDraft('price-change')).rejects.toThrow(pattern);
		}
	});

	test('policy minAgreement is validated', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await writeText(path.join(root, 'policy.yaml'), 'minAgreement: 95\n');
		await expect(loadPolicy(store, 'price-change')).rejects.toThrow(/policy\.yaml.*minAgreement.*between 0 and 1/);
	});
});
