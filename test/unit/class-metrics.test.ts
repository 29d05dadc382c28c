/** Per-class metrics for classification outputs and the gate's minRecall / minPrecision / minF1 rules. */
import * as path from 'node:path';
import { classFields, classMetrics } from '../../lib/accuracy/classes';
import { checkPolicy, DEFAULT_POLICY, loadPolicy, type Policy } from '../../lib/policy';
import { ConfigError } from '../../lib/errors';
import { commitDraft } from '../../lib/registry/commit';
import { resolvePrompt } from '../../lib/registry/resolve';
import { evaluateGate } from '../../lib/release';
import { validateRegistry } from '../../lib/validate-registry';
import { runFixtures, summarize } from '../../lib/runner';
import { SummaryBuilder } from '../../lib/streamed-run';
import type { FixtureResult, OutputSchema, RunReport } from '../../lib/types';
import { answering, fixture, makeSpec, tempRegistry, writeText } from './helpers';

const bool: OutputSchema = { type: 'boolean' };
const currency: OutputSchema = { type: 'string', enum: ['EUR', 'USD'], nullable: true };

function res(id: string, expected: FixtureResult['expected'], actual: FixtureResult['actual'], valid = true): FixtureResult {
	const passed = valid && JSON.stringify(expected) === JSON.stringify(actual);
	return { fixtureId: id, segment: 'default', passed, expected, actual, valid, rawOutput: null, latencyMs: 1, inputTokens: 1, outputTokens: 1, costUsd: 0, repaired: false };
}

/** 4 expect true (3 answered true, 1 false), 6 expect false (5 false, 1 true). */
function boolResults(): FixtureResult[] {
	return [
		res('t1', true, true), res('t2', true, true), res('t3', true, true), res('t4-missed', true, false),
		res('f1', false, false), res('f2', false, false), res('f3', false, false), res('f4', false, false), res('f5', false, false), res('f6-wrong', false, true),
	];
}

function runWith(results: FixtureResult[], output: OutputSchema): RunReport {
	return {
		runId: 'run-1', promptId: 'price-change', version: 1, contentHash: 'sha256:x', model: { provider: 'openai', name: 'gpt-4o-mini' },
		startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z', summary: summarize('run-1', results, undefined, output), results,
	};
}

function policy(over: Partial<Policy>): Policy {
	return { ...DEFAULT_POLICY, minPassRate: 0, ...over };
}

describe('class metrics', () => {
	test('which fields are classifications: boolean, enum (with null when nullable), such properties of objects', () => {
		expect(classFields(bool)).toEqual({ value: ['true', 'false'] });
		expect(classFields(currency)).toEqual({ value: ['EUR', 'USD', 'null'] });
		expect(classFields({ type: 'number' })).toEqual({});
		expect(classFields({ type: 'object', properties: { changed: { type: 'boolean' }, price: { type: 'number' }, cur: { type: 'string', enum: ['EUR'] } } })).toEqual({ changed: ['true', 'false'], cur: ['EUR'] });
	});

	test('confusion matrix, precision, recall and F1 per class of a boolean output', () => {
		const m = classMetrics(boolResults(), bool)!.value;
		expect(m.columns).toEqual(['true', 'false']);
		expect(m.matrix).toEqual({ true: { true: 3, false: 1 }, false: { true: 1, false: 5 } });
		expect(m.classes.true).toEqual({ support: 4, predicted: 4, truePositives: 3, precision: 0.75, recall: 0.75, f1: 0.75 });
		expect(m.classes.false).toEqual({ support: 6, predicted: 6, truePositives: 5, precision: 0.8333, recall: 0.8333, f1: 0.8333 });
	});

	test('invalid answers get their own column and count as misses; a class nobody expects cannot be measured', () => {
		const m = classMetrics([res('a', 'EUR', 'EUR'), res('b', 'EUR', null, false), res('c', null, 'EUR')], currency)!.value;
		expect(m.columns).toEqual(['EUR', 'USD', 'null', 'invalid']);
		expect(m.matrix.EUR).toEqual({ EUR: 1, USD: 0, null: 0, invalid: 1 });
		expect(m.classes.EUR).toMatchObject({ support: 2, predicted: 2, precision: 0.5, recall: 0.5, f1: 0.5 });
		expect(m.classes.USD).toMatchObject({ support: 0, predicted: 0, precision: null, recall: null, f1: null });
		expect(m.classes.null).toMatchObject({ support: 1, predicted: 0, precision: 0, recall: 0, f1: 0 });
	});

	test('object outputs: one matrix per boolean or enum property; other outputs have none', () => {
		const obj: OutputSchema = { type: 'object', properties: { changed: { type: 'boolean' }, price: { type: 'number', nullable: true } } };
		const m = classMetrics([res('a', { changed: true, price: 3 }, { changed: true, price: 4 }), res('b', { changed: true, price: null }, { changed: false, price: null })], obj)!;
		expect(Object.keys(m)).toEqual(['changed']);
		expect(m.changed.matrix.true).toEqual({ true: 1, false: 1 });
		expect(classMetrics([res('a', 3, 3)], { type: 'number' })).toBeUndefined();
	});

	test('the streamed summary builds the same matrices as the whole-list summary', () => {
		const builder = new SummaryBuilder(undefined, bool);
		for (const r of boolResults()) builder.add(r);
		expect(builder.summary('run-1').classes).toEqual(summarize('run-1', boolResults(), undefined, bool).classes);
	});
});

describe('per-class gate rules', () => {
	const rule = (p: Partial<Policy>, results = boolResults(), output: OutputSchema = bool) => {
		const r = checkPolicy(runWith(results, output), undefined, policy(p));
		return { ...r, check: (name: string) => r.checks.find((c) => c.rule === name)! };
	};

	test('not set or not a classification output: skipped, never passed', () => {
		expect(rule({}).check('minRecall')).toEqual({ rule: 'minRecall', status: 'skipped', message: 'not set' });
		const numeric = rule({ minRecall: { true: 1 } }, [res('a', 3, 3)], { type: 'number' });
		expect(numeric.check('minRecall').status).toBe('skipped');
		expect(numeric.check('minRecall').message).toContain('no boolean or enum field');
	});

	test('minRecall {true: 1.0} refuses a missed true, naming the fixture; a met minimum passes', () => {
		const refused = rule({ minRecall: { true: 1 } });
		expect(refused.ok).toBe(false);
		expect(refused.violations[0]).toEqual({ rule: 'minRecall', message: expect.stringContaining('recall of class true is 75% (3 of 4 fixtures expecting it) — below minRecall 100%; missed: t4-missed'), fixtures: ['t4-missed'] });
		expect(rule({ minRecall: { true: 0.75 } }).check('minRecall')).toMatchObject({ status: 'pass', message: 'recall of class true 75% ≥ 75%' });
	});

	test('minPrecision names the fixtures wrongly answered as the class; minF1 names both', () => {
		const p = rule({ minPrecision: { true: 0.8 } });
		expect(p.violations[0].rule).toBe('minPrecision');
		expect(p.violations[0].message).toContain('precision of class true is 75% (3 of 4 answers of it right) — below minPrecision 80%; wrongly answered it: f6-wrong');
		expect(p.violations[0].fixtures).toEqual(['f6-wrong']);
		const f = rule({ minF1: { false: 0.9 } });
		expect(f.violations[0].fixtures.sort()).toEqual(['f6-wrong', 't4-missed']);
		expect(rule({ minF1: { false: 0.8 } }).ok).toBe(true);
	});

	test('an unknown class, an object output without the property, and a class no fixture expects are refusals', () => {
		expect(rule({ minRecall: { maybe: 1 } }).violations[0].message).toContain('policy minRecall.maybe: "maybe" is not a class of the output (classes: true, false)');
		const obj: OutputSchema = { type: 'object', properties: { changed: { type: 'boolean' } } };
		const objResults = [res('a', { changed: true }, { changed: true })];
		expect(rule({ minRecall: { true: 1 } }, objResults, obj).violations[0].message).toContain('the output is an object: name the property, e.g. minRecall: {changed: {true: 1}}');
		expect(rule({ minRecall: { changed: { true: 1 } } }, objResults, obj).ok).toBe(true);
		expect(rule({ minRecall: { changed: { false: 1 } } }, objResults, obj).violations[0].message).toContain('recall of changed = false cannot be measured: no fixture expects it');
		expect(rule({ minRecall: { price: { true: 1 } } }, objResults, obj).violations[0].message).toContain('"price" is not a boolean or enum field of the output');
	});

	test('policy files: minRecall, minPrecision and minF1 are validated, naming file and field', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'minRecall: {true: 1.0}\nminF1: {changed: {false: 0.9}}\n');
		expect(await loadPolicy(store, 'price-change')).toMatchObject({ minRecall: { true: 1 }, minF1: { changed: { false: 0.9 } } });
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'minRecall: {true: 95}\n');
		const error = await loadPolicy(store, 'price-change').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ConfigError);
		expect(String((error as Error).message)).toMatch(/price-change\/policy\.yaml.*minRecall\.true.*between 0 and 1/);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'minPrecision: [true]\n');
		expect(String(((await loadPolicy(store, 'price-change').catch((e: unknown) => e)) as Error).message)).toMatch(/minPrecision/);
	});

	test('validate names a per-class minimum whose class the output does not declare, naming file and field', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'minRecall: {true: 1.0}\nminF1: {maybe: 0.9}\n');
		const report = await validateRegistry(store);
		expect(report.errors.map((e) => e.message)).toEqual([expect.stringMatching(/price-change[/\\]policy\.yaml field "minF1": minF1\.maybe: "maybe" is not a class of the output \(classes: true, false\)/)]);
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'minRecall: {true: 1.0}\n');
		expect((await validateRegistry(store)).errors).toEqual([]);
	});

	test('the gate judges the stored run of a version: a missed true refuses the release under minRecall', async () => {
		const { root, store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await writeText(path.join(root, 'price-change', 'policy.yaml'), 'minPassRate: 0.5\nminRecall: {true: 1.0}\n');
		const fixtures = [fixture('inc', { subject: 'price increase', body: 'x' }, true), fixture('quoted', { subject: 'Re: hello', body: '> price increase' }, true), fixture('none', { subject: 'hello', body: 'x' }, false)];
		for (const f of fixtures) await store.writeFixture('price-change', f);
		await commitDraft(store, 'price-change', { now: new Date() });
		const resolved = await resolvePrompt(store, 'price-change', { version: 1 });
		const run = await runFixtures({ resolved, fixtures, provider: answering((user) => /Subject: price increase/.test(user)) });
		expect(run.summary.classes?.value.matrix.true).toEqual({ true: 1, false: 1 });
		await store.writeRun(run);
		const verdict = await evaluateGate(store, 'price-change', 1);
		expect(verdict.ok).toBe(false);
		expect(verdict.violations.map((v) => v.rule)).toEqual(['minRecall']);
		expect(verdict.failingFixtures).toEqual(['quoted']);
	});
});
