/**
 * Record Correction's write on PostgreSQL in one round trip (RegistryStore.recordFixtureForInputs): the
 * version guard, the lookup of the fixture covering the inputs (its derived id first, else the indexed
 * `inputs_key`) and the upsert are one statement. Concurrent corrections of the same new inputs all target
 * the derived id: ON CONFLICT makes them one fixture (last writer wins), never two, and `created` is what the
 * write did (the row was inserted, not updated), so exactly one of them reports it. An update keeps the
 * segment, note and tags of the row it updates where the correction brings none. The `resolved` CTE closes the
 * pending review case of the same inputs (case id `reviewCaseId(inputs)`, $7) with the written fixture's id,
 * in the same statement; when the guard fails nothing is written and no case is resolved.
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

/** The upsert's rows: none when the guard failed. `fixtureOf` validates the stored body. */
export async function recordCorrectionRow(
	query: Query,
	promptId: string,
	fixture: Fixture,
	guard: VersionGuard | undefined,
): Promise<{ fixtureId: string; body: unknown; created: boolean } | undefined> {
	const body = JSON.parse(JSON.stringify(fixture)) as Record<string, unknown>;
	const rows = await query<{ fixture_id: string; body: unknown; created: boolean }>(SQL, [
		promptId,
		fixture.id,
		JSON.stringify(body.inputs),
		JSON.stringify(body),
		guard?.version ?? null,
		guard?.contentHash ?? null,
		reviewCaseId(fixture.inputs),
		new Date().toISOString(),
	]);
	return rows.length ? { fixtureId: rows[0].fixture_id, body: rows[0].body, created: rows[0].created } : undefined;
}
