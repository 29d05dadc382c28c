/**
 * The issue's table, side by side, from the figures of one `npm run bench` run: one markdown row per
 * measure with its target and what this run measured (ratios, peak RSS, request counts). Parts that did
 * not run say so.
 */
import type { N8nFigure } from './n8n-extract';
import type { PromptfooFigure } from './promptfoo';
import type { RerunFigure } from './rerun';
import type { ReportRssFigure } from './report-rss';
import type { OverheadFigure, RateLimitFigure } from './throughput';

export interface BenchFigures {
	overhead?: OverheadFigure[];
	promptfoo?: PromptfooFigure;
	rerun?: RerunFigure;
	rss?: Array<{ fixtures: number; maxRssMb: number; seconds: number; exit: number | null; finished: boolean }>;
	reportRss?: ReportRssFigure[];
	corrections?: Array<{ fixtures: number; perSecond: number; lost: number; duplicated: number }>;
	n8n?: N8nFigure;
	rateLimit?: RateLimitFigure;
}

const NOT_RUN = 'not run (part not selected)';
const n = (v: number) => v.toLocaleString('en-US');
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function overheadCell(o: OverheadFigure | undefined): string {
	return o ? `**${o.ratio}×** (raw SDK loop ${n(o.rawMs)} ms, prompt-release ${n(o.projectMs)} ms)` : NOT_RUN;
}

/** The 0 ms rows: one per size measured, else the issue's two sizes marked not run. */
function zeroLatencyRows(f: BenchFigures): string[] {
	const measured = (f.overhead ?? []).filter((o) => o.latencyMs === 0);
	const list = measured.length ? measured.map((o) => [o.fixtures, o] as const) : ([[1000, undefined], [10000, undefined]] as const);
	return list.map(([size, o]) => `| same, 0 ms latency (pure overhead), ${n(size)} fixtures | ≤ 1.5× | ${overheadCell(o)} |`);
}

function promptfooCell(p: PromptfooFigure | undefined): string {
	if (!p) return NOT_RUN;
	const pr = p.promptRelease;
	const mine = `prompt-release test (CLI, start-up ${n(pr.startupMs)} ms incl.): ${pr.ratio}×, ${n(pr.wallMs)} ms, peak RSS ${pr.peakRssMb} MB, ${n(pr.requests)} requests`;
	if (!p.promptfoo) return `raw SDK loop ${n(p.rawMs)} ms; ${mine}; promptfoo skipped: ${p.skipped}`;
	const f = p.promptfoo;
	return `raw SDK loop ${n(p.rawMs)} ms; **promptfoo ${f.version}: ${f.ratio}×**, ${n(f.wallMs)} ms (start-up ${n(f.startupMs)} ms incl.), peak RSS ${f.peakRssMb} MB, ${n(f.requests)} requests, ${f.passed ?? '?'} passed / ${f.failed ?? '?'} failed; ${mine}`;
}

function n8nCell(f: N8nFigure | undefined, which: 'at16' | 'default'): string {
	if (!f) return NOT_RUN;
	if (f.skipped) return `skipped: ${f.skipped}`;
	const row = (contender: string, parallel: number | null) => f.rows.find((r) => r.contender === contender && r.parallel === parallel);
	const cell = (r: ReturnType<typeof row>) => (!r ? '—' : r.ok ? `${s(r.nodeMs ?? 0)} = ${r.vsIdeal}× ideal, ${r.requests} requests` : `failed: ${r.error}`);
	if (which === 'at16') {
		return `Extract Signal concurrency 16: **${cell(row('extractSignal', 16))}** (ideal ${s(f.idealMs)}); Information Extractor batch 16: ${cell(row('informationExtractor', 16))}`;
	}
	return `Extract Signal default options: **${cell(row('extractSignal', null))}**; Information Extractor default: ${cell(row('informationExtractor', null))}; **speed-up ${f.defaultSpeedup ?? '—'}×**`;
}

/** Markdown rows `| measure | target | measured |` for every measure of the issue's table. */
export function tableRows(f: BenchFigures): string[] {
	const rss = f.rss?.length ? f.rss.map((r) => `${r.maxRssMb} MB at ${n(r.fixtures)}${r.finished ? ` (${r.seconds} s)` : ` (killed at the time limit after ${r.seconds} s: peak so far)`}`).join('; ') : NOT_RUN;
	const report = f.reportRss?.length
		? f.reportRss.map((r) => `at ${n(r.fixtures)}: ${r.formats.map((x) => `${x.format} ${x.maxRssMb} MB${x.exit === 0 ? '' : ` (exit ${x.exit})`}`).join(', ')}`).join('; ')
		: NOT_RUN;
	const corr = f.corrections?.length ? f.corrections.map((c) => `${n(c.perSecond)}/s at ${n(c.fixtures)} fixtures, ${c.lost} lost, ${c.duplicated} duplicated`).join('; ') : NOT_RUN;
	const r = f.rerun;
	const rerun = r
		? `**${r.second.requests} requests, ${s(r.second.wallMs)}** (${n(r.second.cached ?? 0)} answers from the cache, peak RSS ${r.second.peakRssMb} MB; first run ${r.first.requests} requests, ${s(r.first.wallMs)})`
		: NOT_RUN;
	const slow = f.overhead?.find((o) => o.latencyMs === 200);
	const l = f.rateLimit;
	const limited = l
		? `**${l.sustainedPerSecond} req/s = ${(l.shareOfLimit * 100).toFixed(0)} % of the limit**, ${l.rateLimited} of ${l.requests} requests answered 429 (**${(l.share429 * 100).toFixed(2)} %**), ${l.failed} failed`
		: NOT_RUN;
	return [
		'| measure | target | measured |',
		'|---|---|---|',
		`| \`test\`, ${n(slow?.fixtures ?? 1000)} fixtures, concurrency 16, 200 ms latency, vs raw openai-SDK loop (in process) | ≤ 1.05× | ${overheadCell(slow)} |`,
		`| same, ${n(f.promptfoo?.fixtures ?? 1000)} cases, promptfoo and \`prompt-release test\` as CLIs (child processes) | side by side | ${promptfooCell(f.promptfoo)} |`,
		...zeroLatencyRows(f),
		`| rerun with prompt, model and inputs unchanged, ${n(r?.fixtures ?? 1000)} fixtures | 0 requests, ≤ 1 s | ${rerun} |`,
		`| peak RSS of \`prompt-release test\` | ≤ 300 MB at 100,000 | ${rss} |`,
		`| peak RSS of \`prompt-release report\` (md, html, json; a stored run and its baseline of that many fixtures) | ≤ 300 MB at 100,000 | ${report} |`,
		`| Record Correction, 8 processes × 125, folder registry | ≥ 1,000/s, 0 lost, flat | ${corr} |`,
		`| Extract Signal in a real n8n, ${f.n8n?.items ?? 200} items, ${f.n8n?.latencyMs ?? 200} ms latency, concurrency / batch 16 | ≤ 1.1× ideal | ${n8nCell(f.n8n, 'at16')} |`,
		`| same, default options | ≥ 3× faster than the Information Extractor's default | ${n8nCell(f.n8n, 'default')} |`,
		`| provider limited to 20 requests/s (+ tokens/min), 400 fixtures, 200 ms latency | ≥ 90 % of the limit, ≤ 5 % 429 | ${limited} |`,
	];
}
