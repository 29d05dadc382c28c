/**
 * The PostgreSQL registry schema, created and upgraded by numbered migrations recorded in
 * `<schema>.schema_migrations`. Each run takes a transaction-scoped advisory lock on the schema name,
 * so processes starting at once apply each migration exactly once; a failed migration rolls back whole.
 * Never edit a released migration: add the next number.
 */
import type { Pool, PoolClient } from 'pg';
import { ConfigError } from '../../errors';

export interface Migration {
	version: number;
	description: string;
	/** SQL statements; `{s}` is replaced by the quoted schema name. */
	sql: string[];
}

export const MIGRATIONS: Migration[] = [
	{
		version: 1,
		description: 'registry tables: prompts, versions, fixtures, releases, runs, outcomes, policies, pricing',
		sql: [
			`CREATE TABLE {s}.prompts (prompt_id text PRIMARY KEY, draft jsonb, updated_at timestamptz NOT NULL DEFAULT now())`,
			`CREATE TABLE {s}.versions (prompt_id text NOT NULL REFERENCES {s}.prompts, version integer NOT NULL CHECK (version > 0),
				content_hash text NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (prompt_id, version))`,
			`CREATE TABLE {s}.fixtures (prompt_id text NOT NULL REFERENCES {s}.prompts, fixture_id text NOT NULL, body jsonb NOT NULL,
				updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (prompt_id, fixture_id))`,
			`CREATE TABLE {s}.releases (prompt_id text PRIMARY KEY REFERENCES {s}.prompts, state jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
			`CREATE TABLE {s}.runs (prompt_id text NOT NULL REFERENCES {s}.prompts, run_id text NOT NULL, body jsonb NOT NULL,
				created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (prompt_id, run_id))`,
			`CREATE TABLE {s}.outcomes (id bigserial PRIMARY KEY, prompt_id text NOT NULL, canary_id text NOT NULL, record jsonb NOT NULL,
				written_at timestamptz NOT NULL DEFAULT now())`,
			`CREATE INDEX outcomes_by_canary ON {s}.outcomes (prompt_id, canary_id, id)`,
			`CREATE TABLE {s}.policies (scope text PRIMARY KEY, body jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
			`CREATE TABLE {s}.pricing (id boolean PRIMARY KEY DEFAULT true CHECK (id), body jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
		],
	},
	{
		version: 2,
		description: 'fixture look-up by inputs (corrections) and the last body git and the database agreed on (publish/pull)',
		sql: [
			`ALTER TABLE {s}.fixtures ADD COLUMN inputs_key text`,
			`UPDATE {s}.fixtures SET inputs_key = md5((body->'inputs')::text)`,
			`CREATE INDEX fixtures_by_inputs ON {s}.fixtures (prompt_id, inputs_key)`,
			`ALTER TABLE {s}.fixtures ADD COLUMN synced_hash text`,
		],
	},
	{
		version: 3,
		description: 'run results as rows (run format 2: runs.body holds the summary, run_results one row per fixture result)',
		sql: [`CREATE TABLE {s}.run_results (prompt_id text NOT NULL, run_id text NOT NULL, seq integer NOT NULL, body jsonb NOT NULL, PRIMARY KEY (prompt_id, run_id, seq))`],
	},
	{
		version: 4,
		description: 'the fixture body git and the database last agreed on (publish/pull recognise a resolved conflict)',
		sql: [`ALTER TABLE {s}.fixtures ADD COLUMN synced_body jsonb`, `UPDATE {s}.fixtures SET synced_body = body WHERE synced_hash IS NOT NULL`],
	},
	{
		version: 5,
		description: 'review queue: one case per prompt and inputs, pending until a correction resolves it or a person dismisses it',
		sql: [
			// body: the latest request without its time (lib/review/types.ts ReviewRequest); closed/previous: ReviewClosing.
			`CREATE TABLE {s}.review_cases (prompt_id text NOT NULL REFERENCES {s}.prompts, case_id text NOT NULL, body jsonb NOT NULL,
				status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved', 'dismissed')),
				first_seen timestamptz NOT NULL, last_seen timestamptz NOT NULL, occurrences integer NOT NULL CHECK (occurrences > 0),
				closed jsonb, closed_at timestamptz, previous jsonb, updated_at timestamptz NOT NULL DEFAULT now(),
				PRIMARY KEY (prompt_id, case_id), CHECK ((status = 'pending') = (closed IS NULL)))`,
			// "The pending cases of a prompt, first seen first" and the counts per status read this index only.
			`CREATE INDEX review_cases_by_status ON {s}.review_cases (prompt_id, status, first_seen)`,
		],
	},
];

/** The schema version this package expects. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function quoteIdent(name: string): string {
	return `"${name.replace(/"/g, '""')}"`;
}

/** The applied schema version (0 when the schema or its migrations table does not exist yet). */
export async function schemaVersion(db: Pool | PoolClient, schema: string): Promise<number> {
	const exists = await db.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [`${quoteIdent(schema)}.schema_migrations`]);
	if (!exists.rows[0].t) return 0;
	const res = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quoteIdent(schema)}.schema_migrations`);
	return res.rows[0].v ?? 0;
}

/** "schema version N, expected M: …" when the database is not at this package's version, else undefined. */
export function versionProblem(schema: string, current: number): string | undefined {
	if (current === LATEST_VERSION) return undefined;
	if (current > LATEST_VERSION) {
		return `registry schema "${schema}" is at schema version ${current}, expected ${LATEST_VERSION}: it was upgraded by a newer prompt-release; upgrade this package`;
	}
	return `registry schema "${schema}" is at schema version ${current}, expected ${LATEST_VERSION}: run prompt-release db migrate --registry <postgres-url>`;
}

export interface MigrateResult {
	from: number;
	to: number;
	applied: Migration[];
}

/** Apply every pending migration in one transaction under an advisory lock. Throws ConfigError on failure (nothing applied). */
export async function migrate(pool: Pool, schema: string): Promise<MigrateResult> {
	const s = quoteIdent(schema);
	const client = await pool.connect();
	try {
		await client.query('BEGIN');
		await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`prompt-release:migrate:${schema}`]);
		await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
		await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
		const from = await schemaVersion(client, schema);
		if (from > LATEST_VERSION) throw new ConfigError(versionProblem(schema, from)!);
		const pending = MIGRATIONS.filter((m) => m.version > from);
		for (const m of pending) {
			for (const statement of m.sql) await client.query(statement.replaceAll('{s}', s));
			await client.query(`INSERT INTO ${s}.schema_migrations (version, description) VALUES ($1, $2)`, [m.version, m.description]);
		}
		await client.query('COMMIT');
		return { from, to: Math.max(from, LATEST_VERSION), applied: pending };
	} catch (error) {
		await client.query('ROLLBACK').catch(() => undefined);
		if (error instanceof ConfigError) throw error;
		throw new ConfigError(`could not migrate registry schema "${schema}" to schema version ${LATEST_VERSION}: ${(error as Error).message}. Run prompt-release db migrate as a user allowed to create tables in that database.`);
	} finally {
		client.release();
	}
}
