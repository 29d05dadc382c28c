/**
 * The review queue on PostgreSQL (table `review_cases`, schema version 5; design: docs/adr/0050-review-queue.md).
 * One row per prompt and inputs. Queueing is one upsert for the whole batch: requests of the same inputs are
 * folded first (as the folder store folds its log), then each row gains their occurrences, keeps the newest
 * answer, and opens again when the newest request is later than its closing (the closing kept as `previous`).
 * Rows are written in case id order, so batches from many processes never deadlock. Closing is one
 * conditional UPDATE: of concurrent closings, the first to commit wins and the others change nothing.
 */
import { assertReviewClosing, assertReviewRequests, plainClosing, plainRequest, reviewClosingProblem, reviewRequestProblem } from '../../review/check';
import { applyRequest, reviewCaseId, type ReviewCase, type ReviewClosing, type ReviewRequest, type ReviewStatus } from '../../review/types';

/** Runs SQL with `{s}` standing for the quoted schema (the store's own `query`). */
type Query = <R extends Record<string, unknown>>(sql: string, params: unknown[]) => Promise<R[]>;

/** A `review_cases` row as read. */
export interface ReviewRow extends Record<string, unknown> {
	case_id: string;
	body: unknown;
	status: string;
	first_seen: Date;
	last_seen: Date;
	occurrences: number;
	closed: unknown;
	previous: unknown;
}

/** The fields of a ReviewCase that are columns, not part of the stored request body. */
const CASE_FIELDS = new Set(['id', 'promptId', 'firstSeen', 'lastSeen', 'occurrences', 'status', 'closed', 'previous']);

const COLUMNS = 'case_id, body, status, first_seen, last_seen, occurrences, closed, previous';

// Reopen when the newest request of the batch is later than the closing (as the folder store's time-ordered fold does).
const REOPEN = `r.status <> 'pending' AND EXCLUDED.last_seen > r.closed_at`;

const QUEUE_SQL = `
INSERT INTO {s}.review_cases AS r (prompt_id, case_id, body, status, first_seen, last_seen, occurrences)
SELECT $1, x.case_id, x.body, 'pending', x.first_seen, x.last_seen, x.occurrences
FROM jsonb_to_recordset($2::jsonb) AS x(case_id text, body jsonb, first_seen timestamptz, last_seen timestamptz, occurrences integer)
WHERE EXISTS (SELECT 1 FROM {s}.prompts WHERE prompt_id = $1)
ORDER BY x.case_id COLLATE "C"
ON CONFLICT (prompt_id, case_id) DO UPDATE SET
	occurrences = r.occurrences + EXCLUDED.occurrences,
	first_seen = LEAST(r.first_seen, EXCLUDED.first_seen),
	last_seen = GREATEST(r.last_seen, EXCLUDED.last_seen),
	body = CASE WHEN EXCLUDED.last_seen >= r.last_seen THEN EXCLUDED.body ELSE r.body END,
	status = CASE WHEN ${REOPEN} THEN 'pending' ELSE r.status END,
	previous = CASE WHEN ${REOPEN} THEN r.closed ELSE r.previous END,
	closed = CASE WHEN ${REOPEN} THEN NULL ELSE r.closed END,
	closed_at = CASE WHEN ${REOPEN} THEN NULL ELSE r.closed_at END,
	updated_at = now()
RETURNING 1`;

/**
 * The batch folded per case (the same fold as the folder store's, lib/review/types.ts applyRequest): occurrences,
 * first and last time and the newest request of each inputs, in case id order.
 */
export function foldBatch(promptId: string, requests: ReviewRequest[]): ReviewCase[] {
	const ordered = requests.map(plainRequest).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
	const cases = new Map<string, ReviewCase>();
	for (const request of ordered) {
		const id = reviewCaseId(request.inputs);
		cases.set(id, applyRequest(cases.get(id), promptId, request));
	}
	return [...cases.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Queue the requests in one statement. Resolves to false (nothing written) when the prompt does not exist. */
export async function queueReviewRows(query: Query, promptId: string, requests: ReviewRequest[]): Promise<boolean> {
	assertReviewRequests(promptId, requests);
	const rows = foldBatch(promptId, requests).map((c) => ({
		case_id: c.id,
		body: Object.fromEntries(Object.entries(c).filter(([key]) => !CASE_FIELDS.has(key))),
		first_seen: c.firstSeen,
		last_seen: c.lastSeen,
		occurrences: c.occurrences,
	}));
	const written = await query(QUEUE_SQL, [promptId, JSON.stringify(rows)]);
	return written.length > 0;
}

/** The prompt's cases, first seen first (then by id), optionally of one status. */
export function listReviewRows(query: Query, promptId: string, status?: ReviewStatus): Promise<ReviewRow[]> {
	return status
		? query<ReviewRow>(`SELECT ${COLUMNS} FROM {s}.review_cases WHERE prompt_id = $1 AND status = $2 ORDER BY first_seen, case_id COLLATE "C"`, [promptId, status])
		: query<ReviewRow>(`SELECT ${COLUMNS} FROM {s}.review_cases WHERE prompt_id = $1 ORDER BY first_seen, case_id COLLATE "C"`, [promptId]);
}

/** Cases per status (statuses without cases count 0); reads the status index only. */
export async function countReviewRows(query: Query, promptId: string): Promise<Record<ReviewStatus, number>> {
	const counts: Record<ReviewStatus, number> = { pending: 0, resolved: 0, dismissed: 0 };
	const rows = await query<{ status: ReviewStatus; n: number }>(`SELECT status, count(*)::int AS n FROM {s}.review_cases WHERE prompt_id = $1 GROUP BY status`, [promptId]);
	for (const r of rows) counts[r.status] = r.n;
	return counts;
}

/**
 * Close the case if it is pending, else leave it. The row as stored afterwards, or undefined when there is no
 * such case. Two statements on purpose: a closing that lost the race must read the winner's row, which only
 * a statement started after the winner committed sees.
 */
export async function closeReviewRow(query: Query, promptId: string, caseId: string, closing: ReviewClosing): Promise<ReviewRow | undefined> {
	assertReviewClosing(promptId, caseId, closing);
	const plain = plainClosing(closing);
	const closed = await query<ReviewRow>(
		`UPDATE {s}.review_cases SET status = $3, closed = $4::jsonb, closed_at = $5::timestamptz, updated_at = now()
		 WHERE prompt_id = $1 AND case_id = $2 AND status = 'pending' RETURNING ${COLUMNS}`,
		[promptId, caseId, plain.status, JSON.stringify(plain), plain.at],
	);
	if (closed.length) return closed[0];
	const rows = await query<ReviewRow>(`SELECT ${COLUMNS} FROM {s}.review_cases WHERE prompt_id = $1 AND case_id = $2`, [promptId, caseId]);
	return rows[0];
}

/**
 * A row as a ReviewCase, its body and closings checked (`problem` names the row in the error it throws).
 * Times come back as ISO 8601 in UTC with milliseconds.
 */
export function caseOfRow(promptId: string, row: ReviewRow, problem: (field: string, message: string) => Error): ReviewCase {
	const bodyProblem = reviewRequestProblem(row.body, false);
	if (bodyProblem) throw problem('body', bodyProblem);
	for (const field of ['closed', 'previous'] as const) {
		const p = row[field] === null || row[field] === undefined ? undefined : reviewClosingProblem(row[field]);
		if (p) throw problem(field, p);
	}
	const body = row.body as Omit<ReviewRequest, 'at'>;
	return {
		...body,
		id: row.case_id,
		promptId,
		firstSeen: row.first_seen.toISOString(),
		lastSeen: row.last_seen.toISOString(),
		occurrences: row.occurrences,
		status: row.status as ReviewStatus,
		...(row.previous ? { previous: row.previous as ReviewClosing } : {}),
		...(row.closed ? { closed: row.closed as ReviewClosing } : {}),
	};
}
