/**
 * The weekly overview of every prompt as one self-contained HTML file, on the evaluation report's page
 * (lib/report/page.ts): inline CSS and SVG (pass rate over time per prompt), no scripts, no network. Tables
 * sit in containers that scroll sideways, so a narrow window never cuts a column off; the summary's long
 * headers wrap so it fits a 1000 px window.
 */
import { escapeHtml as e, htmlPage, scrollingTable } from '../report/page';
import type { MetricsReport, PeriodRow, PromptMetrics } from './collect';

function pct(x: number | null | undefined): string {
	return x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
}

/** Pass rate per period as a small line chart (0–100 %), a dot per period with runs. */
function passRateChart(id: string, rows: PeriodRow[]): string {
	const points = rows.filter((r) => r.meanPassRate !== null);
	const width = 260;
	const height = 70;
	const left = 30;
	const plotW = width - left - 8;
	const plotH = 50;
	const top = 8;
	if (!points.length) return `<svg role="img" aria-label="Pass rate over time of ${e(id)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><text x="${left}" y="36">no runs in the window</text></svg>`;
	const x = (i: number): number => left + (points.length === 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
	const y = (v: number): number => top + (1 - v) * plotH;
	const parts: string[] = [];
	for (const t of [0, 0.5, 1]) {
		parts.push(`<line x1="${left}" y1="${y(t)}" x2="${left + plotW}" y2="${y(t)}" stroke="#d0d7de" stroke-dasharray="2,2"/>`);
		parts.push(`<text x="${left - 4}" y="${y(t) + 4}" text-anchor="end">${t * 100}</text>`);
	}
	if (points.length > 1) parts.push(`<polyline fill="none" stroke="#0969da" stroke-width="2" points="${points.map((p, i) => `${x(i).toFixed(1)},${y(p.meanPassRate!).toFixed(1)}`).join(' ')}"/>`);
	points.forEach((p, i) => {
		const bad = p.regressionRuns > 0 || p.forced > 0;
		parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(p.meanPassRate!).toFixed(1)}" r="3.5" fill="${bad ? '#cf222e' : '#0969da'}"><title>${e(p.period)}: ${pct(p.meanPassRate)} over ${p.runs} run(s)${p.regressionRuns ? `, ${p.regressionRuns} with regressions` : ''}${p.forced ? `, ${p.forced} forced` : ''}</title></circle>`);
	});
	return `<svg role="img" aria-label="Pass rate over time of ${e(id)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

function outcomeText(p: PromptMetrics): string {
	if (!p.outcomes.length) return '<span class="meta">not recorded</span>';
	return p.outcomes.map((o) => `v${o.version} ${o.arm}${o.source === 'served' ? ` on ${e(o.channel ?? '')} (served)` : ''}: ${pct(o.invalidRate)} invalid, ${pct(o.correctionRate)} corrected (${o.items})`).join('<br>');
}

function promptSection(p: PromptMetrics): string {
	const rows = p.periods
		.map(
			(r) =>
				`<tr><td>${e(r.period)}</td><td class="n">${r.runs}</td><td class="n">${pct(r.meanPassRate)}</td><td class="n ${r.regressionRuns ? 'bad' : ''}">${r.regressionRuns}</td><td class="n">${r.releases}</td><td class="n ${r.forced ? 'bad' : ''}">${r.forced}</td><td class="n ${r.rollbacks ? 'warn' : ''}">${r.rollbacks}</td><td class="n ${r.freezes ? 'warn' : ''}">${r.freezes}</td></tr>`,
		)
		.join('');
	const incidents = [
		...p.incidents.forced.map((f) => `<li class="bad">${e(f.at)}: ${e(f.action)} v${f.version} on <code>${e(f.channel)}</code> FORCED by ${e(f.by)}${f.reason ? ` — ${e(f.reason)}` : ''}</li>`),
		...p.incidents.regressionRuns.map((r) => `<li>${e(r.at)}: run <code>${e(r.runId)}</code> (v${r.version}) had ${r.regressions} regression(s)</li>`),
	];
	return [
		`<h2>${e(p.id)}</h2>`,
		p.description ? `<p class="meta">${e(p.description)}</p>` : '',
		`<p class="meta">Eval numbers: ${p.evals.runs} run(s) of frozen versions${p.evals.draftRuns ? `; ${p.evals.draftRuns} draft run(s) not counted (experiments)` : ''}</p>`,
		`<div class="charts"><div class="chart"><h3>Eval pass rate by period</h3>${passRateChart(p.id, p.periods)}</div></div>`,
		rows
			? scrollingTable(
					`<table><tr><th>Period</th><th class="n wrap">Runs</th><th class="n wrap">Mean pass rate</th><th class="n wrap">Runs with regressions</th><th class="n wrap">Releases</th><th class="n wrap">Forced</th><th class="n wrap">Rollbacks</th><th class="n wrap">Freezes</th></tr>${rows}</table>`,
				)
			: '<p class="meta">Nothing recorded in the window.</p>',
		incidents.length ? `<h3>Regression incidents</h3><ul>${incidents.join('')}</ul>` : '',
	].join('\n');
}

/** The overview: one summary row per prompt, then a section per prompt with its chart, periods and incidents. */
export function renderMetricsHtml(report: MetricsReport): string {
	const summary = report.prompts
		.map(
			(p) =>
				`<tr><td><code>${e(p.id)}</code></td><td>${p.production ? `v${p.production.version}${p.production.forced ? ' <span class="bad">FORCED</span>' : ''}` : '—'}</td><td class="n">${pct(p.evals.latest?.passRate)}</td><td class="n">${p.evals.runs}</td><td class="n ${p.incidents.regressionRuns.length ? 'bad' : ''}">${p.incidents.regressionRuns.length}</td><td class="n ${p.changes.forced ? 'bad' : ''}">${p.changes.forced}</td><td class="n">${p.changes.rollbacks}</td><td class="n">${p.changes.freezes}</td><td>${outcomeText(p)}</td><td class="n">${p.pendingReviews}</td></tr>`,
		)
		.join('');
	const body = [
		'<h1>Prompt operations overview</h1>',
		`<p class="meta">Window ${e(report.since)} – ${e(report.until)}, by ${e(report.period)} · ${report.prompts.length} prompt(s)</p>`,
		...[report.reviewQueue.note, ...report.notes].map((n) => `<p class="note">${e(n)}</p>`),
		scrollingTable(
			`<table><tr><th>Prompt</th><th>Production</th><th class="n wrap">Latest pass rate</th><th class="n wrap">Runs</th><th class="n wrap">Runs with regressions</th><th class="n wrap">Forced</th><th class="n wrap">Rollbacks</th><th class="n wrap">Freezes</th><th>Production invalid / corrected</th><th class="n wrap">Pending reviews</th></tr>${summary}</table>`,
		),
		...report.prompts.map(promptSection),
		`<p class="meta">prompt-release metrics · generated ${e(report.generatedAt)}</p>`,
	];
	return htmlPage(`Prompt operations overview · ${report.until.slice(0, 10)}`, body);
}
