/** Markdown for pull requests; HTML as one self-contained file, rendered in real headless Chromium. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildBundle, renderBundle, renderHtml, renderMarkdown } from '../../lib/report';
import { browserTests, chromium } from './browser';
import { scenario, spec } from './helpers';

function bundle() {
	const { baseline, run } = scenario();
	return buildBundle({
		run,
		baseline,
		baselineSpec: spec(),
		runSpec: spec({ template: 'Subject: {{subject}}\nBody:\n{{body}}\n', output: { type: 'boolean', nullable: true } }),
		now: new Date('2026-11-21T10:30:00.000Z'),
	});
}

test('markdown: summary, segment table with deltas, fixtures in order, metrics, collapsible diff', () => {
	const md = renderMarkdown(bundle());
	expect(md).toContain('### Evaluation: `price-change` — ❌ 1 regression');
	expect(md).toContain('**Pass rate 40.0%** (2/5), baseline 50.0% (−10.0 pp) · regressions **1** · fixes **1** · still failing **2**');
	expect(md).toContain('| Segment | Passed | Pass rate | Baseline | Δ |');
	expect(md).toContain('| acme | 1/2 | 50.0% | 100.0% | −50.0 pp |');
	expect(md).toContain('| logistics | 1/3 | 33.3% | 0.0% | +33.3 pp |');
	expect(md).toContain('| value | 2/5 | 40.0% | 50.0% | −10.0 pp |');
	const reg = md.indexOf('#### Regressions (passed in the baseline, fail now): 1');
	const fix = md.indexOf('#### Fixes (failed before, pass now): 1');
	const still = md.indexOf('#### Still failing: 2');
	expect(reg).toBeGreaterThan(0);
	expect(fix).toBeGreaterThan(reg);
	expect(still).toBeGreaterThan(fix);
	expect(md).toContain('| `regress` | acme | `true` | `false` | `true` | expected true, got false |');
	expect(md).toContain('| `new-fail` | logistics | `true` | `false` | new |');
	expect(md).toContain('| Latency p50 | 150 ms | 100 ms | +50 ms (+50.0%) |');
	expect(md).toContain('| Latency p95 | 200 ms | 100 ms | +100 ms (+100.0%) |');
	expect(md).toContain('| Input tokens | 250 | 200 | +50 (+25.0%) |');
	expect(md).toContain('| Cost | $0.00100 | $0.000400 | +$0.000600 (+150.0%) |');
	expect(md).toContain('<details>\n<summary>Prompt diff against the baseline (template, 1 field)</summary>');
	expect(md).toContain('| `output.nullable` | *(absent)* | `true` |');
	expect(md).toContain('```diff\n--- a/template (version 1)\n+++ b/template (version 2)\n@@ -1,3 +1,3 @@\n Subject: {{subject}}\n-\n+Body:\n {{body}}\n```');
});

test('markdown folds long fixture lists into <details>', () => {
	const { baseline, run } = scenario();
	const many = { ...run, results: [...run.results, ...Array.from({ length: 6 }, (_, i) => ({ ...run.results[0], fixtureId: `stuck-${i}` }))] };
	const md = renderMarkdown(buildBundle({ run: many, baseline }));
	expect(md).toContain('<details>\n<summary>Still failing: 8</summary>');
	expect(md).toContain('#### Regressions (passed in the baseline, fail now): 1');
});

test('json is the bundle itself', () => {
	const b = bundle();
	expect(JSON.parse(renderBundle(b, 'json'))).toEqual(JSON.parse(JSON.stringify(b)));
});

test('html is one self-contained file: inline CSS and SVG, no scripts, no external references', () => {
	const html = renderHtml(bundle());
	expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
	expect(html).not.toMatch(/https?:\/\//i);
	expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|href=|url\(|@import/i);
	expect(html).toContain('<style>');
	expect((html.match(/<svg /g) ?? []).length).toBe(5); // pass rate by segment, the confusion matrix + p50, p95, cost
	expect(html).toContain('aria-label="Pass rate by segment"');
	expect(html).toContain('<span class="add">+Body:</span>');
	expect(html).toContain('<code>output.nullable</code>');
});

test('html: approvals of the run get their own section, not a line under "Accuracy per output field"', () => {
	const { baseline, run } = scenario();
	const approvals = [
		{ by: 'bob', at: '2026-11-21T09:00:00.000Z', channel: 'production', runId: run.runId, reason: 'read the <diff>' },
		{ by: 'carol', at: '2026-11-21T09:30:00.000Z', channel: 'production', runId: run.runId },
	];
	const html = renderHtml(buildBundle({ run, baseline, approvals }));
	const accuracy = html.indexOf('<h2>Accuracy per output field</h2>');
	const heading = html.indexOf('<h2>Approvals of this run</h2>');
	expect(accuracy).toBeGreaterThan(0);
	expect(heading).toBeGreaterThan(accuracy);
	// The accuracy section ends at the approvals heading: nothing about approvals before it.
	expect(html.slice(accuracy, heading)).not.toMatch(/approv/i);
	expect(html.slice(heading)).toContain('<li><strong>bob</strong> for <code>production</code> (2026-11-21T09:00:00.000Z) — read the &lt;diff&gt;</li><li><strong>carol</strong>');
	expect(renderHtml(buildBundle({ run, baseline }))).not.toContain('Approvals of this run');
});

test('html escapes whatever the run contains', () => {
	const { baseline, run } = scenario();
	const evil = { ...run, results: run.results.map((r) => (r.fixtureId === 'regress' ? { ...r, segment: '<script>alert(1)</script>', reason: '"><img src=x>' } : r)) };
	const html = renderHtml(buildBundle({ run: evil, baseline }));
	expect(html).not.toContain('<script>alert');
	expect(html).not.toContain('<img');
	expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
});

(browserTests ? test : test.skip)(
	'the html report opens offline in headless chromium and shows the numbers',
	async () => {
		const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-html-'));
		try {
			const file = path.join(dir, 'report.html');
			await fs.writeFile(file, renderHtml(bundle()));
			const dom = await chromium(['--dump-dom', `file://${file}`], path.join(dir, 'profile-dom'));
			expect(dom.stdout).toContain('<h1>Evaluation: price-change</h1>');
			expect(dom.stdout).toContain('Pass rate by segment');
			expect(dom.stdout).toContain('>acme<');
			expect(dom.stdout).toContain('>logistics<');
			expect(dom.stdout).toContain('>40.0%<');
			expect(dom.stdout).toContain('>33.3%<');
			expect(dom.stdout).toContain('>−50.0 pp<');
			expect(dom.stdout).toContain('<svg role="img" aria-label="Latency p95"');

			const png = path.join(dir, 'report.png');
			await chromium([`--screenshot=${png}`, '--window-size=1200,900', '--hide-scrollbars', `file://${file}`], path.join(dir, 'profile-shot'));
			const bytes = await fs.readFile(png);
			expect(bytes.length).toBeGreaterThan(10_000);
			expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
		} finally {
			await fs.rm(dir, { recursive: true, force: true });
		}
	},
	60_000,
);
