/** The evaluation bundle as Markdown that fits a pull-request comment (GitHub-flavoured). */
import type { FieldChange } from '../diff';
import type { EvaluationBundle, FixtureRow, RateRow, RunInfo } from './bundle';
import { METRICS, metricChange, metricValue, oneLine, pct, pp, shown } from './format';

/** Lists longer than this fold into <details>. */
const FOLD_AFTER = 5;

/** Table cells: no pipes or newlines; HTML-sensitive characters escaped. */
function cell(text: string): string {
	return oneLine(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');
}

function code(text: string): string {
	const t = cell(text);
	return t.includes('`') ? t : `\`${t}\``;
}

/** Numeric tables right-align every column but the first; text tables align left. */
function table(header: string[], rows: string[][], numeric = true): string[] {
	return [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 || !numeric ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function runLabel(r: RunInfo): string {
	const kind = r.kind === 'migrate' ? ', migration' : '';
	return `${r.version === 'draft' ? 'draft' : `v${r.version}`} · \`${r.model}\` · run \`${r.runId}\`${kind}`;
}

function rateTable(rows: RateRow[], first: string, hasBaseline: boolean): string[] {
	return table(
		hasBaseline ? [first, 'Passed', 'Pass rate', 'Baseline', 'Δ'] : [first, 'Passed', 'Pass rate'],
		rows.map((r) => {
			const base = [cell(r.name), `${r.passed}/${r.total}`, pct(r.passRate)];
			return hasBaseline ? [...base, r.baselinePassRate !== undefined ? pct(r.baselinePassRate) : '—', pp(r.delta)] : base;
		}),
	);
}

function fixtureTable(rows: FixtureRow[], hasBaseline: boolean): string[] {
	return table(
		hasBaseline ? ['Fixture', 'Segment', 'Expected', 'Got', 'Baseline got', 'Why'] : ['Fixture', 'Segment', 'Expected', 'Got', 'Why'],
		rows.map((r) => {
			const base = [code(r.fixtureId), cell(r.segment), code(shown(r.expected)), code(shown(r.actual))];
			const why = cell(r.reason ?? (r.status === 'fixed' ? 'passes now' : ''));
			return hasBaseline ? [...base, r.inBaseline ? code(shown(r.baselineActual ?? null)) : 'new', why] : [...base, why];
		}),
		false,
	);
}

function fold(summary: string, body: string[], open: boolean): string[] {
	if (open) return [summary, '', ...body, ''];
	return ['<details>', `<summary>${summary.replace(/^#+ /, '')}</summary>`, '', ...body, '', '</details>', ''];
}

function fieldValue(v: unknown): string {
	if (v === undefined) return '*(absent)*';
	return code(shown(v, 80));
}

function fieldTable(fields: FieldChange[]): string[] {
	return table(
		['Field', 'From', 'To'],
		fields.map((f) => [code(f.path), fieldValue(f.from), fieldValue(f.to)]),
		false,
	);
}

function fence(text: string): string[] {
	const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
	const ticks = '`'.repeat(longest + 1);
	return [`${ticks}diff`, text.replace(/\n$/, ''), ticks];
}

export function renderMarkdown(b: EvaluationBundle): string {
	const hasBaseline = b.baseline !== undefined;
	const o = b.passRate.overall;
	const lines: string[] = [];
	const verdict = b.regressions.length ? `❌ ${b.regressions.length} regression${b.regressions.length === 1 ? '' : 's'}` : o.passed === o.total ? '✅ all fixtures pass' : `⚠️ ${o.total - o.passed} failing`;
	lines.push(`### Evaluation: \`${b.promptId}\` — ${verdict}`, '');
	lines.push(`**Run:** ${runLabel(b.run)}${b.run.repeat > 1 ? ` · each fixture ×${b.run.repeat}` : ''}  `);
	lines.push(hasBaseline ? `**Baseline:** ${runLabel(b.baseline!)}` : '**Baseline:** none', '');
	for (const n of b.notes) lines.push(`> ⚠️ ${cell(n)}`);
	if (b.notes.length) lines.push('');

	lines.push(`**Pass rate ${pct(o.passRate)}** (${o.passed}/${o.total})${hasBaseline ? `, baseline ${o.baselinePassRate !== undefined ? pct(o.baselinePassRate) : '—'} (${pp(o.delta)})` : ''} · ` +
		`regressions **${b.regressions.length}** · fixes **${b.fixes.length}** · still failing **${b.stillFailing.length}**`, '');

	lines.push(...rateTable(b.passRate.segments, 'Segment', hasBaseline), '');
	if (b.passRate.fields.length > 1 || b.passRate.fields[0]?.name !== 'value') {
		lines.push(...fold('#### Accuracy per output field', rateTable(b.passRate.fields, 'Field', hasBaseline), b.passRate.fields.length <= FOLD_AFTER));
	} else {
		lines.push(...rateTable(b.passRate.fields, 'Field', hasBaseline), '');
	}

	const groups: Array<[string, FixtureRow[]]> = [
		['Regressions (passed in the baseline, fail now)', b.regressions],
		['Fixes (failed before, pass now)', b.fixes],
		['Still failing', b.stillFailing],
	];
	for (const [title, rows] of groups) {
		if (!rows.length) continue;
		lines.push(...fold(`#### ${title}: ${rows.length}`, fixtureTable(rows, hasBaseline), rows.length <= FOLD_AFTER));
	}

	lines.push(
		...table(
			hasBaseline ? ['Metric', 'Now', 'Baseline', 'Δ'] : ['Metric', 'Now'],
			METRICS.map(({ key, label, unit }) => {
				const m = b.metrics[key];
				const base = [label, metricValue(m.current, unit)];
				return hasBaseline ? [...base, m.baseline !== undefined ? metricValue(m.baseline, unit) : '—', metricChange(m, unit)] : base;
			}),
		),
		'',
	);

	const d = b.promptDiff;
	if (d) {
		if (d.same) lines.push('Prompt: no differences against the baseline version.', '');
		else {
			const body: string[] = [];
			if (d.fields.length) body.push(...fieldTable(d.fields), '');
			if (d.instructions) body.push(...fence(d.instructions), '');
			if (d.template) body.push(...fence(d.template), '');
			const what = [d.instructions && 'instructions', d.template && 'template', d.fields.length && `${d.fields.length} field${d.fields.length === 1 ? '' : 's'}`].filter(Boolean).join(', ');
			lines.push(...fold(`#### Prompt diff against the baseline (${what})`, body, false));
		}
	} else if (hasBaseline) {
		lines.push('Prompt diff: not available (a prompt could not be read).', '');
	}
	lines.push(`<sub>prompt-release evaluation bundle · generated ${b.generatedAt}</sub>`);
	return `${lines.join('\n')}\n`;
}
