/** The evaluation bundle from hand-made runs: ordering, rates, deltas, prompt diff, stored runs. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { contentHash } from '../../lib/hash';
import { buildBundle, loadBundle, renderHtml, renderMarkdown } from '../../lib/report';
import { toYaml } from '../../lib/yaml-io';
import { result, runOf, scenario, spec } from './helpers';

test('regressions come first, then fixes, then still failing, then the passing ones', () => {
	const { baseline, run } = scenario();
	const b = buildBundle({ run, baseline });
	expect(b.regressions.map((r) => r.fixtureId)).toEqual(['regress']);
	expect(b.fixes.map((r) => r.fixtureId)).toEqual(['fix']);
	expect(b.stillFailing.map((r) => r.fixtureId)).toEqual(['new-fail', 'stuck']);
	expect(b.stillFailing.find((r) => r.fixtureId === 'new-fail')!.inBaseline).toBe(false);
	expect(b.fixtures.map((r) => [r.fixtureId, r.status])).toEqual([
		['regress', 'regression'],
		['fix', 'fixed'],
		['new-fail', 'still-failing'],
		['stuck', 'still-failing'],
		['keep-pass', 'passing'],
	]);
	expect(b.regressions[0].baselineActual).toBe(true);
	expect(b.regressions[0].actual).toBe(false);
});

test('pass rates overall, per segment and per field, each with the delta against the baseline', () => {
	const { baseline, run } = scenario();
	const b = buildBundle({ run, baseline });
	expect(b.passRate.overall).toEqual({ name: 'overall', total: 5, passed: 2, passRate: 0.4, baselinePassRate: 0.5, delta: -0.1 });
	expect(b.passRate.segments).toEqual([
		{ name: 'acme', total: 2, passed: 1, passRate: 0.5, baselinePassRate: 1, delta: -0.5 },
		{ name: 'logistics', total: 3, passed: 1, passRate: 0.3333, baselinePassRate: 0, delta: 0.3333 },
	]);
	expect(b.passRate.fields).toEqual([{ name: 'value', total: 5, passed: 2, passRate: 0.4, baselinePassRate: 0.5, delta: -0.1 }]);
	expect(b.run).toMatchObject({ runId: run.runId, version: 2, kind: 'test', model: 'openai:gpt-4o-mini', repeat: 1 });
	expect(b.baseline!.runId).toBe(baseline.runId);
	expect(b.notes).toEqual([]);
});

test('latency p50/p95, tokens and cost with deltas', () => {
	const { baseline, run } = scenario();
	const m = buildBundle({ run, baseline }).metrics;
	expect(m.latencyP50Ms).toEqual({ current: 150, baseline: 100, delta: 50, deltaPct: 50 });
	expect(m.latencyP95Ms).toEqual({ current: 200, baseline: 100, delta: 100, deltaPct: 100 });
	expect(m.inputTokens).toEqual({ current: 250, baseline: 200, delta: 50, deltaPct: 25 });
	expect(m.outputTokens).toEqual({ current: 25, baseline: 20, delta: 5, deltaPct: 25 });
	expect(m.costUsd).toEqual({ current: 0.001, baseline: 0.0004, delta: 0.0006, deltaPct: 150 });
});

test('indicator-level accuracy for object outputs: stored per-field results, else derived key by key', () => {
	const exp = { currency: 'EUR', amount: 12 };
	const stored = result('a', 'x', false, { expected: exp, actual: { currency: 'EUR', amount: 13 }, fields: { currency: true, amount: false } });
	const derived = result('b', 'x', false, { expected: exp, actual: { currency: 'USD', amount: 12 } });
	const invalid = result('c', 'x', false, { expected: exp, actual: null, valid: false });
	const b = buildBundle({ run: runOf('r1', [stored, derived, invalid]) });
	expect(b.passRate.fields).toEqual([
		{ name: 'amount', total: 3, passed: 1, passRate: 0.3333 },
		{ name: 'currency', total: 3, passed: 1, passRate: 0.3333 },
	]);
	expect(b.baseline).toBeUndefined();
	expect(b.metrics.costUsd).toEqual({ current: 0.0003 });
	expect(b.notes.join('\n')).toContain('no baseline run');
	expect(b.stillFailing.map((r) => r.inBaseline)).toEqual([false, false, false]);
});

test('the prompt diff against the baseline version is part of the bundle', () => {
	const { baseline, run } = scenario();
	const b = buildBundle({ run, baseline, baselineSpec: spec(), runSpec: spec({ instructions: spec().instructions.replace('price change', 'change of unit price'), model: { ...spec().model, name: 'gpt-4.1-mini' } }) });
	expect(b.promptDiff!.same).toBe(false);
	expect(b.promptDiff!.instructions).toContain('-Decide whether the email announces a price change.');
	expect(b.promptDiff!.instructions).toContain('+Decide whether the email announces a change of unit price.');
	expect(b.promptDiff!.instructions).toContain('--- a/instructions (version 1)');
	expect(b.promptDiff!.instructions).toContain('+++ b/instructions (version 2)');
	expect(b.promptDiff!.template).toBe('');
	expect(b.promptDiff!.fields).toEqual([{ path: 'model.name', from: 'gpt-4o-mini', to: 'gpt-4.1-mini' }]);
});

describe('loadBundle from a registry folder', () => {
	let root: string;
	let store: FileRegistryStore;
	beforeEach(async () => {
		root = await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-report-'));
		store = new FileRegistryStore(root);
		await fs.mkdir(path.join(root, 'price-change'), { recursive: true });
		await fs.writeFile(path.join(root, 'price-change', 'prompt.yaml'), toYaml(spec()));
	});
	afterEach(() => fs.rm(root, { recursive: true, force: true }));

	test('default run = the newest; baseline = run.baselineRunId; versions read from the registry', async () => {
		const v1 = spec();
		const v2 = spec({ template: 'Subject: {{subject}}\nBody:\n{{body}}\n' });
		await store.createVersion('price-change', { version: 1, contentHash: contentHash(v1), createdAt: '2026-11-21T08:00:00.000Z', prompt: v1 });
		await store.createVersion('price-change', { version: 2, contentHash: contentHash(v2), createdAt: '2026-11-21T08:30:00.000Z', prompt: v2 });
		const { baseline, run } = scenario();
		await store.writeRun({ ...baseline, contentHash: contentHash(v1) });
		await store.writeRun({ ...run, contentHash: contentHash(v2) });
		const b = await loadBundle(store, 'price-change');
		expect(b.run.runId).toBe(run.runId);
		expect(b.baseline!.runId).toBe(baseline.runId);
		expect(b.notes).toEqual([]);
		expect(b.promptDiff!.template).toContain('+Body:');
		expect(b.promptDiff!.fields).toEqual([]);
		const older = await loadBundle(store, 'price-change', baseline.runId);
		expect(older.baseline).toBeUndefined();
	});

	test('a draft run says so when the draft changed since the run', async () => {
		const ran = spec({ instructions: 'Old instructions.\n' });
		await store.writeRun(runOf('20261121T100000000Z-draft1', [result('a', 'x', true)], { version: 'draft', contentHash: contentHash(ran) }));
		const b = await loadBundle(store, 'price-change');
		expect(b.notes.join('\n')).toMatch(/the draft changed since run 20261121T100000000Z-draft1 \(run hash sha256:[0-9a-f]+, draft now sha256:[0-9a-f]+\)/);
	});

	test('no runs: a clear error', async () => {
		await expect(loadBundle(store, 'price-change')).rejects.toThrow('has no stored runs yet');
	});
});

test('with repeat > 1, tokens and cost compare per attempt (each run divided by its own repeat) and say so', () => {
	// Baseline ran each fixture once; this run three times with the same usage per attempt (stored summed: ×3).
	const baseline = runOf('base', [result('a', 'x', true), result('b', 'x', true)]);
	const tripled = { inputTokens: 150, outputTokens: 15, costUsd: 0.0003, attempts: 3, attemptsPassed: 3 };
	const run = runOf('run', [result('a', 'x', true, tripled), result('b', 'x', true, tripled)], { repeat: 3 }, baseline);
	expect(run.summary.tokens.input).toBe(300); // the stored figure is summed over the attempts
	const b = buildBundle({ run, baseline });
	expect(b.metricsPerAttempt).toBe(true);
	expect(b.metrics.inputTokens).toEqual({ current: 100, baseline: 100, delta: 0, deltaPct: 0 });
	expect(b.metrics.outputTokens).toEqual({ current: 10, baseline: 10, delta: 0, deltaPct: 0 });
	expect(b.metrics.costUsd).toEqual({ current: 0.0002, baseline: 0.0002, delta: 0, deltaPct: 0 });
	// Latency is already an average per attempt: untouched.
	expect(b.metrics.latencyP50Ms).toEqual({ current: 100, baseline: 100, delta: 0, deltaPct: 0 });

	const md = renderMarkdown(b);
	expect(md).toContain('| Input tokens (per attempt) | 100 | 100 | ±0 (±0.0%) |');
	expect(md).toContain('| Cost (per attempt) | $0.000200 | $0.000200 | ±$0 (±0.0%) |');
	expect(md).toContain('| Latency p50 | 100 ms |');
	expect(renderHtml(b)).toContain('<td>Output tokens (per attempt)</td>');

	// A repeated baseline against a single run: the baseline side is divided too.
	const b2 = buildBundle({ run: runOf('run1', [result('a', 'x', true)], {}, run), baseline: run });
	expect(b2.metricsPerAttempt).toBe(true);
	expect(b2.metrics.inputTokens).toEqual({ current: 50, baseline: 100, delta: -50, deltaPct: -50 });

	// repeat 1 on both sides: figures as stored, no "per attempt".
	const plain = buildBundle({ run: runOf('r', [result('a', 'x', true)], {}, baseline), baseline });
	expect(plain.metricsPerAttempt).toBe(false);
	expect(renderMarkdown(plain)).not.toContain('per attempt');
});
