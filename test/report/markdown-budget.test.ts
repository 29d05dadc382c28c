/** Markdown must fit a GitHub pull-request comment (65 536 characters), whatever the run. */
import { buildBundle, GITHUB_COMMENT_LIMIT, MARKDOWN_BUDGET, renderMarkdown } from '../../lib/report';
import type { FixtureResult } from '../../lib/types';
import { result, runOf, spec } from './helpers';

const LONG = 'the model answered something quite different from what the fixture expects, at great length. '.repeat(20);

function id(prefix: string, i: number): string {
	return `${prefix}-${String(i).padStart(4, '0')}`;
}

/** 1 000 failing fixtures with long reasons (`regressions` of them passed in the baseline) and a diff of `diffLines` lines. */
function bigBundle(regressions: number, diffLines = 1500) {
	const baselineResults: FixtureResult[] = [];
	const results: FixtureResult[] = [];
	for (let i = 0; i < 1000; i++) {
		const name = i < regressions ? id('regressed', i) : id('failing', i);
		baselineResults.push(result(name, `segment-${i % 7}`, i < regressions));
		results.push(result(name, `segment-${i % 7}`, false, { reason: `${i}: ${LONG}` }));
	}
	const baseline = runOf('20261121T090000000Z-base01', baselineResults);
	const run = runOf('20261121T100000000Z-run002', results, { version: 2 }, baseline);
	const longText = Array.from({ length: diffLines }, (_, i) => `line ${i} of a long instruction block that was rewritten`).join('\n');
	return buildBundle({
		run,
		baseline,
		...(diffLines > 0 ? { baselineSpec: spec(), runSpec: spec({ instructions: `${longText}\n` }) } : {}),
		now: new Date('2026-11-21T10:30:00.000Z'),
	});
}

test('1 000 failing fixtures with long reasons fit a PR comment; regressions still come first', () => {
	const b = bigBundle(40);
	const md = renderMarkdown(b);
	expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
	expect(md.length).toBeLessThanOrEqual(MARKDOWN_BUDGET);

	const reg = md.indexOf('<summary>Regressions (passed in the baseline, fail now): 40</summary>');
	const still = md.indexOf('Still failing: 960');
	expect(reg).toBeGreaterThan(0);
	expect(still).toBeGreaterThan(reg);
	// The first regressions are listed, in order, before anything still failing.
	expect(md.indexOf('`regressed-0000`')).toBeGreaterThan(reg);
	expect(md.indexOf('`regressed-0000`')).toBeLessThan(md.indexOf('`regressed-0001`'));
	expect(md.indexOf('`regressed-0001`')).toBeLessThan(still);
	// At most 25 rows per group, then a pointer to the full report.
	expect(md).not.toContain('`regressed-0025`');
	expect(md).toContain('…and 15 more fixtures — see `prompt-release report price-change 20261121T100000000Z-run002 --format html --out report.html`');
	// Reasons are cut at ~200 characters.
	const row = md.split('\n').find((l) => l.startsWith('| `regressed-0000`'))!;
	const why = row.split(' | ').pop()!.replace(/ \|$/, '');
	expect(why.length).toBeLessThanOrEqual(200);
	expect(why.endsWith('…')).toBe(true);
	// What was cut is said: the diff first.
	expect(md).toContain('> ✂️ Shortened to fit a pull-request comment: the prompt diff');
	expect(md).not.toContain('```diff');
	expect(md).toContain('Prompt diff against the baseline: left out to fit a pull-request comment');
});

test('a run that fits keeps the diff and every group up to 25 rows, without a "shortened" note', () => {
	const b = bigBundle(3, 40);
	const small = { ...b, stillFailing: b.stillFailing.slice(0, 30), fixtures: b.fixtures.slice(0, 33) };
	const md = renderMarkdown(small);
	expect(md).not.toContain('Shortened to fit');
	expect(md).toContain('```diff');
	expect(md).toContain('…and 5 more fixtures — see');
	expect(md).toContain('`failing-0027`');
	expect(md).not.toContain('`failing-0028`');
});

test('even with thousands of regressions and huge segment tables the comment stays under budget', () => {
	const b = bigBundle(1000, 0);
	const manySegments = {
		...b,
		passRate: { ...b.passRate, segments: Array.from({ length: 3000 }, (_, i) => ({ name: `segment-${'x'.repeat(60)}-${i}`, total: 1, passed: 0, passRate: 0 })) },
	};
	const md = renderMarkdown(manySegments);
	expect(md.length).toBeLessThanOrEqual(MARKDOWN_BUDGET);
	expect(md).toContain('<summary>Regressions (passed in the baseline, fail now): 1000</summary>');
	expect(md).toMatch(/> ✂️ Shortened to fit a pull-request comment: .*segment and field tables/);
});

test('when the lists themselves are too long, still-failing and fixes are cut before regressions, and the note says so', () => {
	const longId = (prefix: string, i: number): string => `${id(prefix, i)}-${'n'.repeat(80)}`;
	const base: FixtureResult[] = [];
	const now: FixtureResult[] = [];
	const wide = { expected: { text: 'x'.repeat(80) }, actual: { text: 'y'.repeat(80) } };
	for (let i = 0; i < 300; i++) {
		const kind = i < 100 ? 'regressed' : i < 200 ? 'fixed' : 'failing';
		const seg = `${'s'.repeat(95)}-${i}`;
		base.push(result(longId(kind, i), seg, kind === 'regressed', wide));
		now.push(result(longId(kind, i), seg, kind === 'fixed', { ...wide, ...(kind === 'fixed' ? {} : { reason: LONG }) }));
	}
	const baseline = runOf('base', base);
	const b = buildBundle({ run: runOf('run', now, {}, baseline), baseline });
	const md = renderMarkdown(b);
	expect(md.length).toBeLessThanOrEqual(MARKDOWN_BUDGET);
	expect(md).toMatch(/> ✂️ Shortened to fit a pull-request comment: .*fixture lists: .*still failing \((first \d+|not listed)\)/);
	// All 25 regression rows stay.
	expect(md).toContain(`\`${longId('regressed', 24)}\``);
	expect(md).toContain('…and 75 more fixtures — see');
});
