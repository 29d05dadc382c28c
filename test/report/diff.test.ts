/** lib/diff.ts: unified diffs, field-by-field changes, eval deltas. */
import { diffPrompts, evalDelta, unifiedDiff } from '../../lib/diff';
import { scenario, spec } from './helpers';

test('unifiedDiff: headers, hunks with 3 lines of context, separate hunks for distant changes', () => {
	const a = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n');
	const b = a.replace('line 2', 'line two').replace('line 11', 'line eleven');
	expect(unifiedDiff(a, b, { fromLabel: 'a/x', toLabel: 'b/x' })).toBe(
		[
			'--- a/x',
			'+++ b/x',
			'@@ -1,5 +1,5 @@',
			' line 1',
			'-line 2',
			'+line two',
			' line 3',
			' line 4',
			' line 5',
			'@@ -8,5 +8,5 @@',
			' line 8',
			' line 9',
			' line 10',
			'-line 11',
			'+line eleven',
			' line 12',
			'\\ No newline at end of file',
			'',
		].join('\n'),
	);
	expect(unifiedDiff(a, a)).toBe('');
	expect(unifiedDiff('', 'one\ntwo\n')).toBe('--- a\n+++ b\n@@ -0,0 +1,2 @@\n+one\n+two\n');
	expect(unifiedDiff('keep\nold\n', 'keep\n')).toBe('--- a\n+++ b\n@@ -1,2 +1 @@\n keep\n-old\n');
});

test('diffPrompts: an instructions change is a unified diff; template untouched', () => {
	const a = spec();
	const b = spec({ instructions: a.instructions.replace('Answer with JSON only.', 'Ignore quoted threads.\nAnswer with JSON only.') });
	const d = diffPrompts(a, b, { from: 'version 1', to: 'version 2' });
	expect(d.same).toBe(false);
	expect(d.template).toBe('');
	expect(d.fields).toEqual([]);
	expect(d.instructions).toBe(
		'--- a/instructions (version 1)\n+++ b/instructions (version 2)\n@@ -1,3 +1,4 @@\n You read supplier emails.\n Decide whether the email announces a price change.\n+Ignore quoted threads.\n Answer with JSON only.\n',
	);
});

test('diffPrompts: model, parameters, schema and limitations field by field', () => {
	const a = spec({ output: { type: 'string', enum: ['EUR', 'USD'] } });
	const b = spec({
		model: { provider: 'anthropic', name: 'claude-haiku-4-5', temperature: 0.2, maxTokens: 64 },
		output: { type: 'string', enum: ['EUR', 'USD', 'GBP'], nullable: true },
		limitations: 'Sees the subject and body only. No attachments.',
	});
	const d = diffPrompts(a, b);
	expect(d.instructions).toBe('');
	expect(d.fields).toEqual([
		{ path: 'limitations', from: 'Sees the subject and body only.', to: 'Sees the subject and body only. No attachments.' },
		{ path: 'model.name', from: 'gpt-4o-mini', to: 'claude-haiku-4-5' },
		{ path: 'model.provider', from: 'openai', to: 'anthropic' },
		{ path: 'model.temperature', from: 0, to: 0.2 },
		{ path: 'output.enum', from: ['EUR', 'USD'], to: ['EUR', 'USD', 'GBP'] },
		{ path: 'output.nullable', to: true },
	]);
	expect(diffPrompts(a, { ...a }).same).toBe(true);
});

test('evalDelta: pass rate, per segment, latency, tokens and cost', () => {
	const { baseline, run } = scenario();
	const d = evalDelta(baseline, run);
	expect(d.passRate).toEqual({ current: 0.4, baseline: 0.5, delta: -0.1, deltaPct: -20 });
	expect(d.segments.acme).toEqual({ current: 0.5, baseline: 1, delta: -0.5, deltaPct: -50, total: 2 });
	expect(d.segments.logistics).toEqual({ current: 0.3333, baseline: 0, delta: 0.3333, total: 3 });
	expect(d.latencyP95Ms).toEqual({ current: 200, baseline: 100, delta: 100, deltaPct: 100 });
	expect(d.costUsd.delta).toBe(0.0006);
});

test('unifiedDiff of a complete rewrite is one hunk with every line removed and added', () => {
	const a = Array.from({ length: 300 }, (_, i) => `a${i}`).join('\n');
	const b = Array.from({ length: 300 }, (_, i) => `b${i}`).join('\n');
	const d = unifiedDiff(`head\n${a}\ntail\n`, `head\n${b}\ntail\n`);
	expect(d.startsWith('--- a\n+++ b\n@@ -1,302 +1,302 @@\n head\n-a0\n')).toBe(true);
	expect(d.endsWith('+b299\n tail\n')).toBe(true);
	expect(d.split('\n').filter((l) => l.startsWith('-a')).length).toBe(300);
});
