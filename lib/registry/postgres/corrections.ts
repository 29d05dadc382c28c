/**
 * Record Correction's write on PostgreSQL in one round trip (RegistryStore.recordFixtureForInputs): the
 * version guard, the lookup of the fixture covering the inputs (its derived id first, else the indexed
 * `inputs_key`) and the upsert are one statement. Concurrent corrections of the same new inputs all target
 * the derived id: ON CONFLICT makes them one fixture (last writer wins), never two, and `created` is what the
 * write did (the row was inserted, not updated), so exactly one of them reports it. An update keeps the
 * segment, note and tags of the row it updates where the correction brings none. The `resolved` CTE closes the
 * pending review case of the same inputs (case id `reviewCaseId(inputs)`, $7) with the written fixture's id,
 * in the same statement; when the guard fails nothing is written and no case is resolved.
 *
 * `recordCorrectionRows` is the same write for several corrections in one statement (./correction-batch.ts
 * groups the corrections a process sends at the same time, docs/adr/0051): each row gets exactly what the
 * one-row statement would have given it, read from the same snapshot, and the statement is one transaction.
 */
import { reviewCaseId } from '../../review/types';
import type { Fixture } from '../../types';
import type { VersionGuard } from '../store';

/** Runs SQL with `{s}` standing for the quoted schema (the store's own `query`). */
type Query = <R extends Record<string, unknown>>(sql: string, params: unknown[]) => Promise<R[]>;

const SQL = `
WITH guard AS (
	SELECT 1 FROM {s}.versions WHERE prompt_id = $1 AND version = $5 AND body ->> 'contentHash' = $6
), existing AS (
	SELECT fixture_id, body FROM {s}.fixtures
	WHERE prompt_id = $1 AND (fixture_id = $2 OR inputs_key = md5($3::jsonb::text))
	ORDER BY (fixture_id = $2) DESC, fixture_id COLLATE "C" LIMIT 1
), next AS (
	SELECT COALESCE(e.fixture_id, $2) AS fixture_id,
		jsonb_strip_nulls(jsonb_build_object('segment', e.body -> 'segment', 'note', e.body -> 'note', 'tags', e.body -> 'tags')) || $4::jsonb
			|| jsonb_build_object('id', COALESCE(e.fixture_id, $2)) AS body
	FROM (SELECT 1) one LEFT JOIN existing e ON true
	WHERE $5::int IS NULL OR EXISTS (SELECT 1 FROM guard)
), written AS (
	INSERT INTO {s}.fixtures AS f (prompt_id, fixture_id, body, inputs_key)
	SELECT $1, fixture_id, body, md5((body -> 'inputs')::text) FROM next
	ON CONFLICT (prompt_id, fixture_id) DO UPDATE SET
		body = jsonb_strip_nulls(jsonb_build_object('segment', f.body -> 'segment', 'note', f.body -> 'note', 'tags', f.body -> 'tags'))
			|| EXCLUDED.body,
		inputs_key = EXCLUDED.inputs_key, updated_at = now()
	RETURNING fixture_id, body, (xmax = 0) AS created
), resolved AS (
	UPDATE {s}.review_cases AS c SET status = 'resolved', closed = jsonb_build_object('status', 'resolved', 'at', $8::text, 'fixtureId', w.fixture_id),
		closed_at = $8::text::timestamptz, updated_at = now()
	FROM written w WHERE c.prompt_id = $1 AND c.case_id = $7 AND c.status = 'pending'
)
SELECT fixture_id, body, created FROM written`;

/** One correction as both statements take it. */
export interface CorrectionWrite {
	promptId: string;
	fixture: Fixture;
	guard: VersionGuard | undefined;
	/** `reviewCaseId(fixture.inputs)`: the pending case the write resolves (hashed once per correction; see `correctionWrite`). */
	caseId: string;
}

/** The write for a correction of `promptId`, its review case id computed from the fixture's inputs. */
export function correctionWrite(promptId: string, fixture: Fixture, guard: VersionGuard | undefined): CorrectionWrite {
	return { promptId, fixture, guard, caseId: reviewCaseId(fixture.inputs) };
}

/** What a correction wrote: undefined when its version guard failed. `body` is the stored JSON (validated by the store). */
export type CorrectionRow = { fixtureId: string; body: unknown; created: boolean } | undefined;

/** The upsert's rows: none when the guard failed. `fixtureOf` validates the stored body. */
export async function recordCorrectionRow(query: Query, { promptId, fixture, guard, caseId }: CorrectionWrite): Promise<CorrectionRow> {
	const body = JSON.parse(JSON.stringify(fixture)) as Record<string, unknown>;
	const rows = await query<{ fixture_id: string; body: unknown; created: boolean }>(SQL, [
		promptId,
		fixture.id,
		JSON.stringify(body.inputs),
		JSON.stringify(body),
		guard?.version ?? null,
		guard?.contentHash ?? null,
		caseId,
		new Date().toISOString(),
	]);
	return rows.length ? { fixtureId: rows[0].fixture_id, body: rows[0].body, created: rows[0].created } : undefined;
}

/**
 * The one-row statement for many rows, from one JSONB array parameter. Rows are written in fixture id order, so
 * two batches writing the same fixtures lock them in the same order. Two rows of one batch must not target the
 * same fixture (PostgreSQL refuses an ON CONFLICT row affected twice, SQLSTATE 21000): the batcher never puts
 * two corrections of the same inputs or fixture id in one batch, and falls back to one statement per row when
 * an existing fixture still joins two of them.
 */
const BATCH_SQL = `
WITH input AS (
	SELECT * FROM jsonb_to_recordset($1::jsonb)
		AS r(n int, prompt_id text, fixture_id text, inputs jsonb, body jsonb, version int, content_hash text, case_id text, at text)
), next AS (
	SELECT i.n, i.prompt_id, i.case_id, i.at, COALESCE(e.fixture_id, i.fixture_id) AS fixture_id,
		jsonb_strip_nulls(jsonb_build_object('segment', e.body -> 'segment', 'note', e.body -> 'note', 'tags', e.body -> 'tags')) || i.body
			|| jsonb_build_object('id', COALESCE(e.fixture_id, i.fixture_id)) AS body
	FROM input i LEFT JOIN LATERAL (
		SELECT f.fixture_id, f.body FROM {s}.fixtures f
		WHERE f.prompt_id = i.prompt_id AND (f.fixture_id = i.fixture_id OR f.inputs_key = md5(i.inputs::text))
		ORDER BY (f.fixture_id = i.fixture_id) DESC, f.fixture_id COLLATE "C" LIMIT 1
	) e ON true
	WHERE i.version IS NULL OR EXISTS (
		SELECT 1 FROM {s}.versions v WHERE v.prompt_id = i.prompt_id AND v.version = i.version AND v.body ->> 'contentHash' = i.content_hash
	)
), written AS (
	INSERT INTO {s}.fixtures AS f (prompt_id, fixture_id, body, inputs_key)
	SELECT prompt_id, fixture_id, body, md5((body -> 'inputs')::text) FROM next ORDER BY prompt_id COLLATE "C", fixture_id COLLATE "C"
	ON CONFLICT (prompt_id, fixture_id) DO UPDATE SET
		body = jsonb_strip_nulls(jsonb_build_object('segment', f.body -> 'segment', 'note', f.body -> 'note', 'tags', f.body -> 'tags'))
			|| EXCLUDED.body,
		inputs_key = EXCLUDED.inputs_key, updated_at = now()
	RETURNING prompt_id, fixture_id, body, (xmax = 0) AS created
), resolved AS (
	UPDATE {s}.review_cases AS c SET status = 'resolved', closed = jsonb_build_object('status', 'resolved', 'at', x.at, 'fixtureId', w.fixture_id),
		closed_at = x.at::timestamptz, updated_at = now()
	FROM written w JOIN next x ON x.prompt_id = w.prompt_id AND x.fixture_id = w.fixture_id
	WHERE c.prompt_id = w.prompt_id AND c.case_id = x.case_id AND c.status = 'pending'
)
SELECT x.n, w.fixture_id, w.body, w.created FROM written w JOIN next x ON x.prompt_id = w.prompt_id AND x.fixture_id = w.fixture_id`;

/**
 * Several corrections in one statement; result i belongs to `writes[i]` (undefined: its guard failed, nothing
 * written for it). Throws the database error when the statement fails: then nothing of the batch was written.
 */
export async function recordCorrectionRows(query: Query, writes: CorrectionWrite[]): Promise<CorrectionRow[]> {
	const at = new Date().toISOString();
	const rows = writes.map(({ promptId, fixture, guard, caseId }, n) => {
		const body = JSON.parse(JSON.stringify(fixture)) as Record<string, unknown>;
		return {
			n,
			prompt_id: promptId,
			fixture_id: fixture.id,
			inputs: body.inputs,
			body,
			version: guard?.version ?? null,
			content_hash: guard?.contentHash ?? null,
			case_id: caseId,
			at,
		};
	});
	const out = await query<{ n: number; fixture_id: string; body: unknown; created: boolean }>(BATCH_SQL, [JSON.stringify(rows)]);
	const results: CorrectionRow[] = writes.map(() => undefined);
	for (const row of out) results[row.n] = { fixtureId: row.fixture_id, body: row.body, created: row.created };
	return results;
}
