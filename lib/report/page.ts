/**
 * The page both HTML outputs share — the evaluation report (lib/report/html.ts) and the metrics overview
 * (lib/metrics/html.ts): escaping, the stylesheet and the self-contained document around a body. Inline CSS
 * only: no scripts, fonts, images or links, so a page opens offline.
 */

/** Escape text for HTML element content and attribute values (`&`, `<`, `>`, `"`, `'`). */
export function escapeHtml(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * The shared stylesheet. Tables take the page width; `.scroll` around a table lets a table wider than the
 * page scroll sideways inside it instead of running off the page; `th.wrap` lets a long header wrap.
 */
export const REPORT_CSS = `
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; --now: #0969da; --base: #8c959f; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 2px 0; } code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card .v { font-size: 22px; font-weight: 600; } .card .l { color: var(--muted); font-size: 12px; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; } th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; } td.n, th.n { text-align: right; white-space: nowrap; }
.note { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } .chart { border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
.chart h3 { font-size: 13px; margin: 0 0 4px; }
svg text { font: 11px system-ui, sans-serif; fill: #1f2328; }
pre.diff { background: #f6f8fa; padding: 8px; overflow-x: auto; font: 12px/1.4 ui-monospace, Menlo, monospace; border-radius: 6px; }
pre.diff .add { color: var(--ok); background: #dafbe1; display: block; } pre.diff .del { color: var(--bad); background: #ffebe9; display: block; }
pre.diff .hunk { color: var(--muted); display: block; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }
details summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
.scroll { overflow-x: auto; max-width: 100%; } th.wrap { white-space: normal; }
`;

/** A table inside a container that scrolls sideways when the table is wider than the page. */
export function scrollingTable(tableHtml: string): string {
	return `<div class="scroll">${tableHtml}</div>`;
}

/**
 * A whole self-contained HTML document: `title` (plain text, escaped here) and `body` (HTML, one element a
 * line) with the shared stylesheet inline.
 */
export function* htmlPageChunks(title: string, body: ReadonlyArray<string | (() => Iterable<string>)>): Generator<string> {
	yield `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
`;
	for (let i = 0; i < body.length; i++) {
		const part = body[i];
		if (i > 0) yield '\n';
		if (typeof part === 'string') yield part;
		else yield* part();
	}
	yield '\n</body>\n</html>\n';
}

/** The whole page as one string (small pages); `htmlPageChunks` for pages written in pieces. */
export function htmlPage(title: string, body: string[]): string {
	return [...htmlPageChunks(title, body)].join('');
}
