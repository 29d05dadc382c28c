/** Gate policy (files, precedence, each rule), per-field comparison and repeat. */
import * as path from 'node:path';
import { compareValues } from '../../lib/compare';
import { ConfigError } from '../../lib/errors';
import { checkPolicy, DEFAULT_POLICY, loadPolicy, type Policy } from '../../lib/policy';
import { commitDraft } from '../../lib/registry/commit';
import type { FileRegistryStore } from '../../lib/registry/file-store';
import { resolvePrompt } from '../../lib/registry/resolve';
import { baselineRun, evaluateGate, releaseVersion } from '../../lib/release';
import { runFixtures } from '../../lib/runner';
import { validateRegistry } from '../../lib/validate-registry';
import type { OutputSchema, RunReport } from '../../lib/types';
import { answering, fixture, makeSpec, resolvedOf, runReport, ScriptedProvider, tempRegistry, writeText } from './helpers';

describe('compareValues', () => {
	const num: OutputSchema = { type: 'number', nullable: true };
	test('exact is the default', () => {
		expect(compareValues(3, 3, num, {})).toEqual({ passed: true, fields: { value: true } });
		expect(compareValues(3, 3.01, num, {})).toEqual({ passed: false, fields: { value: false } });
		expect(compareValues(null, null, num, {})).toEqual({ passed: true, fields: { value: true } });
	});
	test('numeric tolerance: absolute and relative', () => {
		expect(compareValues(100, 100.4, num, { value: { tolerance: { absolute: 0.5 } } }).passed).toBe(true);
		expect(compareValues(100, 100.6, num, { value: { tolerance: { absolute: 0.5 } } }).passed).toBe(false);
		expect(compareValues(100, 101, num, { value: { tolerance: { relative: 0.01 } } }).passed).toBe(true);
		expect(compareValues(100, 102, num, { value: { tolerance: { relative: 0.01 } } }).passed).toBe(false);
		expect(compareValues(100, null, num, { value: { tolerance: { absolute: 5 } } }).passed).toBe(false);
	});
	test('case-insensitive text', () => {
		const s: OutputSchema = { type: 'string', maxLength: 20 };
		expect(compareValues('Acme GmbH', 'ACME gmbh', s, { value: 'caseInsensitive' }).passed).toBe(true);
		expect(compareValues('Acme GmbH', 'ACME gmbh', s, {}).passed).toBe(false);
		expect(compareValues('Acme', 'Acne', s, { value: 'caseInsensitive' }).passed).toBe(false);
	});
	test('one-of accepted values', () => {
		const cur: OutputSchema = { type: 'string', enum: ['EUR', 'USD', 'CHF'], nullable: true };
		expect(compareValues('EUR', null, cur, { value: { oneOf: ['EUR', null] } }).passed).toBe(true);
		expect(compareValues('EUR', 'USD', cur, { value: { oneOf: ['EUR', null] } }).passed).toBe(false);
	});
	test('objects are compared field by field, each with its rule', () => {
		const obj: OutputSchema = { type: 'object', properties: { price: { type: 'number' }, currency: { type: 'string', maxLength: 3 }, note: { type: 'string', maxLength: 9, nullable: true } } };
		const r = compareValues({ price: 10, currency: 'eur' }, { price: 10.05, currency: 'EUR', note: null }, obj, { price: { tolerance: { absolute: 0.1 } } });
		expect(r).toEqual({ passed: false, fields: { price: true, currency: false, note: true } });
		expect(compareValues({ price: 10, currency: 'eur' }, { price: 10.05, currency: 'EUR', note: null }, obj, { price: { tolerance: { absolute: 0.1 } }, currency: 'caseInsensitive' }).passed).toBe(true);
	});
});

describe('policy files', () => {
	test('defaults when there is no file', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		expect(await loadPolicy(store, 'price-change')).toEqual(DEFAULT_POLICY);
	});

	test('the prompt file wins key by key over the registry-wide file; compare merges by field', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await writeText(path.join(root, 'policy.yaml'), 'maxRegressions: 2\nminPassRate: 0.9\nrepeat: 3\ncompare:\n  value: caseInsensitive\n');
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'minPassRate: 0.95\nmaxCostIncreasePct: 10\nfreeze: {minItems: 50, maxInvalidRatePointsAbove: 2}\n');
		expect(await loadPolicy(store, 'price-change')).toEqual({
			maxRegressions: 2,
			minPassRate: 0.95,
			repeat: 3,
			maxCostIncreasePct: 10,
			compare: { value: 'caseInsensitive' },
			freeze: { minItems: 50, maxInvalidRatePointsAbove: 2 },
			maxEvidenceAgeHours: 24,
		});
	});

	test('file errors name file, field and line; validate reports them', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'maxRegressions: 0\nminPassRate: 1.5\nrepet: 3\n');
		const error = await loadPolicy(store, 'price-change').then(() => undefined, (e: unknown) => e as Error);
		expect(error).toBeDefined();
		expect(error!.message).toMatch(/price-change[/\\]policy\.yaml:2 field "minPassRate"/);
		expect(error!.message).toMatch(/policy\.yaml:3 field "repet": unknown field "repet"/);
		await writeText(path.join(root, 'policy.yaml'), 'repeat: 0\n');
		const report = await validateRegistry(store);
		const messages = report.errors.map((e) => e.message).join('\n');
		expect(messages).toMatch(/price-change[/\\]policy\.yaml:2 field "minPassRate"/);
		expect(messages).toMatch(/policy\.yaml:1 field "repeat"/);
	});

	test('validate: compare keys must be output fields', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'compare: {price: exact}\n');
		const report = await validateRegistry(store);
		expect(report.errors.map((e) => e.message).join('\n')).toMatch(/compare names "price", not an output field of "price-change" \(fields: value\)/);
		expect(report.errors[0]).toBeInstanceOf(ConfigError);
	});
});

describe('checkPolicy rules', () => {
	const policy = (over: Partial<Policy> = {}): Policy => ({ ...DEFAULT_POLICY, ...over });
	const base = runReport({ runId: 'base', results: [{ fixtureId: 'a', passed: true, expected: true }, { fixtureId: 'b', passed: true, expected: true }, { fixtureId: 'c', passed: true, expected: true }] });

	test('maxRegressions: one regression trips 0, not 1', () => {
		const run = runReport({ runId: 'new', results: [{ fixtureId: 'a', passed: false, expected: true }, { fixtureId: 'b', passed: true, expected: true }, { fixtureId: 'c', passed: true, expected: true }] });
		const strict = checkPolicy(run, base, policy({ minPassRate: 0 }));
		expect(strict.ok).toBe(false);
		expect(strict.violations).toEqual([expect.objectContaining({ rule: 'maxRegressions', fixtures: ['a'] })]);
		expect(checkPolicy(run, base, policy({ minPassRate: 0, maxRegressions: 1 })).ok).toBe(true);
		// No baseline: nothing regresses.
		expect(checkPolicy(run, undefined, policy({ minPassRate: 0 })).ok).toBe(true);
	});

	test('minPassRate: 2 of 3 passes 0.6, not 0.7', () => {
		const run = runReport({ runId: 'new', results: [{ fixtureId: 'x', passed: false, expected: true }, { fixtureId: 'y', passed: true, expected: true }, { fixtureId: 'z', passed: true, expected: true }] });
		const v = checkPolicy(run, undefined, policy({ minPassRate: 0.7 }));
		expect(v.violations).toEqual([expect.objectContaining({ rule: 'minPassRate', fixtures: ['x'] })]);
		expect(v.violations[0].message).toMatch(/failed 1 of 3 fixtures: x .*pass rate 66\.67% is below minPassRate 70%/);
		expect(checkPolicy(run, undefined, policy({ minPassRate: 0.6 })).ok).toBe(true);
	});

	test('repeat: a run with fewer attempts than the policy asks is refused', () => {
		const run: RunReport = { ...base, repeat: 1 };
		expect(checkPolicy(run, undefined, policy({ repeat: 3 })).violations.map((v) => v.rule)).toEqual(['repeat']);
		expect(checkPolicy({ ...base, repeat: 3 }, undefined, policy({ repeat: 3 })).ok).toBe(true);
	});
});

let clock = Date.parse('2026-05-01T00:00:00.000Z');
const tick = () => new Date((clock += 1000));

async function setup(): Promise<{ store: FileRegistryStore; root: string }> {
	const { store, root } = await tempRegistry();
	await store.writeDraft(makeSpec());
	await commitDraft(store, 'price-change');
	await store.writeDraft(makeSpec({ description: 'v2' }));
	await commitDraft(store, 'price-change');
	for (const [id, body, expected] of [['up', 'price up', true], ['none', 'hello', false], ['down', 'price down', true]] as const) {
		await store.writeFixture('price-change', fixture(id, { subject: 's', body }, expected));
	}
	return { store, root };
}

async function testWith(store: FileRegistryStore, version: number, provider: ScriptedProvider, repeat?: number): Promise<RunReport> {
	const resolved = await resolvePrompt(store, 'price-change', { version });
	const policy = await loadPolicy(store, 'price-change');
	const report = await runFixtures({ resolved, fixtures: await store.listFixtures('price-change'), provider, baseline: await baselineRun(store, 'price-change'), repeat: repeat ?? policy.repeat, compare: policy.compare, now: tick });
	await store.writeRun(report);
	return report;
}

const truthful = (usage = { inputTokens: 10, outputTokens: 2 }, delayMs = 0) =>
	new ScriptedProvider([(req) => JSON.stringify({ value: /price/.test(req.messages[0].content) })], 'openai', usage, delayMs);

describe('the gate with a policy', () => {
	test('maxCostIncreasePct trips when the new version spends more tokens per fixture', async () => {
		const { store, root } = await setup();
		await testWith(store, 1, truthful({ inputTokens: 1000, outputTokens: 10 }));
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		await testWith(store, 2, truthful({ inputTokens: 1500, outputTokens: 10 }));
		expect((await evaluateGate(store, 'price-change', 2)).ok).toBe(true); // not set: no limit
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'maxCostIncreasePct: 20\n');
		const verdict = await evaluateGate(store, 'price-change', 2);
		expect(verdict.ok).toBe(false);
		expect(verdict.violations.map((v) => v.rule)).toEqual(['maxCostIncreasePct']);
		expect(verdict.reasons[0]).toMatch(/cost per fixture rose 4\d\.\d%.*above maxCostIncreasePct 20%/);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'maxCostIncreasePct: 60\n');
		expect((await evaluateGate(store, 'price-change', 2)).ok).toBe(true);
	});

	test('maxP95LatencyIncreasePct trips when the new version is slower', async () => {
		const { store, root } = await setup();
		await testWith(store, 1, truthful(undefined, 10));
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		await testWith(store, 2, truthful(undefined, 120));
		await writeText(path.join(root, 'policy.yaml'), 'maxP95LatencyIncreasePct: 50\n');
		const verdict = await evaluateGate(store, 'price-change', 2);
		expect(verdict.violations.map((v) => v.rule)).toEqual(['maxP95LatencyIncreasePct']);
		expect(verdict.reasons[0]).toMatch(/p95 latency rose/);
	});

	test('maxRegressions 1 in the prompt policy lets one regression through; minPassRate still applies', async () => {
		const { store, root } = await setup();
		await testWith(store, 1, truthful());
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		await testWith(store, 2, answering((t) => /price up/.test(t)));
		let verdict = await evaluateGate(store, 'price-change', 2);
		expect(verdict.violations.map((v) => v.rule)).toEqual(['minPassRate', 'maxRegressions']);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'maxRegressions: 1\nminPassRate: 0.6\n');
		verdict = await evaluateGate(store, 'price-change', 2);
		expect(verdict.ok).toBe(true);
	});
});

describe('repeat and compare in runs', () => {
	test('repeat catches a flaky prompt: a provider alternating answers fails, a steady one passes', async () => {
		const spec = makeSpec();
		const fixtures = [fixture('up', { subject: 's', body: 'price up' }, true)];
		const flaky = new ScriptedProvider(['{"value": true}', '{"value": false}', '{"value": true}']);
		const once = await runFixtures({ resolved: resolvedOf(spec), fixtures, provider: new ScriptedProvider(['{"value": true}', '{"value": false}']) });
		expect(once.summary.passed).toBe(1); // a single attempt does not see it
		const report = await runFixtures({ resolved: resolvedOf(spec), fixtures, provider: flaky, repeat: 3 });
		expect(report.repeat).toBe(3);
		expect(report.results[0]).toMatchObject({ passed: false, attempts: 3, attemptsPassed: 2, inputTokens: 30, outputTokens: 6 });
		expect(report.results[0].reason).toMatch(/2 of 3 attempts passed \(answers: true, false, true\)/);
		expect(flaky.requests).toHaveLength(3);
		const steady = await runFixtures({ resolved: resolvedOf(spec), fixtures, provider: answering(() => true), repeat: 3 });
		expect(steady.results[0]).toMatchObject({ passed: true, attempts: 3, attemptsPassed: 3 });
	});

	test('attempts that all pass under a tolerance but disagree are flaky too', async () => {
		const spec = makeSpec({ output: { type: 'number' } });
		const provider = new ScriptedProvider(['{"value": 10}', '{"value": 10.2}']);
		const report = await runFixtures({ resolved: resolvedOf(spec), fixtures: [fixture('p', { subject: 's', body: 'b' }, 10)], provider, repeat: 2, compare: { value: { tolerance: { absolute: 0.5 } } } });
		expect(report.results[0]).toMatchObject({ passed: false, attemptsPassed: 2 });
	});

	test('fixture compare overrides the policy compare; fields and summary.fields are filled', async () => {
		const spec = makeSpec({ output: { type: 'object', properties: { price: { type: 'number' }, currency: { type: 'string', enum: ['EUR', 'USD'] } } } });
		const p = new ScriptedProvider(['{"price": 10.3, "currency": "USD"}']);
		const fixtures = [
			fixture('a', { subject: 's', body: 'b' }, { price: 10, currency: 'USD' }),
			fixture('b', { subject: 's', body: 'b' }, { price: 10, currency: 'EUR' }, { compare: { price: { tolerance: { absolute: 0.5 } }, currency: { oneOf: ['USD'] } } }),
		];
		const report = await runFixtures({ resolved: resolvedOf(spec), fixtures, provider: p, compare: { price: { tolerance: { absolute: 0.1 } } } });
		expect(report.results.map((r) => [r.passed, r.fields])).toEqual([
			[false, { price: false, currency: true }],
			[true, { price: true, currency: true }],
		]);
		expect(report.summary.fields).toEqual({
			price: { total: 2, passed: 1, failed: 1, passRate: 0.5 },
			currency: { total: 2, passed: 2, failed: 0, passRate: 1 },
		});
	});

	test('an invalid answer fails every field', async () => {
		const spec = makeSpec({ output: { type: 'object', properties: { price: { type: 'number' }, currency: { type: 'string', enum: ['EUR', 'USD'] } } } });
		const p = new ScriptedProvider(['not json']);
		const report = await runFixtures({ resolved: resolvedOf(spec), fixtures: [fixture('a', { subject: 's', body: 'b' }, { price: 1, currency: 'EUR' })], provider: p });
		expect(report.results[0]).toMatchObject({ passed: false, valid: false, fields: { price: false, currency: false } });
		expect(report.summary.fields).toEqual({ price: { total: 1, passed: 0, failed: 1, passRate: 0 }, currency: { total: 1, passed: 0, failed: 1, passRate: 0 } });
	});
});

describe('checkPolicy: unknown cost, repeat and skipped rules', () => {
	const policy = (over: Partial<Policy> = {}): Policy => ({ ...DEFAULT_POLICY, ...over });
	const priced = (runId: string, costUsd: number, over: Partial<RunReport> = {}): RunReport => {
		const r = runReport({ runId, results: [{ fixtureId: 'a', passed: true, expected: true, inputTokens: 100, outputTokens: 10, costUsd }] });
		return { ...r, ...over, summary: { ...r.summary, costUsd } };
	};

	test('maxCostIncreasePct refuses when either run has tokens but no cost (model missing from the price table)', () => {
		const unknown = priced('new', 0, { model: { provider: 'openai', name: 'gpt-9-secret' } });
		const v = checkPolicy(unknown, priced('base', 0.001), policy({ maxCostIncreasePct: 20 }));
		expect(v.ok).toBe(false);
		expect(v.violations).toEqual([expect.objectContaining({ rule: 'maxCostIncreasePct' })]);
		expect(v.violations[0].message).toMatch(/cost unknown for openai:gpt-9-secret .*: add it to pricing\.yaml/);
		const baseUnknown = checkPolicy(priced('new', 0.001), priced('base', 0, { model: { provider: 'anthropic', name: 'claude-x' } }), policy({ maxCostIncreasePct: 20 }));
		expect(baseUnknown.violations[0].message).toMatch(/cost unknown for anthropic:claude-x .*add it to pricing\.yaml/);
		// Not set: no refusal. A model priced at 0 on purpose is known (nothing to compare: skipped).
		expect(checkPolicy(unknown, priced('base', 0.001), policy()).ok).toBe(true);
		const free = checkPolicy(unknown, priced('base', 0, { model: { provider: 'openai', name: 'gpt-9-secret' } }), policy({ maxCostIncreasePct: 20 }), { pricing: { 'openai:gpt-9-secret': { input: 0, output: 0 } } });
		expect(free.ok).toBe(true);
		expect(free.checks.find((c) => c.rule === 'maxCostIncreasePct')).toMatchObject({ status: 'skipped', message: expect.stringMatching(/has no cost data/) });
	});

	test('cost is compared per fixture and attempt: repeat 3 at the same cost per call passes against repeat 1', () => {
		const base = priced('base', 0.001, { repeat: 1 });
		expect(checkPolicy(priced('new', 0.003, { repeat: 3 }), base, policy({ maxCostIncreasePct: 20 })).ok).toBe(true);
		expect(checkPolicy(priced('new', 0.003, { repeat: 1 }), base, policy({ maxCostIncreasePct: 20 })).violations.map((v) => v.rule)).toEqual(['maxCostIncreasePct']);
	});

	test('checks: every rule with pass, fail or skipped and why', () => {
		const run = priced('new', 0.001);
		const none = checkPolicy(run, undefined, policy(), { channel: 'production' });
		expect(none.ok).toBe(true);
		expect(none.checks.map((c) => [c.rule, c.status])).toEqual([
			['minPassRate', 'pass'],
			['maxRegressions', 'skipped'],
			['maxCostIncreasePct', 'skipped'],
			['maxP95LatencyIncreasePct', 'skipped'],
			['repeat', 'pass'],
			['maxEvidenceAgeHours', 'pass'],
			['requireTags', 'skipped'],
			['minAgreement', 'skipped'],
			['minRecall', 'skipped'],
			['minPrecision', 'skipped'],
			['minF1', 'skipped'],
		]);
		expect(none.checks[1].message).toBe('no baseline: nothing with a run is released on "production"');
		expect(none.checks[2].message).toBe('not set');
		const noLatency = priced('base', 0.001);
		noLatency.summary = { ...noLatency.summary, latencyMs: { p50: 0, p95: 0 } };
		const withBase = checkPolicy(run, noLatency, policy({ maxCostIncreasePct: 10, maxP95LatencyIncreasePct: 10, repeat: 2 }));
		expect(withBase.checks.map((c) => [c.rule, c.status])).toEqual([
			['minPassRate', 'pass'],
			['maxRegressions', 'pass'],
			['maxCostIncreasePct', 'pass'],
			['maxP95LatencyIncreasePct', 'skipped'],
			['repeat', 'fail'],
			['maxEvidenceAgeHours', 'pass'],
			['requireTags', 'skipped'],
			['minAgreement', 'skipped'],
			['minRecall', 'skipped'],
			['minPrecision', 'skipped'],
			['minF1', 'skipped'],
		]);
		expect(withBase.checks[3].message).toMatch(/baseline run base has no latency data/);
		expect(withBase.violations.map((v) => v.rule)).toEqual(['repeat']);
	});
});

describe('the gate: repeat, comparison rules, freeze rules', () => {
	test('repeat 3 with identical answers does not trip maxCostIncreasePct 20 against a repeat-1 baseline', async () => {
		const { store, root } = await setup();
		await testWith(store, 1, truthful({ inputTokens: 1000, outputTokens: 10 }), 1);
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		await testWith(store, 2, truthful({ inputTokens: 1000, outputTokens: 10 }), 3);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'maxCostIncreasePct: 20\n');
		const verdict = await evaluateGate(store, 'price-change', 2);
		expect(verdict.violations).toEqual([]);
		expect(verdict.checks.find((c) => c.rule === 'maxCostIncreasePct')?.status).toBe('pass');
	});

	test('a run judged with other comparison rules is out of date; "exact" counts as no rule; runs without a compare hash are judged as before', async () => {
		const { store, root } = await setup();
		const report = await testWith(store, 1, truthful());
		expect(report.results[0].compareHash).toMatch(/^sha256:[0-9a-f]{64}$/);
		expect((await evaluateGate(store, 'price-change', 1)).ok).toBe(true);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'compare: {value: exact}\n');
		expect((await evaluateGate(store, 'price-change', 1)).ok).toBe(true);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'compare: {value: {oneOf: [true]}}\n');
		const verdict = await evaluateGate(store, 'price-change', 1);
		expect(verdict.ok).toBe(false);
		expect(verdict.violations).toEqual([expect.objectContaining({ rule: 'evidence', fixtures: ['down', 'none', 'up'] })]);
		expect(verdict.reasons[0]).toMatch(new RegExp(`comparison rules changed since run ${report.runId} .*: rerun test`));
		expect(verdict.checks[0]).toMatchObject({ rule: 'evidence', status: 'fail' });
		// Tested again under the new rules, the evidence is current.
		await testWith(store, 1, truthful());
		expect((await evaluateGate(store, 'price-change', 1)).violations.filter((v) => v.rule === 'evidence')).toEqual([]);
		// A fixture's own compare counts too.
		await store.writeFixture('price-change', fixture('up', { subject: 's', body: 'price up' }, true, { compare: { value: 'caseInsensitive' } }));
		expect((await evaluateGate(store, 'price-change', 1)).violations).toEqual([expect.objectContaining({ rule: 'evidence', fixtures: ['up'] })]);
	});

	test('runs stored without compare hashes are judged as before', async () => {
		const { store, root } = await setup();
		const report = await testWith(store, 1, truthful());
		const legacy: RunReport = { ...report, runId: report.runId.replace(/-[0-9a-f]+$/, '-ffffff'), results: report.results.map((r) => {
			const copy = { ...r };
			delete copy.compareHash;
			return copy;
		}) };
		await store.writeRun(legacy);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'compare: {value: {oneOf: [true]}}\n');
		const verdict = await evaluateGate(store, 'price-change', 1);
		expect(verdict.run?.runId).toBe(legacy.runId);
		expect(verdict.ok).toBe(true);
	});

	test('a freeze rule needs at least one limit', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'freeze: {minItems: 50}\n');
		await expect(loadPolicy(store, 'price-change')).rejects.toThrow(/policy\.yaml:1 field "freeze".*give maxInvalidRatePointsAbove and\/or maxCorrectionRatePointsAbove/);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'freeze: {minItems: 50, maxCorrectionRatePointsAbove: 3}\n');
		expect((await loadPolicy(store, 'price-change')).freeze).toEqual({ minItems: 50, maxCorrectionRatePointsAbove: 3 });
	});
});
