/** The evaluation bundle as Markdown that fits a pull-request comment (GitHub-flavoured). */
import type { FieldChange } from '../diff';
import type { EvaluationBundle, FixtureRow, RateRow, RunInfo } from './bundle';
import { classesMarkdown } from './classes';
import { METRICS, metricChange, metricLabel, metricValue, oneLine, pct, pp, shown } from './format';

/** Lists longer than this fold into <details>. */
const FOLD_AFTER = 5;

/** GitHub rejects pull-request comments longer than this (characters). */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** What renderMarkdown aims for, leaving room for anything a CI step wraps around it. */
export const MARKDOWN_BUDGET = 60_000;
/** Fixture rows shown per group (regressions, fixes, still failing) before "…and N more". */
export const MAX_FIXTURE_ROWS = 25;
/** A failure reason is cut to this many characters in a table cell. */
export const MAX_REASON = 200;
const MAX_ID = 100;
const MAX_NOTE = 500;

/**
 * How much goes in. Level 0 is the normal rendering; each further level cuts more, in this order:
 * the prompt diff, then still-failing rows, then fixes, then segment/field rows, then regressions last.
 */
interface Limits {
	/** Rows shown for regressions, fixes, still failing. */
	rows: [number, number, number];
	diff: boolean;
	/** Rows of the segment and field tables; undefined: all. */
	rateRows?: number;
}

const LEVELS: Limits[] = [
	{ rows: [MAX_FIXTURE_ROWS, MAX_FIXTURE_ROWS, MAX_FIXTURE_ROWS], diff: true },
	{ rows: [MAX_FIXTURE_ROWS, MAX_FIXTURE_ROWS, MAX_FIXTURE_ROWS], diff: false },
	{ rows: [MAX_FIXTURE_ROWS, 10, 10], diff: false },
	{ rows: [MAX_FIXTURE_ROWS, 5, 0], diff: false },
	{ rows: [MAX_FIXTURE_ROWS, 0, 0], diff: false, rateRows: 25 },
	{ rows: [10, 0, 0], diff: false, rateRows: 10 },
	{ rows: [0, 0, 0], diff: false, rateRows: 0 },
];

/** Cut to `max` characters (before escaping), marking the cut with an ellipsis. */
function clip(text: string, max: number): string {
	const t = oneLine(text);
	return t.length > max ? `${t.slice(0, max - 1).trimEnd()}…` : t;
}

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

/** The command that renders everything (the HTML report has every row, reason and the diff). */
function fullReport(b: EvaluationBundle): string {
	return `\`prompt-release report ${b.promptId} ${b.run.runId} --format html --out report.html\``;
}

/** "…and N more" after a shortened table (a blank line first, or GitHub reads it as one more row). */
function more(hidden: number, what: string, b: EvaluationBundle): string[] {
	return hidden > 0 ? ['', `…and ${hidden} more ${what} — see ${fullReport(b)}`] : [];
}

function rateTable(all: RateRow[], first: string, hasBaseline: boolean, b: EvaluationBundle, max?: number): string[] {
	const rows = max === undefined ? all : all.slice(0, max);
	return [
		...table(
			hasBaseline ? [first, 'Passed', 'Pass rate', 'Baseline', 'Δ'] : [first, 'Passed', 'Pass rate'],
			rows.map((r) => {
				const base = [cell(clip(r.name, MAX_ID)), `${r.passed}/${r.total}`, pct(r.passRate)];
				return hasBaseline ? [...base, r.baselinePassRate !== undefined ? pct(r.baselinePassRate) : '—', pp(r.delta)] : base;
			}),
		),
		...more(all.length - rows.length, first === 'Segment' ? 'segments' : first === 'Tag' ? 'tags' : 'fields', b),
	];
}

function fixtureTable(all: FixtureRow[], hasBaseline: boolean, b: EvaluationBundle, max: number): string[] {
	const rows = all.slice(0, max);
	if (!rows.length) return [`${all.length} not listed here to fit a pull-request comment — see ${fullReport(b)}`];
	return [
		...table(
			hasBaseline ? ['Fixture', 'Segment', 'Expected', 'Got', 'Baseline got', 'Why'] : ['Fixture', 'Segment', 'Expected', 'Got', 'Why'],
			rows.map((r) => {
				const base = [code(clip(r.fixtureId, MAX_ID)), cell(clip(r.segment, MAX_ID)), code(shown(r.expected)), `${code(shown(r.actual))}${r.consensus ? ` (votes ${r.consensus.agreed}/${r.consensus.voters})` : ''}`];
				const why = cell(clip(r.reason ?? (r.status === 'fixed' ? 'passes now' : ''), MAX_REASON));
				return hasBaseline ? [...base, r.inBaseline ? code(shown(r.baselineActual ?? null)) : 'new', why] : [...base, why];
			}),
			false,
		),
		...more(all.length - rows.length, 'fixtures', b),
	];
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

/**
 * The bundle as a pull-request comment. Fixture lists show at most MAX_FIXTURE_ROWS rows per group and
 * reasons at most MAX_REASON characters; past MARKDOWN_BUDGET characters the prompt diff goes first, then
 * rows (regressions last), with a note saying what was cut. Always under GitHub's 65 536 characters.
 */
export function renderMarkdown(b: EvaluationBundle): string {
	let text = '';
	for (let level = 0; level < LEVELS.length; level++) {
		text = render(b, LEVELS[level], level > 0 ? cutNote(b, LEVELS[level]) : undefined);
		if (text.length <= MARKDOWN_BUDGET) return text;
	}
	// Still too long (huge notes or names): cut at a line boundary; the note at the top already says so.
	const cut = text.lastIndexOf('\n', MARKDOWN_BUDGET - 200);
	return `${text.slice(0, cut)}\n\n*(truncated to fit a pull-request comment — see ${fullReport(b)})*\n`;
}

function cutNote(b: EvaluationBundle, limits: Limits): string {
	const cut: string[] = [];
	if (!limits.diff && b.promptDiff && !b.promptDiff.same) cut.push('the prompt diff');
	const [r, f, s] = limits.rows;
	const groups: Array<[string, number, number]> = [
		['regressions', r, b.regressions.length],
		['fixes', f, b.fixes.length],
		['still failing', s, b.stillFailing.length],
	];
	const shortened = groups.filter(([, max, n]) => n > max && max < MAX_FIXTURE_ROWS).map(([name, max]) => (max === 0 ? `${name} (not listed)` : `${name} (first ${max})`));
	if (shortened.length) cut.push(`fixture lists: ${shortened.join(', ')}`);
	if (limits.rateRows !== undefined && (b.passRate.segments.length > limits.rateRows || b.passRate.fields.length > limits.rateRows)) {
		cut.push(`segment and field tables (first ${limits.rateRows} rows)`);
	}
	return `> ✂️ Shortened to fit a pull-request comment: ${cut.length ? cut.join('; ') : 'some rows'} left out. Everything is in ${fullReport(b)}.`;
}

function render(b: EvaluationBundle, limits: Limits, cutNoteLine?: string): string {
	const hasBaseline = b.baseline !== undefined;
	const o = b.passRate.overall;
	const lines: string[] = [];
	const verdict = b.regressions.length ? `❌ ${b.regressions.length} regression${b.regressions.length === 1 ? '' : 's'}` : o.passed === o.total ? '✅ all fixtures pass' : `⚠️ ${o.total - o.passed} failing`;
	lines.push(`### Evaluation: \`${b.promptId}\` — ${verdict}`, '');
	lines.push(`**Run:** ${runLabel(b.run)}${b.run.repeat > 1 ? ` · each fixture ×${b.run.repeat}` : ''}  `);
	lines.push(hasBaseline ? `**Baseline:** ${runLabel(b.baseline!)}` : '**Baseline:** none', '');
	for (const n of b.notes) lines.push(`> ⚠️ ${cell(clip(n, MAX_NOTE))}`);
	if (b.notes.length) lines.push('');
	if (cutNoteLine) lines.push(cutNoteLine, '');

	lines.push(`**Pass rate ${pct(o.passRate)}** (${o.passed}/${o.total})${hasBaseline ? `, baseline ${o.baselinePassRate !== undefined ? pct(o.baselinePassRate) : '—'} (${pp(o.delta)})` : ''} · ` +
		`regressions **${b.regressions.length}** · fixes **${b.fixes.length}** · still failing **${b.stillFailing.length}**`, '');

	lines.push(...rateTable(b.passRate.segments, 'Segment', hasBaseline, b, limits.rateRows), '');
	if (b.passRate.fields.length > 1 || b.passRate.fields[0]?.name !== 'value') {
		lines.push(...fold('#### Accuracy per output field', rateTable(b.passRate.fields, 'Field', hasBaseline, b, limits.rateRows), b.passRate.fields.length <= FOLD_AFTER));
	} else {
		lines.push(...rateTable(b.passRate.fields, 'Field', hasBaseline, b, limits.rateRows), '');
	}

	if (b.approvals?.length) {
		lines.push(`**Approvals:** ${b.approvals.map((a) => `${cell(a.by)} for \`${cell(a.channel)}\` (${a.at})${a.reason ? ` — ${cell(clip(a.reason, MAX_REASON))}` : ''}`).join('; ')}`, '');
	}
	if (b.agreement) {
		const a = b.agreement;
		lines.push(`**Agreement (consensus) ${pct(a.overall.passRate)}** (${a.overall.passed}/${a.overall.total} fixtures)${a.overall.delta !== undefined ? `, ${pp(a.overall.delta)} vs baseline` : ''} · mean vote share ${pct(a.meanVoteShare)}`, '');
		lines.push(...rateTable(a.segments, 'Segment', hasBaseline, b, limits.rateRows).map((l, i) => (i === 0 ? l.replace('| Passed | Pass rate |', '| Agreed | Agreement |') : l)), '');
	}
	if (b.passRate.tags.length) lines.push(...rateTable(b.passRate.tags, 'Tag', hasBaseline, b, limits.rateRows), '');
	if (b.classes && limits.rateRows !== 0) lines.push(...classesMarkdown(b.classes, b.baselineClasses));

	const groups: Array<[string, FixtureRow[], number]> = [
		['Regressions (passed in the baseline, fail now)', b.regressions, limits.rows[0]],
		['Fixes (failed before, pass now)', b.fixes, limits.rows[1]],
		['Still failing', b.stillFailing, limits.rows[2]],
	];
	for (const [title, rows, max] of groups) {
		if (!rows.length) continue;
		lines.push(...fold(`#### ${title}: ${rows.length}`, fixtureTable(rows, hasBaseline, b, max), rows.length <= FOLD_AFTER));
	}

	lines.push(
		...table(
			hasBaseline ? ['Metric', 'Now', 'Baseline', 'Δ'] : ['Metric', 'Now'],
			METRICS.map((metric) => {
				const { key, unit } = metric;
				const m = b.metrics[key];
				const base = [metricLabel(metric, b.metricsPerAttempt), metricValue(m.current, unit)];
				return hasBaseline ? [...base, m.baseline !== undefined ? metricValue(m.baseline, unit) : '—', metricChange(m, unit)] : base;
			}),
		),
		'',
	);

	const d = b.promptDiff;
	if (d) {
		if (d.same) lines.push('Prompt: no differences against the baseline version.', '');
		else if (!limits.diff) lines.push(`Prompt diff against the baseline: left out to fit a pull-request comment — see ${fullReport(b)}.`, '');
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
