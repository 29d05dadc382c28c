/**
 * Checks of review requests and closings, shared by both stores: what a node queues and what a person's
 * closing carries is checked before it is stored, and what a store reads back is checked the same way, so a
 * bad case fails with the field that is wrong instead of surfacing later as a broken listing.
 */
import { InputError } from '../errors';
import type { ReviewClosing, ReviewRequest } from './types';

/** UTC with milliseconds, as Date.prototype.toISOString writes it: such times order correctly as text. */
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Whether `value` is a time as the stores keep them: ISO 8601 in UTC with milliseconds
 * (`2026-11-29T10:00:00.000Z`, what `new Date().toISOString()` gives), so text order is time order.
 */
export function isIsoTime(value: unknown): value is string {
	return typeof value === 'string' && ISO_TIME.test(value) && Number.isFinite(Date.parse(value));
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function optionalString(r: Record<string, unknown>, field: string): string | undefined {
	return r[field] === undefined || typeof r[field] === 'string' ? undefined : `field "${field}" must be text`;
}

/**
 * What is wrong with a review request (`at` required) or with a stored case body (`withTime` false: the
 * request without `at`), as `field "x" …`; undefined when it is well formed.
 */
export function reviewRequestProblem(value: unknown, withTime = true): string | undefined {
	if (!isObject(value)) return 'a review request must be an object';
	if (value.kind !== 'invalid' && value.kind !== 'audit') return `field "kind" must be "invalid" or "audit" (got ${JSON.stringify(value.kind)})`;
	const v = value.version;
	if (v !== 'draft' && !(typeof v === 'number' && Number.isInteger(v) && v > 0)) return `field "version" must be a version number or "draft" (got ${JSON.stringify(v)})`;
	if (!isObject(value.inputs)) return 'field "inputs" must be an object of the prompt\'s declared inputs';
	if (typeof value.reason !== 'string') return 'field "reason" must be text (why the answer was doubted)';
	if (withTime && !isIsoTime(value.at)) return `field "at" must be an ISO 8601 UTC time with milliseconds such as 2026-11-29T10:00:00.000Z (new Date().toISOString()), got ${JSON.stringify(value.at)}`;
	for (const field of ['contentHash', 'finishReason', 'channel', 'canaryId']) {
		const problem = optionalString(value, field);
		if (problem) return problem;
	}
	if (value.arm !== undefined && value.arm !== 'stable' && value.arm !== 'canary') return `field "arm" must be "stable" or "canary" (got ${JSON.stringify(value.arm)})`;
	if (value.source !== undefined && !isObject(value.source)) return 'field "source" must be an object';
	return undefined;
}

/** What is wrong with a closing (`field "x" …`), or undefined. Dismissals need a reason; resolutions name their fixture when known. */
export function reviewClosingProblem(value: unknown): string | undefined {
	if (!isObject(value)) return 'a closing must be an object';
	if (value.status !== 'resolved' && value.status !== 'dismissed') return `field "status" must be "resolved" or "dismissed" (got ${JSON.stringify(value.status)})`;
	if (!isIsoTime(value.at)) return `field "at" must be an ISO 8601 UTC time with milliseconds such as 2026-11-29T10:00:00.000Z (new Date().toISOString()), got ${JSON.stringify(value.at)}`;
	if (value.status === 'dismissed' && (typeof value.reason !== 'string' || !value.reason.trim())) return 'field "reason" is required to dismiss a case: say why no fixture is needed';
	for (const field of ['fixtureId', 'reason', 'by']) {
		const problem = optionalString(value, field);
		if (problem) return problem;
	}
	return undefined;
}

/** The request as stored: undefined values dropped (JSON), so both stores keep the same fields. */
export function plainRequest(request: ReviewRequest): ReviewRequest {
	return JSON.parse(JSON.stringify(request)) as ReviewRequest;
}

/** The closing as stored (undefined values dropped). */
export function plainClosing(closing: ReviewClosing): ReviewClosing {
	return JSON.parse(JSON.stringify(closing)) as ReviewClosing;
}

/** Check a batch before anything of it is stored, naming the first bad request by its position. Throws InputError. */
export function assertReviewRequests(promptId: string, requests: ReviewRequest[]): void {
	requests.forEach((request, i) => {
		const problem = reviewRequestProblem(request);
		if (problem) throw new InputError(`review request ${i + 1} of ${requests.length} for "${promptId}": ${problem}; nothing was queued`);
	});
}

/** Check a closing before it is stored. Throws InputError naming the case. */
export function assertReviewClosing(promptId: string, caseId: string, closing: ReviewClosing): void {
	const problem = reviewClosingProblem(closing);
	if (problem) throw new InputError(`closing of review case "${caseId}" of "${promptId}": ${problem}`);
}
