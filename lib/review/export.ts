/**
 * Review cases as files for people and tools (`prompt-release review --format csv|jsonl`):
 * - JSONL: one case per line, exactly as the store reports it (lib/review/types.ts ReviewCase).
 * - CSV (RFC 4180: comma, CRLF, fields quoted when they hold a comma, quote or line break; UTF-8): one row
 *   per case, a fixed set of columns, then one `inputs.<name>` column per input of any listed case (the
 *   column names `fixtures import` reads). Text values are written as they are; numbers, booleans, null,
 *   objects and arrays as JSON text. A cell that a spreadsheet would run as a formula (starting with
 *   `=`, `+`, `-`, `@`, tab or carriage return, and not a number) gets a leading `'`.
 */
import type { ReviewCase } from './types';

/** The fixed CSV columns, in order, and how each is read from a case. */
const COLUMNS: ReadonlyArray<readonly [string, (c: ReviewCase) => unknown]> = [
	['case_id', (c) => c.id],
	['prompt', (c) => c.promptId],
	['status', (c) => c.status],
	['kind', (c) => c.kind],
	['version', (c) => c.version],
	['reason', (c) => c.reason],
	['occurrences', (c) => c.occurrences],
	['first_seen', (c) => c.firstSeen],
	['last_seen', (c) => c.lastSeen],
	['model_output', (c) => c.modelOutput],
	['finish_reason', (c) => c.finishReason],
	['channel', (c) => c.channel],
	['arm', (c) => c.arm],
	['canary_id', (c) => c.canaryId],
	['routing_key', (c) => c.source?.routingKey],
	['workflow_id', (c) => c.source?.workflowId],
	['execution_id', (c) => c.source?.executionId],
	['node', (c) => c.source?.node],
	['closed_at', (c) => c.closed?.at],
	['closed_by', (c) => c.closed?.by],
	['fixture_id', (c) => c.closed?.fixtureId],
	['dismiss_reason', (c) => (c.closed?.status === 'dismissed' ? c.closed.reason : undefined)],
];

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** A value as cell text: '' for undefined, text as is, anything else as JSON text. */
export function cellText(value: unknown): string {
	if (value === undefined) return '';
	return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One CSV field: formula-looking text defused, then quoted when it holds a comma, quote, CR or LF (quotes doubled). */
export function csvField(text: string): string {
	const safe = /^[=+\-@\t\r]/.test(text) && !NUMBER.test(text) ? `'${text}` : text;
	return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The input names of the cases, in the order they first appear. */
function inputNames(cases: ReviewCase[]): string[] {
	const names = new Set<string>();
	for (const c of cases) for (const name of Object.keys(c.inputs)) names.add(name);
	return [...names];
}

/** The cases as CSV text (header row first, CRLF line ends, a final CRLF). */
export function reviewsCsv(cases: ReviewCase[]): string {
	const inputs = inputNames(cases);
	const header = [...COLUMNS.map(([name]) => name), ...inputs.map((name) => `inputs.${name}`)];
	const rows = cases.map((c) => [...COLUMNS.map(([, read]) => cellText(read(c))), ...inputs.map((name) => cellText(c.inputs[name]))]);
	return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

/** The case with its identifying fields first (id, prompt, status, kind, version, reason, counts, times), for JSON output people read. */
export function readableCase(c: ReviewCase): ReviewCase {
	const { id, promptId, status, kind, version, reason, occurrences, firstSeen, lastSeen, ...rest } = c;
	return { id, promptId, status, kind, version, reason, occurrences, firstSeen, lastSeen, ...rest };
}

/** The cases as JSON Lines (one case per line, LF line ends; fields ordered by `readableCase`). */
export function reviewsJsonl(cases: ReviewCase[]): string {
	return cases.map((c) => `${JSON.stringify(readableCase(c))}\n`).join('');
}
