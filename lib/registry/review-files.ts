/**
 * The review queue of the folder registry: an append-only event log per process under
 * `<prompt>/reviews/` (like the canary outcome log), so queueing from many n8n processes never needs a lock
 * and never loses a case. A case's state is the fold of its events in time order (docs/adr/0050-review-queue.md).
 *   {"t":"queued","request":{…}}                       a node queued an item (lib/review/types.ts ReviewRequest)
 *   {"t":"closed","id":"review-…","closing":{…}}       resolved by a correction, or dismissed
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { appendJsonLines } from './process-logs';
import { reviewClosingProblem, reviewRequestProblem } from '../review/check';
import { applyClosing, applyRequest, reviewCaseId, type ReviewCase, type ReviewClosing, type ReviewRequest } from '../review/types';

type ReviewEvent = { t: 'queued'; request: ReviewRequest } | { t: 'closed'; id: string; closing: ReviewClosing };

const eventTime = (e: ReviewEvent): string => (e.t === 'queued' ? e.request.at : e.closing.at);

const CASE_ID = /^review-[0-9a-f]{16}$/;

/** Append events to this process's own review log file in `dir` (./process-logs.ts). */
export async function appendReviewEvents(dir: string, files: Map<string, string>, events: ReviewEvent[]): Promise<void> {
	await appendJsonLines(dir, files, events);
}

const warned = new Set<string>();

/** The default for unreadable review log lines at run time: a process warning (in the n8n log, on stderr), once per file and line. */
function warnOnce(error: ConfigError): void {
	if (warned.has(error.message)) return;
	warned.add(error.message);
	process.emitWarning(`prompt-release: review log line skipped: ${error.message} (prompt-release validate lists every such line)`);
}

/** What is wrong with a parsed line, or undefined when it is a review event. */
function eventProblem(value: unknown): string | undefined {
	if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a review event (an object with "t": "queued" or "closed")';
	const e = value as Record<string, unknown>;
	if (e.t === 'queued') {
		const problem = reviewRequestProblem(e.request);
		return problem && `queued event: ${problem.replace(/^field "/, 'field "request.')}`;
	}
	if (e.t === 'closed') {
		if (typeof e.id !== 'string' || !CASE_ID.test(e.id)) return `closed event: field "id" must be a case id (review-<16 hex digits>), got ${JSON.stringify(e.id)}`;
		const problem = reviewClosingProblem(e.closing);
		return problem && `closed event: ${problem.replace(/^field "/, 'field "closing.')}`;
	}
	return `not a review event ("t" must be "queued" or "closed", got ${JSON.stringify(e.t)})`;
}

/**
 * Every event of the logs in `dir`, file by file (sorted by name), line by line. A torn last line (a process
 * that died mid-append: no line feed after it) is skipped; every other unreadable line goes to `onProblem`
 * as a ConfigError naming the file (as `shown` renders it) and line.
 */
async function readEvents(dir: string, listDir: (dir: string) => Promise<string[]>, shown: (file: string) => string, onProblem: (error: ConfigError) => void): Promise<ReviewEvent[]> {
	const events: ReviewEvent[] = [];
	for (const name of (await listDir(dir)).filter((f) => f.endsWith('.jsonl')).sort()) {
		const file = path.join(dir, name);
		const lines = (await fs.readFile(file, 'utf8')).split('\n');
		lines.forEach((line, i) => {
			if (!line.trim()) return;
			let event: unknown;
			try {
				event = JSON.parse(line);
			} catch {
				if (i === lines.length - 1) return; // torn last line
				onProblem(new ConfigError('not a JSON line: restore the file from a backup or delete that line', { file: shown(file), line: i + 1 }));
				return;
			}
			const problem = eventProblem(event);
			if (problem) onProblem(new ConfigError(`${problem}: correct or delete that line`, { file: shown(file), line: i + 1 }));
			else events.push(event as ReviewEvent);
		});
	}
	return events;
}

/**
 * Every case of the prompt whose log is in `dir`, first seen first. A torn last line is skipped; every other
 * unreadable line is skipped too and handed to `onProblem` (a ConfigError naming file and line): one bad line
 * must not stop the queue, `status` or `metrics` of a registry — `validate` lists them as errors.
 */
export async function readReviewCases(
	dir: string,
	promptId: string,
	listDir: (dir: string) => Promise<string[]>,
	shown: (file: string) => string = (f) => f,
	onProblem: (error: ConfigError) => void = warnOnce,
): Promise<ReviewCase[]> {
	const events = await readEvents(dir, listDir, shown, onProblem);
	// Time order across processes; equal times keep file order (Array.prototype.sort is stable).
	events.sort((a, b) => (eventTime(a) < eventTime(b) ? -1 : eventTime(a) > eventTime(b) ? 1 : 0));
	const cases = new Map<string, ReviewCase>();
	for (const event of events) {
		if (event.t === 'queued') {
			const id = reviewCaseId(event.request.inputs);
			cases.set(id, applyRequest(cases.get(id), promptId, event.request));
		} else {
			const existing = cases.get(event.id);
			if (existing) cases.set(event.id, applyClosing(existing, event.closing));
		}
	}
	return [...cases.values()].sort((a, b) => (a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : a.id < b.id ? -1 : 1));
}

/** Every unreadable line of the logs in `dir` (for `prompt-release validate`), each naming file and line; empty when all read. */
export async function checkReviewLogs(dir: string, listDir: (dir: string) => Promise<string[]>, shown: (file: string) => string): Promise<ConfigError[]> {
	const problems: ConfigError[] = [];
	await readEvents(dir, listDir, shown, (error) => problems.push(error));
	return problems;
}

export type { ReviewEvent };
