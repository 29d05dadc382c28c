/**
 * The review queue: items that need a person (every invalid item a node queues, plus an optional audit
 * sample of valid ones) become pending review cases in the registry. A person answers a case with the right
 * value (Record Correction: the case is resolved and a fixture written) or dismisses it with a reason.
 * Design: docs/adr/0050-review-queue.md.
 */
import { canonicalJson, sha256 } from '../hash';
import type { Arm } from '../types';

export type ReviewStatus = 'pending' | 'resolved' | 'dismissed';
export const REVIEW_STATUSES: readonly ReviewStatus[] = ['pending', 'resolved', 'dismissed'];

/** Why a case was queued: the answer went to the invalid output, or a valid answer was drawn for the audit sample. */
export type ReviewKind = 'invalid' | 'audit';

/** Where the queued item came from (all optional; for the analyst and for tracing back to an n8n execution). */
export interface ReviewSource {
	/** The item's routing key (the audit sample is sticky per key). */
	routingKey?: string;
	workflowId?: string;
	executionId?: string;
	/** The n8n node that queued it. */
	node?: string;
	itemIndex?: number;
	/** Extract Signal's output field of the signal. */
	field?: string;
}

/** One request to queue a case (what a node knows about the item when it routes it). */
export interface ReviewRequest {
	kind: ReviewKind;
	/** The version that answered; 'draft' when a draft served the item. */
	version: number | 'draft';
	contentHash?: string;
	/** The prompt's declared inputs only (see declaredInputs): the case id is derived from them. */
	inputs: Record<string, unknown>;
	/** What the model answered: the checked value, or the raw text when it was unreadable (null when none). */
	modelOutput: unknown;
	/** Why the answer was doubted: the invalid reason ("refused: …", "no consensus", …), or "audit sample". */
	reason: string;
	finishReason?: string;
	channel?: string;
	arm?: Arm;
	canaryId?: string;
	source?: ReviewSource;
	/** When it was queued (ISO 8601). */
	at: string;
}

/** How a case was closed. */
export interface ReviewClosing {
	status: 'resolved' | 'dismissed';
	at: string;
	/** resolved: the fixture the correction wrote. */
	fixtureId?: string;
	/** dismissed: why no fixture is needed (required for dismissals). */
	reason?: string;
	/** Who closed it (OS user, n8n user or form name), when known. */
	by?: string;
}

/**
 * A case as the store reports it: the latest request for these inputs (answer, reason, version), how often
 * they were queued, and its status. Queueing inputs whose case is closed opens it again (pending), keeping
 * the earlier closing in `previous`.
 */
export interface ReviewCase extends Omit<ReviewRequest, 'at'> {
	/** `review-` + the first 16 hex digits of sha256(canonical JSON of inputs): one case per prompt and inputs. */
	id: string;
	promptId: string;
	firstSeen: string;
	lastSeen: string;
	occurrences: number;
	status: ReviewStatus;
	closed?: ReviewClosing;
	previous?: ReviewClosing;
}

/** The case id of a prompt's inputs (declared inputs only). Same digest as the correction fixture id of those inputs. */
export function reviewCaseId(inputs: Record<string, unknown>): string {
	return `review-${sha256(canonicalJson(inputs)).slice(0, 16)}`;
}

/** The case after one more request for its inputs (`existing` undefined: a new case). Pure; used by both stores' folds. */
export function applyRequest(existing: ReviewCase | undefined, promptId: string, request: ReviewRequest): ReviewCase {
	const { at, ...rest } = request;
	if (!existing) {
		return { ...rest, id: reviewCaseId(request.inputs), promptId, firstSeen: at, lastSeen: at, occurrences: 1, status: 'pending' };
	}
	const reopened = existing.status !== 'pending';
	const next: ReviewCase = {
		...rest,
		id: existing.id,
		promptId,
		firstSeen: existing.firstSeen,
		lastSeen: at > existing.lastSeen ? at : existing.lastSeen,
		occurrences: existing.occurrences + 1,
		status: 'pending',
	};
	const previous = reopened ? existing.closed : existing.previous;
	if (previous) next.previous = previous;
	return next;
}

/** The case after it was closed; a case already closed keeps its first closing. */
export function applyClosing(existing: ReviewCase, closing: ReviewClosing): ReviewCase {
	if (existing.status !== 'pending') return existing;
	return { ...existing, status: closing.status, closed: closing };
}
