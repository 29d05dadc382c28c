/** `prompt-release metrics`: numbers from runs, history and outcome logs; the window and periods; Prometheus text; the HTML overview. */
import { collectMetrics, type MetricsReport } from '../../lib/metrics/collect';
import { servedLogId } from '../../lib/outcomes';
import { renderMetricsHtml } from '../../lib/metrics/html';
import { escapeHelp, escapeLabelValue, renderPrometheus } from '../../lib/metrics/prometheus';
import { metricsLines } from '../../lib/metrics/text';
import { parsePeriod, parseSince, periodKey } from '../../lib/metrics/window';
import type { HistoryEntry, OutcomeRecord } from '../../lib/types';
import { makeSpec, runReport, tempRegistry } from './helpers';

const NOW = new Date('2026-11-29T12:00:00.000Z');

async function registry() {
	const { store } = await tempRegistry();
	await store.writeDraft(makeSpec());
	await store.writeDraft(makeSpec({ id: 'quiet', description: 'nothing happens here' }));
	const run = (runId: string, startedAt: string, passed: boolean[], regressions: string[] = [], version: number | 'draft' = 1) => {
		const r = runReport({ runId, version, results: passed.map((p, i) => ({ fixtureId: `f${i}`, passed: p, expected: true })) });
		return { ...r, startedAt, summary: { ...r.summary, passRate: passed.filter(Boolean).length / passed.length, regressions } };
	};
	await store.writeRun(run('20260901T000000000Z-old000', '2026-09-01T00:00:00.000Z', [true, false])); // before the window
	await store.writeRun(run('20261110T090000000Z-aaaaaa', '2026-11-10T09:00:00.000Z', [true, true]));
	await store.writeRun(run('20261111T090000000Z-bbbbbb', '2026-11-11T09:00:00.000Z', [true, false], ['f1']));
	await store.writeRun(run('20261124T090000000Z-cccccc', '2026-11-24T09:00:00.000Z', [true, true, true, false]));
	// Experiments on the draft, in the window and newer than every frozen run: counted apart, in no rate, period or incident.
	await store.writeRun(run('20261112T090000000Z-draft1', '2026-11-12T09:00:00.000Z', [false, false], ['f0'], 'draft'));
	await store.writeRun(run('20261126T090000000Z-draft2', '2026-11-26T09:00:00.000Z', [false, true], [], 'draft'));
	const h = (at: string, action: HistoryEntry['action'], extra: Partial<HistoryEntry> = {}): HistoryEntry => ({ at, action, channel: 'production', version: 1, by: 'ann', ...extra });
	const history = [
		h('2026-09-02T00:00:00.000Z', 'release', { forced: true, reason: 'old' }),
		h('2026-11-10T10:00:00.000Z', 'release', { version: 2, from: 1, forced: true, reason: 'ERP deadline' }),
		h('2026-11-12T10:00:00.000Z', 'rollback', { version: 1, from: 2 }),
		h('2026-11-24T10:00:00.000Z', 'approve', { version: 3, by: 'bob', runId: '20261124T090000000Z-cccccc' }),
		h('2026-11-24T11:00:00.000Z', 'canary', { version: 3, from: 1, percent: 20, canaryId: 'canary-x' }),
		h('2026-11-25T11:00:00.000Z', 'freeze', { version: 1, from: 3, canaryId: 'canary-x', by: 'prompt-release (freeze rule)' }),
	];
	await store.updateReleases('price-change', () => ({ channels: { production: { version: 1, contentHash: 'sha256:x', since: '2026-11-12T10:00:00.000Z' } }, history }));
	const o = (at: string, arm: OutcomeRecord['arm'], version: number, outcome: OutcomeRecord['outcome']): OutcomeRecord => ({ at, arm, version, outcome });
	await store.appendOutcomes('price-change', 'canary-x', [
		o('2026-11-24T12:00:00.000Z', 'stable', 1, 'valid'),
		o('2026-11-24T12:00:01.000Z', 'stable', 1, 'valid'),
		o('2026-11-24T12:00:02.000Z', 'stable', 1, 'valid'),
		o('2026-11-24T12:00:03.000Z', 'stable', 1, 'invalid'),
		o('2026-11-24T12:00:04.000Z', 'canary', 3, 'invalid'),
		o('2026-11-24T12:00:05.000Z', 'canary', 3, 'valid'),
		o('2026-11-24T12:00:06.000Z', 'canary', 3, 'corrected'),
	]);
	// The review queue: two cases pending now (one of them queued twice), one dismissed.
	const request = (subject: string, at: string) => ({ kind: 'invalid' as const, version: 1, inputs: { subject, body: 'b' }, modelOutput: null, reason: 'refused', at });
	await store.queueReviews('price-change', [request('a', '2026-11-20T10:00:00.000Z'), request('b', '2026-11-21T10:00:00.000Z'), request('a', '2026-11-22T10:00:00.000Z'), request('c', '2026-11-23T10:00:00.000Z')]);
	const [, , c] = await store.listReviews('price-change');
	await store.closeReview('price-change', c.id, { status: 'dismissed', at: '2026-11-24T10:00:00.000Z', reason: 'not a supplier' });
	return store;
}

test('the window, periods and every number come from runs, history and outcome logs', async () => {
	const store = await registry();
	const report = await collectMetrics(store, { since: parseSince('30d', NOW), until: NOW, period: 'week' });
	const p = report.prompts.find((x) => x.id === 'price-change')!;
	expect(p.evals).toEqual({ runs: 3, meanPassRate: 0.75, latest: { runId: '20261124T090000000Z-cccccc', version: 1, passRate: 0.75, at: '2026-11-24T09:00:00.000Z', regressions: 0 }, draftRuns: 2 });
	expect(p.periods).toEqual([
		{ period: '2026-11-09', runs: 2, meanPassRate: 0.75, regressionRuns: 1, releases: 1, forced: 1, rollbacks: 1, freezes: 0 },
		{ period: '2026-11-23', runs: 1, meanPassRate: 0.75, regressionRuns: 0, releases: 0, forced: 0, rollbacks: 0, freezes: 1 },
	]);
	expect(p.changes).toEqual({ releases: 1, canaries: 1, promotions: 0, rollbacks: 1, freezes: 1, approvals: 1, forced: 1 });
	expect(p.incidents.forced).toEqual([{ at: '2026-11-10T10:00:00.000Z', action: 'release', channel: 'production', version: 2, by: 'ann', reason: 'ERP deadline' }]);
	expect(p.incidents.regressionRuns).toEqual([{ runId: '20261111T090000000Z-bbbbbb', at: '2026-11-11T09:00:00.000Z', version: 1, regressions: 1 }]);
	expect(p.outcomes).toEqual([
		{ version: 1, arm: 'stable', source: 'canary', items: 4, invalid: 1, corrected: 0, invalidRate: 0.25, correctionRate: 0 },
		{ version: 3, arm: 'canary', source: 'canary', items: 2, invalid: 1, corrected: 1, invalidRate: 0.5, correctionRate: 0.5 },
	]);
	expect(p.pendingReviews).toBe(2);
	expect(report.reviewQueue.present).toBe(true);
	const quiet = report.prompts.find((x) => x.id === 'quiet')!;
	expect(quiet).toMatchObject({ evals: { runs: 0, meanPassRate: null, draftRuns: 0 }, periods: [], outcomes: [], pendingReviews: 0 });
	// A shorter window leaves the November 10–12 events out.
	const week = await collectMetrics(store, { since: parseSince('7d', NOW), until: NOW, prompts: ['price-change'] });
	expect(week.prompts[0].changes).toMatchObject({ releases: 0, forced: 0, rollbacks: 0, freezes: 1 });
	const lines = metricsLines(report).join('\n');
	expect(lines).toContain('  eval runs 3 of frozen versions, mean pass rate 75.0%; latest 75.0% (v1, 2026-11-24T09:00:00.000Z); 2 draft run(s) not counted (experiments)\n');
	expect(lines).toContain('note: eval runs, pass rates and runs with regressions count runs of frozen versions only');
	expect(lines).toContain('FORCED release v2 on production by ann at 2026-11-10T10:00:00.000Z: "ERP deadline"');
	expect(lines).toContain('production v3 canary: 2 items, invalid 50.0%, corrected 50.0%');
	expect(lines).toContain('  pending reviews: 2\n');
	expect(lines).toContain('note: pending reviews are the review cases waiting for a person now, whatever the window');
});

test('a window that ends before it starts, or starts before 1970, is refused by the collector too', async () => {
	const { store } = await tempRegistry();
	await expect(collectMetrics(store, { since: new Date('2027-01-01T00:00:00.000Z'), until: NOW })).rejects.toThrow('the metrics window starts 2027-01-01T00:00:00.000Z, after it ends (2026-11-29T12:00:00.000Z)');
	await expect(collectMetrics(store, { since: new Date(-1), until: NOW })).rejects.toThrow('before 1970-01-01');
	await expect(collectMetrics(store, { since: new Date(Number.NaN), until: NOW })).rejects.toThrow('needs valid times');
});

test('--since and --period: durations, dates, and errors naming the option', () => {
	expect(parseSince('30d', NOW).toISOString()).toBe('2026-10-30T12:00:00.000Z');
	expect(parseSince('2w', NOW).toISOString()).toBe('2026-11-15T12:00:00.000Z');
	expect(parseSince('48h', NOW).toISOString()).toBe('2026-11-27T12:00:00.000Z');
	expect(parseSince('2026-11-01', NOW).toISOString()).toBe('2026-11-01T00:00:00.000Z');
	expect(() => parseSince('soon', NOW)).toThrow('--since "soon" is invalid');
	expect(() => parseSince('2026-02-30', NOW)).toThrow('--since "2026-02-30" is invalid');
	// Windows that cannot hold anything: a start in the future, before 1970, or so long the date leaves the calendar.
	expect(() => parseSince('2027-01-01', NOW)).toThrow('--since "2027-01-01" is in the future (now is 2026-11-29T12:00:00.000Z): give a past date such as 2026-10-30, or a duration such as 30d');
	expect(() => parseSince('2026-11-29T13:00:00Z', NOW)).toThrow('is in the future');
	expect(parseSince('2026-11-29', NOW).toISOString()).toBe('2026-11-29T00:00:00.000Z'); // today is fine
	expect(() => parseSince('1969-12-31', NOW)).toThrow('--since "1969-12-31" is before 1970-01-01: give a date from 1970-01-01 on');
	expect(() => parseSince('0001-01-01', NOW)).toThrow('is before 1970-01-01');
	expect(() => parseSince('1000000d', NOW)).toThrow('--since "1000000d" reaches back before 1970-01-01: give a shorter duration such as 30d, 12w or 48h');
	expect(() => parseSince('99999999999999999999999w', NOW)).toThrow('reaches back before 1970-01-01');
	expect(parseSince('20000d', NOW).getUTCFullYear()).toBe(1972);
	expect(() => parsePeriod('year')).toThrow('--period "year" is invalid: use day, week or month');
	expect(periodKey('2026-11-29T23:00:00.000Z', 'week')).toBe('2026-11-23');
	expect(periodKey('2026-11-29T23:00:00.000Z', 'month')).toBe('2026-11');
	expect(periodKey('2026-11-29T23:00:00.000Z', 'day')).toBe('2026-11-29');
});

/** A line-by-line check against the text exposition format: HELP and TYPE once per family, before its samples, families not interleaved, names and labels well formed, a final line feed. */
function expectValidExposition(text: string): void {
	expect(text.endsWith('\n')).toBe(true);
	const seen = new Set<string>();
	let current = '';
	for (const line of text.slice(0, -1).split('\n')) {
		const help = /^# HELP (prompt_release_[a-z_]+) (.*)$/.exec(line);
		const type = /^# TYPE (prompt_release_[a-z_]+) (gauge|counter|untyped)$/.exec(line);
		if (help) {
			expect(seen.has(help[1])).toBe(false);
			seen.add(help[1]);
			current = help[1];
			continue;
		}
		if (type) {
			expect(type[1]).toBe(current);
			continue;
		}
		const sample = /^([a-z_]+)(\{([a-z_]+="(?:[^"\\\n]|\\\\|\\"|\\n)*")(,[a-z_]+="(?:[^"\\\n]|\\\\|\\"|\\n)*")*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
		expect(sample).not.toBeNull();
		expect(sample![1]).toBe(current);
	}
}

test('Prometheus text: prefixed names, HELP/TYPE per family, escaped label values, well formed throughout', async () => {
	const report = await collectMetrics(await registry(), { since: parseSince('30d', NOW), until: NOW });
	const text = renderPrometheus(report);
	expectValidExposition(text);
	expect(text).toContain('# HELP prompt_release_eval_pass_rate Pass rate (0-1) of the newest stored test run of a frozen version in the window.\n# TYPE prompt_release_eval_pass_rate gauge\nprompt_release_eval_pass_rate{prompt="price-change",version="1"} 0.75\n');
	expect(text).toContain('prompt_release_forced_releases{prompt="price-change"} 1\n');
	expect(text).toContain('prompt_release_eval_runs{prompt="price-change"} 3\n');
	expect(text).toContain('prompt_release_eval_mean_pass_rate{prompt="price-change"} 0.75\n');
	expect(text).toContain('prompt_release_eval_draft_runs{prompt="price-change"} 2\n');
	expect(text).toContain('prompt_release_release_changes{prompt="price-change",action="canary"} 1\n');
	expect(text).toContain('prompt_release_production_invalid_rate{prompt="price-change",version="3",arm="canary"} 0.5\n');
	expect(text).toContain('# TYPE prompt_release_pending_reviews gauge\nprompt_release_pending_reviews{prompt="price-change"} 2\nprompt_release_pending_reviews{prompt="quiet"} 0\n');
	expect(text).toContain('prompt_release_metrics_window_seconds 2592000\n');
	// Samples of one family stay together even across prompts.
	const families = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
	expect(new Set(families).size).toBe(families.length);

	expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
	expect(escapeHelp('x\\y\nz "q"')).toBe('x\\\\y\\nz "q"');
	const odd: MetricsReport = { ...report, prompts: [{ ...report.prompts[1], id: 'we"ird\\id\n' }] };
	const escaped = renderPrometheus(odd);
	expectValidExposition(escaped);
	expect(escaped).toContain('prompt_release_eval_runs{prompt="we\\"ird\\\\id\\n"} 0\n');
});

test('the HTML overview is self-contained: a row per prompt, a pass-rate chart, incidents, notes', async () => {
	const html = renderMetricsHtml(await collectMetrics(await registry(), { since: parseSince('30d', NOW), until: NOW }));
	expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
	expect(html).not.toMatch(/<script|<link|<img|src=|href=|url\(|https?:\/\//i);
	expect(html).toContain('<h1>Prompt operations overview</h1>');
	expect(html).toContain('aria-label="Pass rate over time of price-change"');
	expect(html).toContain('FORCED by ann — ERP deadline');
	expect(html).toContain('v3 canary: 50.0% invalid, 50.0% corrected (2)');
	expect(html).toContain('no runs in the window');
	expect(html).toContain('Eval numbers: 3 run(s) of frozen versions; 2 draft run(s) not counted (experiments)');
	expect(html).toMatch(/<tr><td><code>price-change<\/code><\/td>.*<td class="n">2<\/td><\/tr>/);
	expect(html).toContain('pending reviews are the review cases waiting for a person now');
});

test('served logs: rates per channel and version for items served without a canary, next to the canary rows', async () => {
	const store = await registry();
	// price-change also had a "staging" channel, now gone from the pointers but named in the history.
	await store.updateReleases('price-change', (state) => ({
		...state,
		history: [...state.history, { at: '2026-11-13T10:00:00.000Z', action: 'release', channel: 'staging', version: 2, by: 'ann' }],
	}));
	const o = (at: string, version: number, outcome: OutcomeRecord['outcome']): OutcomeRecord => ({ at, arm: 'stable', version, outcome });
	await store.appendOutcomes('price-change', servedLogId('production')!, [
		o('2026-09-20T12:00:00.000Z', 1, 'invalid'), // before the window
		o('2026-11-12T12:00:00.000Z', 1, 'valid'),
		o('2026-11-12T12:00:01.000Z', 1, 'invalid'),
		o('2026-11-26T12:00:00.000Z', 1, 'valid'),
		o('2026-11-26T12:00:01.000Z', 1, 'valid'),
		o('2026-11-26T13:00:00.000Z', 1, 'corrected'),
	]);
	await store.appendOutcomes('price-change', servedLogId('staging')!, [o('2026-11-14T12:00:00.000Z', 2, 'invalid'), o('2026-11-14T12:00:01.000Z', 2, 'invalid')]);
	// A log of a channel the prompt never had is not read.
	await store.appendOutcomes('price-change', servedLogId('elsewhere')!, [o('2026-11-14T12:00:00.000Z', 9, 'valid')]);

	const report = await collectMetrics(store, { since: parseSince('30d', NOW), until: NOW, prompts: ['price-change'] });
	expect(report.prompts[0].outcomes).toEqual([
		{ version: 1, arm: 'stable', source: 'canary', items: 4, invalid: 1, corrected: 0, invalidRate: 0.25, correctionRate: 0 },
		{ version: 3, arm: 'canary', source: 'canary', items: 2, invalid: 1, corrected: 1, invalidRate: 0.5, correctionRate: 0.5 },
		{ version: 1, arm: 'stable', source: 'served', channel: 'production', items: 4, invalid: 1, corrected: 1, invalidRate: 0.25, correctionRate: 0.25 },
		{ version: 2, arm: 'stable', source: 'served', channel: 'staging', items: 2, invalid: 2, corrected: 0, invalidRate: 1, correctionRate: 0 },
	]);
	const lines = metricsLines(report).join('\n');
	expect(lines).toContain('production v3 canary: 2 items, invalid 50.0%, corrected 50.0%');
	expect(lines).toContain('production v1 stable on production (served, no canary): 4 items, invalid 25.0%, corrected 25.0%');
	expect(lines).toContain('production v2 stable on staging (served, no canary): 2 items, invalid 100.0%, corrected 0.0%');
	expect(lines).toContain('pinned versions and drafts are not channels and record none');
	const text = renderPrometheus(report);
	expectValidExposition(text);
	// Canary series keep their labels; served series add source and channel.
	expect(text).toContain('prompt_release_production_invalid_rate{prompt="price-change",version="3",arm="canary"} 0.5\n');
	expect(text).toContain('prompt_release_production_invalid_rate{prompt="price-change",version="2",arm="stable",source="served",channel="staging"} 1\n');
	expect(text).toContain('prompt_release_production_items{prompt="price-change",version="1",arm="stable",source="served",channel="production"} 4\n');
	expect(renderMetricsHtml(report)).toContain('v1 stable on production (served): 25.0% invalid, 25.0% corrected (4)');

	// Without any outcome log the text says so.
	const quiet = await collectMetrics(store, { since: parseSince('30d', NOW), until: NOW, prompts: ['quiet'] });
	expect(metricsLines(quiet).join('\n')).toContain('production: no canary or served outcome logs in the window (invalid and correction rates not recorded)');
});

test('served log ids: never a canary id, only for channel names that fit a log id', () => {
	expect(servedLogId('production')).toBe('served-production');
	expect(servedLogId('eu_west-2')).toBe('served-eu_west-2');
	expect(servedLogId('')).toBeUndefined();
	expect(servedLogId('has space')).toBeUndefined();
	expect(servedLogId('x'.repeat(94))).toBeUndefined();
	expect(servedLogId('x'.repeat(93))).toHaveLength(100);
});
