/**
 * How channel changes reach every process: `updateReleases` sends `pg_notify(RELEASES_CHANNEL, payload)` in
 * the transaction that changes the pointers, so PostgreSQL delivers it to every listener on commit (and
 * never on rollback). See https://www.postgresql.org/docs/15/sql-notify.html.
 */
import type { PoolClient } from 'pg';

/** The one notification channel of all registry schemas of a database; the payload names the schema. */
export const RELEASES_CHANNEL = 'prompt_release_releases';

/** What a notification carries: which schema and prompt changed (JSON, well under the 8000-byte payload limit). */
export interface ReleaseChange {
	schema: string;
	promptId: string;
}

export async function notifyReleaseChange(client: PoolClient, schema: string, promptId: string): Promise<void> {
	const payload: ReleaseChange = { schema, promptId };
	await client.query('SELECT pg_notify($1, $2)', [RELEASES_CHANNEL, JSON.stringify(payload)]);
}

/** The change a payload describes, or undefined for a payload this version does not understand. */
export function parseReleaseChange(payload: string | undefined): ReleaseChange | undefined {
	try {
		const v = JSON.parse(payload ?? '') as Partial<ReleaseChange>;
		return typeof v.schema === 'string' && typeof v.promptId === 'string' ? { schema: v.schema, promptId: v.promptId } : undefined;
	} catch {
		return undefined;
	}
}
