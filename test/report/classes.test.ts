/** Per-class metrics in every report format: JSON bundle, Markdown tables, HTML matrix chart (checked in headless Chromium). */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildBundle, renderBundle, renderHtml, renderMarkdown } from '../../lib/report';
import type { FixtureResult, OutputSchema } from '../../lib/types';
import { result, runOf, spec } from './helpers';

const currency: OutputSchema = { type: 'string', enum: ['EUR', 'USD', 'CHF'] };

function answer(id: string, expected: string, actual: string | null, valid = true): FixtureResult {
	return result(id, 'default', valid && expected === actual, { expected, actual, valid, ...(valid ? {} : { reason: 'no answer' }) });
}

function bundle() {
	const baseline = runOf('20261121T090000000Z-base01', [answer('a', 'EUR', 'EUR'), answer('b', 'EUR', 'EUR'), answer('c', 'USD', 'USD'), answer('d', 'CHF', 'EUR')]);
	const run = runOf('20261121T100000000Z-run002', [answer('a', 'EUR', 'EUR'), answer('b', 'EUR', 'USD'), answer('c', 'USD', 'USD'), answer('d', 'CHF', null, false)], { version: 2 }, baseline);
	return buildBundle({ run, baseline, runSpec: spec({ output: currency }), baselineSpec: spec({ output: currency }), now: new Date('2026-11-21T10:30:00.000Z') });
}

test('the bundle carries the confusion matrix and per-class metrics, now and in the baseline', () => {
	const b = bundle();
	expect(b.classes?.value.columns).toEqual(['EUR', 'USD', 'CHF', 'invalid']);
	expect(b.classes?.value.matrix).toEqual({ EUR: { EUR: 1, USD: 1, CHF: 0, invalid: 0 }, USD: { EUR: 0, USD: 1, CHF: 0, invalid: 0 }, CHF: { EUR: 0, USD: 0, CHF: 0, invalid: 1 } });
	expect(b.classes?.value.classes.USD).toMatchObject({ precision: 0.5, recall: 1, f1: 0.6667 });
	expect(b.baselineClasses?.value.classes.EUR).toMatchObject({ precision: 0.6667, recall: 1 });
	const json = JSON.parse(renderBundle(b, 'json')) as { classes: unknown };
	expect(json.classes).toEqual(b.classes);
});

test('markdown: class table with deltas and the confusion matrix', () => {
	const md = renderMarkdown(bundle());
	expect(md).toContain('#### Per-class metrics: the answer');
	expect(md).toContain('| Class | Precision | Recall | F1 | Support | Recall Δ | F1 Δ |');
	expect(md).toContain('| `EUR` | 100.0% | 50.0% | 66.7% | 2 | −50.0 pp | −13.3 pp |');
	expect(md).toContain('| `CHF` | 0.0% | 0.0% | 0.0% | 1 | ±0.0 pp | ±0.0 pp |');
	expect(md).toContain('| Expected ↓ · answered → | `EUR` | `USD` | `CHF` | `invalid` |');
	expect(md).toContain('| `EUR` | **1** | 1 | 0 | 0 |');
	expect(md).toContain('| `CHF` | 0 | 0 | 0 | 1 |');
});

test('html: one self-contained SVG matrix chart per classification field', () => {
	const html = renderHtml(bundle());
	expect(html).toContain('<h2>Per-class metrics</h2>');
	expect(html).toContain('aria-label="Confusion matrix of the answer"');
	expect(html).toContain('<title>expected CHF, answered invalid: 1</title>');
	expect(html).not.toMatch(/<script|<link|<img|src=|href=|url\(/i);
	// A numeric output has no class section.
	const numeric = renderHtml(buildBundle({ run: runOf('r', [result('x', 'default', true, { expected: 3, actual: 3 })]), runSpec: spec({ output: { type: 'number' } }) }));
	expect(numeric).not.toContain('Per-class metrics');
});

const CHROMIUM = '/usr/bin/chromium';
(existsSync(CHROMIUM) || process.env.PROMPT_RELEASE_REQUIRE_BROWSER === '1' ? test : test.skip)(
	'the matrix chart renders in headless chromium with its counts',
	async () => {
		const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-classes-'));
		try {
			const file = path.join(dir, 'report.html');
			await fs.writeFile(file, renderHtml(bundle()));
			const stdout = await new Promise<string>((resolve, reject) => {
				const child = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage', `--user-data-dir=${path.join(dir, 'profile')}`, '--dump-dom', `file://${file}`], { stdio: ['ignore', 'pipe', 'ignore'] });
				let out = '';
				child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
				child.on('error', reject);
				child.on('close', () => resolve(out));
			});
			expect(stdout).toContain('aria-label="Confusion matrix of the answer"');
			expect(stdout).toContain('answered →');
			expect(stdout).toMatch(/<td class="n">66\.7%<\/td>/);
		} finally {
			await fs.rm(dir, { recursive: true, force: true });
		}
	},
	60_000,
);
