/**
 * The evaluation bundle as one self-contained HTML file: inline CSS and inline SVG charts (pass rate by
 * segment, latency and cost deltas). No scripts, no fonts, no images, no links: it opens offline.
 */
import type { FieldChange } from '../diff';
import type { EvaluationBundle, FixtureRow, RateRow, RunInfo } from './bundle';
import { classesHtml } from './classes';
import { METRICS, metricChange, metricLabel, metricValue, pct, pp, shown } from './format';
import { escapeHtml, htmlPageChunks } from './page';

export { escapeHtml, REPORT_CSS } from './page';

const e = escapeHtml;

function runLine(label: string, r: RunInfo): string {
	return `<p class="meta">${label}: <strong>${r.version === 'draft' ? 'draft' : `version ${r.version}`}</strong> · <code>${e(r.model)}</code> · run <code>${e(r.runId)}</code>${r.kind === 'migrate' ? ' · migration' : ''}${r.repeat > 1 ? ` · each fixture ×${r.repeat}` : ''} · ${e(r.startedAt)}</p>`;
}

function deltaClass(delta: number | undefined, higherIsBetter: boolean): string {
	if (delta === undefined || delta === 0) return '';
	return delta > 0 === higherIsBetter ? 'ok' : 'bad';
}

function rateTable(rows: RateRow[], first: string, hasBaseline: boolean): string {
	const head = `<tr><th>${first}</th><th class="n">Passed</th><th class="n">Pass rate</th>${hasBaseline ? '<th class="n">Baseline</th><th class="n">Δ</th>' : ''}</tr>`;
	const body = rows
		.map(
			(r) =>
				`<tr><td>${e(r.name)}</td><td class="n">${r.passed}/${r.total}</td><td class="n">${pct(r.passRate)}</td>${
					hasBaseline
						? `<td class="n">${r.baselinePassRate !== undefined ? pct(r.baselinePassRate) : '—'}</td><td class="n ${deltaClass(r.delta, true)}">${pp(r.delta)}</td>`
						: ''
				}</tr>`,
		)
		.join('');
	return `<table>${head}${body}</table>`;
}

/** A table of fixture rows, one piece per row (a group can hold every fixture of a 100,000-fixture run); `open`/`close` wrap it. */
function* fixtureTable(rows: FixtureRow[], hasBaseline: boolean, open = '', close = ''): Generator<string> {
	yield `${open}<table><tr><th>Fixture</th><th>Segment</th><th>Expected</th><th>Got</th>${hasBaseline ? '<th>Baseline got</th>' : ''}<th>Why</th></tr>`;
	for (const r of rows) {
		yield `<tr><td><code>${e(r.fixtureId)}</code></td><td>${e(r.segment)}</td><td><code>${e(shown(r.expected))}</code></td><td><code>${e(shown(r.actual))}</code>${r.consensus ? ` <span class="meta">votes ${r.consensus.agreed}/${r.consensus.voters}</span>` : ''}</td>${
			hasBaseline ? `<td>${r.inBaseline ? `<code>${e(shown(r.baselineActual ?? null))}</code>` : 'new'}</td>` : ''
		}<td>${e(r.reason ?? (r.status === 'fixed' ? 'passes now' : ''))}</td></tr>`;
	}
	yield `</table>${close}`;
}

/** Horizontal bars, 0–100 %, one group per segment (or tag): now (blue) and baseline (grey). */
function passRateChart(rows: RateRow[], hasBaseline: boolean, label = 'Pass rate by segment'): string {
	const labelW = 150;
	const barW = 320;
	const barH = 12;
	const groupH = hasBaseline ? 2 * barH + 12 : barH + 10;
	const height = rows.length * groupH + 24;
	const width = labelW + barW + 70;
	const parts: string[] = [];
	rows.forEach((r, i) => {
		const y = 8 + i * groupH;
		parts.push(`<text x="${labelW - 6}" y="${y + barH - 2}" text-anchor="end">${e(r.name.length > 22 ? `${r.name.slice(0, 21)}…` : r.name)}</text>`);
		const w = Math.max(1, r.passRate * barW);
		parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="#0969da"><title>${e(r.name)} now ${pct(r.passRate)}</title></rect>`);
		parts.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + barH - 2}">${pct(r.passRate)}</text>`);
		if (hasBaseline && r.baselinePassRate !== undefined) {
			const bw = Math.max(1, r.baselinePassRate * barW);
			parts.push(`<rect x="${labelW}" y="${y + barH + 2}" width="${bw.toFixed(1)}" height="${barH}" fill="#8c959f"><title>${e(r.name)} baseline ${pct(r.baselinePassRate)}</title></rect>`);
			parts.push(`<text x="${(labelW + bw + 4).toFixed(1)}" y="${y + 2 * barH}">${pct(r.baselinePassRate)}</text>`);
		}
	});
	const axisY = height - 12;
	for (const t of [0, 0.5, 1]) {
		const x = labelW + t * barW;
		parts.push(`<line x1="${x}" y1="4" x2="${x}" y2="${axisY - 4}" stroke="#d0d7de" stroke-dasharray="2,2"/>`);
		parts.push(`<text x="${x}" y="${axisY + 8}" text-anchor="middle">${t * 100}%</text>`);
	}
	return `<svg role="img" aria-label="${e(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/** One metric, now vs baseline, as two vertical bars scaled to the larger. */
function metricChart(label: string, now: number, base: number | undefined, unit: 'ms' | 'tokens' | 'usd', change: string): string {
	const width = 170;
	const height = 160;
	const top = 34;
	const plotH = 90;
	const max = Math.max(now, base ?? 0) || 1;
	const bar = (x: number, v: number, fill: string, name: string): string => {
		const h = Math.max(1, (v / max) * plotH);
		const y = top + plotH - h;
		return `<rect x="${x}" y="${y.toFixed(1)}" width="44" height="${h.toFixed(1)}" fill="${fill}"><title>${name} ${e(metricValue(v, unit))}</title></rect><text x="${x + 22}" y="${(y - 3).toFixed(1)}" text-anchor="middle">${e(metricValue(v, unit))}</text><text x="${x + 22}" y="${top + plotH + 14}" text-anchor="middle">${name}</text>`;
	};
	const parts = [`<text x="${width / 2}" y="12" text-anchor="middle" font-weight="600">${e(label)}</text>`];
	if (base !== undefined) parts.push(bar(28, base, '#8c959f', 'baseline'));
	parts.push(bar(base !== undefined ? 98 : 63, now, '#0969da', 'now'));
	parts.push(`<text x="${width / 2}" y="${height - 6}" text-anchor="middle">${e(change)}</text>`);
	return `<svg role="img" aria-label="${e(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

function diffBlock(text: string): string {
	const lines = text.replace(/\n$/, '').split('\n');
	return `<pre class="diff">${lines
		.map((l) => {
			const cls = l.startsWith('@@') ? 'hunk' : l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : '';
			return cls ? `<span class="${cls}">${e(l)}</span>` : `${e(l)}\n`;
		})
		.join('')}</pre>`;
}

function fieldValue(v: unknown): string {
	return v === undefined ? '<em>(absent)</em>' : `<code>${e(shown(v, 200))}</code>`;
}

function fieldTable(fields: FieldChange[]): string {
	return `<table><tr><th>Field</th><th>From</th><th>To</th></tr>${fields.map((f) => `<tr><td><code>${e(f.path)}</code></td><td>${fieldValue(f.from)}</td><td>${fieldValue(f.to)}</td></tr>`).join('')}</table>`;
}

export function renderHtml(b: EvaluationBundle): string {
	return [...htmlChunks(b)].join('');
}

/** `renderHtml` in pieces (each fixture row its own), to be written one after the other. */
export function* htmlChunks(b: EvaluationBundle): Generator<string> {
	const hasBaseline = b.baseline !== undefined;
	const o = b.passRate.overall;
	/** The page's parts, joined by line breaks; a fixture table comes in pieces. */
	const body: Array<string | (() => Iterable<string>)> = [];
	body.push(`<h1>Evaluation: ${e(b.promptId)}</h1>`);
	body.push(runLine('Run', b.run));
	body.push(hasBaseline ? runLine('Baseline', b.baseline!) : '<p class="meta">Baseline: none</p>');
	for (const n of b.notes) body.push(`<p class="note">${e(n)}</p>`);

	const card = (value: string, label: string, cls = ''): string => `<div class="card"><div class="v ${cls}">${value}</div><div class="l">${label}</div></div>`;
	body.push(
		`<div class="cards">${[
			card(pct(o.passRate), `pass rate (${o.passed}/${o.total})${hasBaseline ? ` · ${pp(o.delta)} vs baseline` : ''}`, o.passed === o.total ? 'ok' : 'bad'),
			card(String(b.regressions.length), 'regressions', b.regressions.length ? 'bad' : 'ok'),
			card(String(b.fixes.length), 'fixes', b.fixes.length ? 'ok' : ''),
			card(String(b.stillFailing.length), 'still failing', b.stillFailing.length ? 'warn' : ''),
			card(metricValue(b.metrics.costUsd.current, 'usd'), `cost${b.metricsPerAttempt ? ' per attempt' : ''} · ${metricChange(b.metrics.costUsd, 'usd')}`),
		].join('')}</div>`,
	);

	body.push('<h2>Pass rate by segment</h2>');
	body.push(
		`<div class="charts"><div class="chart">${passRateChart(b.passRate.segments, hasBaseline)}<div class="legend"><span style="background:#0969da"></span>now${hasBaseline ? '<span style="background:#8c959f"></span>baseline' : ''}</div></div></div>`,
	);
	body.push(rateTable(b.passRate.segments, 'Segment', hasBaseline));
	body.push('<h2>Accuracy per output field</h2>');
	body.push(rateTable(b.passRate.fields, 'Field', hasBaseline));

	if (b.approvals?.length) {
		body.push('<h2>Approvals of this run</h2>');
		body.push(`<ul>${b.approvals.map((a) => `<li><strong>${e(a.by)}</strong> for <code>${e(a.channel)}</code> (${e(a.at)})${a.reason ? ` — ${e(a.reason)}` : ''}</li>`).join('')}</ul>`);
	}
	if (b.agreement) {
		const a = b.agreement;
		body.push('<h2>Agreement (consensus)</h2>');
		body.push(`<p>${pct(a.overall.passRate)} of fixtures reached consensus (${a.overall.passed}/${a.overall.total})${a.overall.delta !== undefined ? ` · ${pp(a.overall.delta)} vs baseline` : ''}; mean vote share ${pct(a.meanVoteShare)}. A fixture without consensus is invalid, never a lucky pass.</p>`);
		body.push(`<div class="charts"><div class="chart">${passRateChart(a.segments, hasBaseline, 'Agreement by segment')}</div></div>`);
		body.push(rateTable(a.segments, 'Segment', hasBaseline).replace('<th class="n">Passed</th><th class="n">Pass rate</th>', '<th class="n">Agreed</th><th class="n">Agreement</th>'));
	}
	if (b.passRate.tags.length) {
		body.push('<h2>Pass rate by tag (hard cases)</h2>');
		body.push(`<div class="charts"><div class="chart">${passRateChart(b.passRate.tags, hasBaseline, 'Pass rate by tag')}</div></div>`);
		body.push(rateTable(b.passRate.tags, 'Tag', hasBaseline));
	}
	const classes = classesHtml(b.classes, b.baselineClasses);
	if (classes) body.push(classes);

	body.push('<h2>Fixtures</h2>');
	const groups: Array<[string, FixtureRow[], string]> = [
		['Regressions (passed in the baseline, fail now)', b.regressions, 'bad'],
		['Fixes (failed before, pass now)', b.fixes, 'ok'],
		['Still failing', b.stillFailing, 'warn'],
	];
	for (const [title, rows, cls] of groups) {
		body.push(`<h3 class="${rows.length ? cls : ''}">${title}: ${rows.length}</h3>`);
		if (!rows.length) continue;
		body.push(() => (rows.length > 10 ? fixtureTable(rows, hasBaseline, `<details><summary>show ${rows.length}</summary>`, '</details>') : fixtureTable(rows, hasBaseline)));
	}

	body.push('<h2>Latency, tokens and cost</h2>');
	body.push(
		`<div class="charts">${[METRICS[0], METRICS[1], METRICS[4]]
			.map((metric) => ({ ...metric, label: metricLabel(metric, b.metricsPerAttempt) }))
			.map(({ key, label, unit }) => `<div class="chart">${metricChart(label, b.metrics[key].current, b.metrics[key].baseline, unit, metricChange(b.metrics[key], unit))}</div>`)
			.join('')}</div>`,
	);
	body.push(
		`<table><tr><th>Metric</th><th class="n">Now</th>${hasBaseline ? '<th class="n">Baseline</th><th class="n">Δ</th>' : ''}</tr>${METRICS.map((metric) => {
			const { key, unit } = metric;
			const m = b.metrics[key];
			return `<tr><td>${e(metricLabel(metric, b.metricsPerAttempt))}</td><td class="n">${e(metricValue(m.current, unit))}</td>${
				hasBaseline ? `<td class="n">${m.baseline !== undefined ? e(metricValue(m.baseline, unit)) : '—'}</td><td class="n ${deltaClass(m.delta, false)}">${e(metricChange(m, unit))}</td>` : ''
			}</tr>`;
		}).join('')}</table>`,
	);

	const d = b.promptDiff;
	body.push('<h2>Prompt diff against the baseline</h2>');
	if (!d) body.push(`<p class="meta">${hasBaseline ? 'Not available: a prompt could not be read.' : 'No baseline.'}</p>`);
	else if (d.same) body.push('<p>No differences.</p>');
	else {
		if (d.fields.length) body.push(fieldTable(d.fields));
		if (d.instructions) body.push(diffBlock(d.instructions));
		if (d.template) body.push(diffBlock(d.template));
	}
	body.push(`<p class="meta">prompt-release evaluation bundle · generated ${e(b.generatedAt)}</p>`);

	yield* htmlPageChunks(`Evaluation: ${b.promptId} · run ${b.run.runId}`, body);
}
