/** Evaluation bundles: build one from a stored run, render it as Markdown, HTML or JSON. */
import { randomBytes } from 'node:crypto';
import type { EvaluationBundle } from './bundle';
import { htmlChunks, renderHtml } from './html';
import { renderMarkdown } from './markdown';

export * from './bundle';
export { renderMarkdown, GITHUB_COMMENT_LIMIT, MARKDOWN_BUDGET, MAX_FIXTURE_ROWS, MAX_REASON } from './markdown';
export { renderHtml, htmlChunks, escapeHtml } from './html';

export type ReportFormat = 'md' | 'html' | 'json';

export const REPORT_FORMATS: readonly ReportFormat[] = ['md', 'html', 'json'];

/** The bundle's lists of fixture rows: written one row at a time by `jsonChunks`. */
const ROW_LISTS = ['regressions', 'fixes', 'stillFailing', 'fixtures'] as const;

/**
 * `JSON.stringify(bundle, null, 2)` and a final newline, in pieces: everything but the fixture rows as one
 * piece, then each row as its own — the JSON of a 100,000-fixture run is written without ever being one string.
 */
export function* jsonChunks(bundle: EvaluationBundle): Generator<string> {
	// Each row list stands in the skeleton as a unique marker string, replaced by the list written row by row.
	const nonce = randomBytes(8).toString('hex');
	const marker = (list: string): string => `\u0000${nonce}:${list}`;
	const skeleton = JSON.stringify({ ...bundle, ...Object.fromEntries(ROW_LISTS.map((list) => [list, marker(list)])) }, null, 2);
	let at = 0;
	for (const list of ROW_LISTS) {
		const placeholder = JSON.stringify(marker(list));
		const i = skeleton.indexOf(placeholder, at);
		yield skeleton.slice(at, i);
		at = i + placeholder.length;
		const rows = bundle[list];
		if (!rows.length) {
			yield '[]';
			continue;
		}
		// The rows are items of an array that is a property of the top-level object: two levels deep.
		for (let r = 0; r < rows.length; r++) yield `${r === 0 ? '[\n' : ',\n'}    ${JSON.stringify(rows[r], null, 2).replace(/\n/g, '\n    ')}`;
		yield '\n  ]';
	}
	yield `${skeleton.slice(at)}\n`;
}

export function renderJson(bundle: EvaluationBundle): string {
	return [...jsonChunks(bundle)].join('');
}

export function renderBundle(bundle: EvaluationBundle, format: ReportFormat): string {
	return format === 'html' ? renderHtml(bundle) : format === 'json' ? renderJson(bundle) : renderMarkdown(bundle);
}

/** `renderBundle` in pieces to write one after the other: JSON and HTML fixture row by fixture row (Markdown is capped). */
export function bundleChunks(bundle: EvaluationBundle, format: ReportFormat): Iterable<string> {
	return format === 'json' ? jsonChunks(bundle) : format === 'html' ? htmlChunks(bundle) : [renderMarkdown(bundle)];
}

/** The format a file name implies (`.html`/`.htm`, `.json`, else Markdown). */
export function formatForFile(file: string): ReportFormat {
	if (/\.html?$/i.test(file)) return 'html';
	if (/\.json$/i.test(file)) return 'json';
	return 'md';
}
