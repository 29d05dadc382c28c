/**
 * The HTML pages laid out in real headless Chromium at common window widths: no table runs off the page.
 * The metrics overview's summary (ten columns) fits a 1000 px window, and in a narrower one it scrolls
 * sideways inside its container instead of cutting off the Pending reviews column.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MetricsReport, PromptMetrics } from '../../lib/metrics/collect';
import { renderMetricsHtml } from '../../lib/metrics/html';
import { buildBundle, renderHtml } from '../../lib/report';
import { browserTests, measureLayout, type PageLayout } from './browser';
import { scenario } from './helpers';

/** A busy prompt: long id, a forced production version, outcomes of two arms, many pending reviews. */
function busy(id: string): PromptMetrics {
	return {
		id,
		description: 'Does the supplier email announce a price change we pay?',
		production: { version: 12, since: '2026-11-01T00:00:00.000Z', forced: true },
		evals: { runs: 14, meanPassRate: 0.912, draftRuns: 6, latest: { runId: '20261124T090000000Z-cccccc', version: 12, passRate: 0.875, at: '2026-11-24T09:00:00.000Z', regressions: 1 } },
		changes: { releases: 3, canaries: 2, promotions: 1, rollbacks: 1, freezes: 1, approvals: 2, forced: 1 },
		incidents: { forced: [], regressionRuns: [] },
		periods: [{ period: '2026-11-09', runs: 12, meanPassRate: 0.75, regressionRuns: 1, releases: 1, forced: 1, rollbacks: 1, freezes: 0 }],
		outcomes: [
			{ source: 'canary', version: 11, arm: 'stable', items: 12345, invalid: 120, corrected: 31, invalidRate: 0.0097, correctionRate: 0.0025 },
			{ source: 'canary', version: 12, arm: 'canary', items: 3210, invalid: 90, corrected: 40, invalidRate: 0.028, correctionRate: 0.0125 },
		],
		pendingReviews: 1234,
	};
}

const overview: MetricsReport = {
	generatedAt: '2026-11-30T00:00:00.000Z',
	since: '2026-10-31T00:00:00.000Z',
	until: '2026-11-30T00:00:00.000Z',
	period: 'week',
	reviewQueue: { present: true, note: 'pending reviews are the review cases waiting for a person now' },
	notes: [],
	prompts: [busy('supplier-price-change'), busy('invoice-total-extraction')],
};

let dir: string;
beforeAll(async () => {
	dir = await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-layout-'));
});
afterAll(async () => {
	await fs.rm(dir, { recursive: true, force: true });
});

/** The page does not scroll sideways, and every table ends inside the page or inside a container that scrolls. */
function expectNothingCutOff(layout: PageLayout): void {
	expect(layout.pageScrollWidth).toBeLessThanOrEqual(layout.viewportWidth);
	for (const t of layout.tables) {
		if (t.lastHeaderRight <= layout.viewportWidth) continue;
		expect({ header: t.lastHeader, overflowX: t.parentOverflowX }).toEqual({ header: t.lastHeader, overflowX: 'auto' });
		expect(t.parentRight).toBeLessThanOrEqual(layout.viewportWidth);
	}
}

(browserTests ? test : test.skip)(
	'metrics overview: the summary fits 1000 px with Pending reviews in view, and scrolls inside its container when narrower',
	async () => {
		const html = renderMetricsHtml(overview);
		const wide = await measureLayout(html, 1000, dir);
		expectNothingCutOff(wide);
		const summary = wide.tables[0];
		expect(summary.lastHeader).toBe('Pending reviews');
		expect(summary.lastHeaderRight).toBeLessThanOrEqual(wide.viewportWidth);

		const narrow = await measureLayout(html, 640, dir);
		expectNothingCutOff(narrow);
		expect(narrow.tables[0].lastHeaderRight).toBeGreaterThan(narrow.viewportWidth); // too wide to fit: it scrolls
		expect(narrow.tables[0].parentOverflowX).toBe('auto');
	},
	60_000,
);

(browserTests ? test : test.skip)(
	'evaluation report: nothing runs off the page at 1000 px',
	async () => {
		const { baseline, run } = scenario();
		expectNothingCutOff(await measureLayout(renderHtml(buildBundle({ run, baseline })), 1000, dir));
	},
	60_000,
);
