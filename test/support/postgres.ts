/**
 * PostgreSQL for tests: the local server (127.0.0.1:5432, trust auth, user postgres). Each test file uses
 * its own schemas (unique names) and drops them afterwards. `.ci/run` checks the server answers first.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const PG_BASE = process.env.PROMPT_RELEASE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A schema name no other test file or run uses. */
export function uniqueSchema(prefix: string): string {
	return `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`.toLowerCase();
}

export function pgUrl(schema: string, extra = ''): string {
	return `${PG_BASE}?schema=${schema}${extra}`;
}

/** Run SQL on the test database with a short-lived client. */
export async function sql<R = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
	const client = new Client({ connectionString: PG_BASE });
	await client.connect();
	try {
		return (await client.query(text, params)).rows as R[];
	} finally {
		await client.end();
	}
}

export async function dropSchemas(schemas: string[]): Promise<void> {
	for (const s of schemas.splice(0)) await sql(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
}
