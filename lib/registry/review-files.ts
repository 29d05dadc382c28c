/**
 * The review queue of the folder registry: an append-only event log per process under
 * `<prompt>/reviews/` (like the canary outcome log), so queueing from many n8n processes never needs a lock
 * and never loses a case. A case's state is the fold of its events in time order (docs/adr/0050-review-queue.md).
 *   {"t":"queued","request":{…},"promptId":"…"}        a node queued an item (lib/review/types.ts ReviewRequest)
 *   {"t":"closed","id":"review-…","closing":{…}}       resolved by a correction, or dismissed
 */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { applyClosing, applyRequest, reviewCaseId, type ReviewCase, type ReviewClosing, type ReviewRequest } from '../review/types';

type ReviewEvent = { t: 'queued'; request: ReviewRequest } | { t: 'closed'; id: string; closing: ReviewClosing };

const eventTime = (e: ReviewEvent): string => (e.t === 'queued' ? e.request.at : e.closing.at);

/** Append events to this process's own file in `dir` (remembered in `files`, one per directory). */
export async function appendReviewEvents(dir: string, files: Map<string, string>, events: ReviewEvent[]): Promise<void> {
	if (events.length === 0) return;
	let file = files.get(dir);
	if (!file) {
		file = path.join(dir, `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`);
		files.set(dir, file);
	}
	await fs.mkdir(dir, { recursive: true });
	// One write per call: O_APPEND keeps each call's lines together even with other processes appending.
	await fs.appendFile(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
}

/**
 * Every case of the prompt whose log is in `dir`, first seen first. A torn last line (a process that died
 * mid-append) is skipped; any other unreadable line is a ConfigError naming the file and line.
 */
export async function readReviewCases(dir: string, promptId: string, listDir: (dir: string) => Promise<string[]>): Promise<ReviewCase[]> {
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
				throw new ConfigError(`${file}:${i + 1}: not a JSON line; restore the file from a backup or delete that line`);
			}
			if (!isEvent(event)) throw new ConfigError(`${file}:${i + 1}: not a review event ("t" must be "queued" or "closed")`);
			events.push(event);
		});
	}
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

function isEvent(value: unknown): value is ReviewEvent {
	if (!value || typeof value !== 'object') return false;
	const e = value as Record<string, unknown>;
	if (e.t === 'queued') {
		const r = e.request as Record<string, unknown> | undefined;
		return !!r && typeof r === 'object' && typeof r.at === 'string' && !!r.inputs && typeof r.inputs === 'object';
	}
	if (e.t === 'closed') {
		const c = e.closing as Record<string, unknown> | undefined;
		return typeof e.id === 'string' && !!c && typeof c === 'object' && typeof c.at === 'string' && (c.status === 'resolved' || c.status === 'dismissed');
	}
	return false;
}

export type { ReviewEvent };
