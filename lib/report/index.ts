/** Evaluation bundles: build one from a stored run, render it as Markdown, HTML or JSON. */
import type { EvaluationBundle } from './bundle';
import { renderHtml } from './html';
import { renderMarkdown } from './markdown';

export * from './bundle';
export { renderMarkdown, GITHUB_COMMENT_LIMIT, MARKDOWN_BUDGET, MAX_FIXTURE_ROWS, MAX_REASON } from './markdown';
export { renderHtml, escapeHtml } from './html';

export type ReportFormat = 'md' | 'html' | 'json';

export const REPORT_FORMATS: readonly ReportFormat[] = ['md', 'html', 'json'];

export function renderJson(bundle: EvaluationBundle): string {
	return `${JSON.stringify(bundle, null, 2)}\n`;
}

export function renderBundle(bundle: EvaluationBundle, format: ReportFormat): string {
	return format === 'html' ? renderHtml(bundle) : format === 'json' ? renderJson(bundle) : renderMarkdown(bundle);
}

/** The format a file name implies (`.html`/`.htm`, `.json`, else Markdown). */
export function formatForFile(file: string): ReportFormat {
	if (/\.html?$/i.test(file)) return 'html';
	if (/\.json$/i.test(file)) return 'json';
	return 'md';
}
