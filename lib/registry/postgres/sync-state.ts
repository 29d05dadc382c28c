/**
 * What publish and pull need beyond the RegistryStore seam: per fixture, the body git and the database last agreed
 * on (`fixtures.synced_hash`, `fixtures.synced_body`), so each side's changes since then can be told apart, and a
 * conflict someone resolved in git (git's file holds every production change) can be recognised.
 */
import { canonicalJson, sha256 } from '../../hash';
import type { Fixture } from '../../types';
import type { PostgresRegistryStore } from './store';

/** The identity of a fixture's content: sha256 of its canonical JSON (undefined values dropped). */
export function fixtureHash(fixture: Fixture): string {
	return sha256(canonicalJson(JSON.parse(JSON.stringify(fixture))));
}

export interface FixtureSyncState {
	fixture: Fixture;
	hash: string;
	/** The hash at the last publish or pull; undefined when the fixture was created in the database (a correction). */
	syncedHash?: string;
	/** The body at the last publish or pull (undefined for rows synced before it was kept). */
	syncedBody?: Fixture;
	/** md5 of the row's stored JSON as read: conditional updates apply only if the row is still the same. */
	rowKey: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
	return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/**
 * Does `git` hold every change production made to `base` (field by field, nested objects key by key)? Then git's
 * file is a resolution: what both sides last agreed on, plus production's edits, plus git's own edits.
 */
export function holdsProductionEdits(base: unknown, git: unknown, production: unknown): boolean {
	if (same(production, base) || same(git, production)) return true;
	if (!isPlainObject(base) || !isPlainObject(git) || !isPlainObject(production)) return false;
	const keys = new Set([...Object.keys(base), ...Object.keys(git), ...Object.keys(production)]);
	return [...keys].every((k) => holdsProductionEdits(base[k], git[k], production[k]));
}

/** The fixture changed in production since the last sync, and `git` resolves that (holds every production edit). */
export function resolvesConflict(state: FixtureSyncState, git: Fixture): boolean {
	return state.syncedBody !== undefined && holdsProductionEdits(state.syncedBody, JSON.parse(JSON.stringify(git)), state.fixture);
}

/** Every fixture of a prompt in the database (validated), with its sync state. */
export async function fixtureSyncStates(store: PostgresRegistryStore, promptId: string): Promise<Map<string, FixtureSyncState>> {
	const fixtures = await store.listFixtures(promptId);
	const rows = await store.query<{ fixture_id: string; synced_hash: string | null; synced_body: Fixture | null; row_key: string }>(
		`SELECT fixture_id, synced_hash, synced_body, md5(body::text) AS row_key FROM {s}.fixtures WHERE prompt_id = $1`,
		[promptId],
	);
	const byId = new Map(rows.map((r) => [r.fixture_id, r]));
	return new Map(
		fixtures.map((f) => {
			const row = byId.get(f.id);
			return [f.id, { fixture: f, hash: fixtureHash(f), syncedHash: row?.synced_hash ?? undefined, syncedBody: row?.synced_body ?? undefined, rowKey: row?.row_key ?? '' }];
		}),
	);
}

/**
 * Write a fixture from git and record it as agreed. With `current` (the row as read), only if the row is
 * still unchanged (a correction written meanwhile wins); without, only if there is no row yet.
 * Returns false when skipped for that reason.
 */
export async function publishFixture(store: PostgresRegistryStore, promptId: string, fixture: Fixture, current?: FixtureSyncState): Promise<boolean> {
	const body = JSON.parse(JSON.stringify(fixture)) as Fixture;
	const hash = fixtureHash(body);
	if (!current) {
		const rows = await store.query(
			`INSERT INTO {s}.fixtures (prompt_id, fixture_id, body, inputs_key, synced_hash, synced_body) VALUES ($1, $2, $3, md5(($3::jsonb -> 'inputs')::text), $4, $3)
			 ON CONFLICT DO NOTHING RETURNING 1`,
			[promptId, body.id, body, hash],
		);
		return rows.length === 1;
	}
	const rows = await store.query(
		`UPDATE {s}.fixtures SET body = $3, inputs_key = md5(($3::jsonb -> 'inputs')::text), synced_hash = $4, synced_body = $3, updated_at = now()
		 WHERE prompt_id = $1 AND fixture_id = $2 AND md5(body::text) = $5 RETURNING 1`,
		[promptId, body.id, body, hash, current.rowKey],
	);
	return rows.length === 1;
}

/** Record that git now holds the row as read (after pull wrote it, or when both already agree), unless the row changed meanwhile. */
export async function markSynced(store: PostgresRegistryStore, promptId: string, state: FixtureSyncState): Promise<void> {
	await store.query(`UPDATE {s}.fixtures SET synced_hash = $3, synced_body = body WHERE prompt_id = $1 AND fixture_id = $2 AND md5(body::text) = $4`, [
		promptId,
		state.fixture.id,
		state.hash,
		state.rowKey,
	]);
}
