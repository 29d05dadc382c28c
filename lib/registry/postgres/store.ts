/**
 * The registry in PostgreSQL, for n8n queue mode: every worker sees the same channel pointers, canary
 * outcomes and corrections. Same semantics as the file store: versions are create-only and hash-checked
 * on every read; release changes happen under a row lock in one transaction that also NOTIFYs listeners;
 * outcomes are append-only rows; fixtures are upserted by id. Contents are JSONB, validated on read by
 * the file formats' own checks (formats.ts), so a bad row fails with an error naming prompt and field.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ReviewCase, ReviewClosing, ReviewRequest, ReviewStatus } from '../../review/types';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { ConfigError, PromptReleaseError } from '../../errors';
import type { LoadedFile } from '../../yaml-io';
import { assertPromptId, checkFixture, checkPolicyFile, checkPricing, checkPromptSpec, checkReleases, checkVersionFile } from '../formats';
import type { PolicyFile, PriceTable, RegistryStore, RunWriter, VersionGuard } from '../store';
import { correctionBatcher, type CorrectionStatements } from './correction-batch';
import { correctionWrite, recordCorrectionRow, recordCorrectionRows } from './corrections';
import { caseOfRow, closeReviewRow, countReviewRows, listReviewRows, queueReviewRows, type ReviewRow } from './reviews';
import type { Fixture, FixtureResult, FrozenVersion, OutcomeRecord, PromptSpec, ReleasesState, RunHeader, RunReport } from '../../types';
import { PostgresRunWriter, readRunBody, readRunRows } from './runs';
import { streamFixtureRows } from './fixture-rows';
import { ensureSchema } from './ready';
import { isUnavailableDbError, unavailable } from '../unavailable';
import { notifyReleaseChange } from './notify';
import { poolFor } from './pool';
import { quoteIdent } from './migrations';
import { preparedStatement, type PreparedStatement } from './prepared';
import { locationOf, type PostgresSettings } from './settings';

const RUN_ID = /^[A-Za-z0-9_-]{1,100}$/;
type Db = Pool | PoolClient;

/** JSON without undefined values (as the file store writes YAML). */
function plain<T>(value: T): T {
	return JSON.parse(JSON.stringify(value)) as T;
}

export class PostgresRegistryStore implements RegistryStore {
	readonly location: string;
	readonly schema: string;
	readonly pool: Pool;
	/** The transaction client while `updateReleases` runs `mutate`, so reads inside it never wait for a second pool client. */
	private readonly tx = new AsyncLocalStorage<PoolClient>();
	private readonly s: string;

	constructor(readonly settings: PostgresSettings) {
		this.location = locationOf(settings);
		this.schema = settings.schema;
		this.s = quoteIdent(settings.schema);
		this.pool = poolFor(settings);
	}

	private async db(): Promise<Db> {
		const client = this.tx.getStore();
		if (client) return client;
		try {
			await ensureSchema(this.pool, this.settings);
		} catch (error) {
			throw this.dbError(error);
		}
		return this.pool;
	}

	/** Run SQL on the registry schema (`{s}` is its quoted name) once it is migrated; errors become ConfigErrors naming the registry. */
	async query<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
		const db = await this.db();
		try {
			return (await db.query<R>(sql.replaceAll('{s}', this.s), params)).rows;
		} catch (error) {
			throw this.dbError(error);
		}
	}

	/** Statements of the hot path, by their SQL as written: the text sent and its statement name (./prepared.ts). */
	private readonly prepared = new Map<string, PreparedStatement>();

	/**
	 * `query` as a named prepared statement: each pool connection parses and plans it once, later calls send
	 * only the parameters (./prepared.ts). For statements run many times per second (Record Correction).
	 */
	async queryPrepared<R extends QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
		let statement = this.prepared.get(sql);
		if (!statement) {
			statement = preparedStatement(sql.replaceAll('{s}', this.s));
			this.prepared.set(sql, statement);
		}
		const db = await this.db();
		try {
			return (await db.query<R>({ ...statement, values: params })).rows;
		} catch (error) {
			throw this.dbError(error);
		}
	}

	private dbError(error: unknown): Error {
		// Our own errors (a refused rollback, a bad release state) pass unchanged, as the file store throws them.
		if (error instanceof PromptReleaseError) return error;
		const e = error as Error & { code?: string };
		if (isUnavailableDbError(error)) {
			return unavailable(`PostgreSQL registry ${this.location} does not answer: ${e.message}${e.code ? ` (${e.code})` : ''}: check that the database is up and reachable`);
		}
		return new ConfigError(`PostgreSQL registry ${this.location}: ${e.message}${e.code ? ` (SQLSTATE ${e.code})` : ''}`);
	}

	/** A row as the format checks read a file: errors name the table, prompt and item. */
	private row(table: string, what: string, data: unknown): LoadedFile {
		return { file: `${this.location} ${this.schema}.${table} ${what}`, data, lineOf: () => undefined };
	}

	async listPrompts(): Promise<string[]> {
		return (await this.query<{ prompt_id: string }>(`SELECT prompt_id FROM {s}.prompts ORDER BY prompt_id COLLATE "C"`)).map((r) => r.prompt_id);
	}

	private async notFound(promptId: string): Promise<ConfigError> {
		const known = await this.listPrompts().catch(() => [] as string[]);
		return new ConfigError(
			`prompt "${promptId}" not found in registry ${this.location}${known.length ? ` (prompts: ${known.join(', ')})` : ' (it has no prompts: publish them with "prompt-release publish <folder> --to <postgres-url>")'}`,
		);
	}

	private async assertPromptExists(promptId: string): Promise<void> {
		assertPromptId(promptId);
		const rows = await this.query(`SELECT 1 FROM {s}.prompts WHERE prompt_id = $1`, [promptId]);
		if (!rows.length) throw await this.notFound(promptId);
	}

	async readDraft(promptId: string): Promise<PromptSpec> {
		assertPromptId(promptId);
		const rows = await this.query<{ draft: unknown }>(`SELECT draft FROM {s}.prompts WHERE prompt_id = $1`, [promptId]);
		if (!rows.length) throw await this.notFound(promptId);
		if (rows[0].draft === null) {
			throw new ConfigError(`prompt "${promptId}" has no draft in registry ${this.location}: publish it from git ("prompt-release publish <folder> --to <postgres-url> ${promptId}")`);
		}
		return checkPromptSpec(this.row('prompts', `prompt "${promptId}" draft`, rows[0].draft), promptId);
	}

	async writeDraft(spec: PromptSpec): Promise<void> {
		assertPromptId(spec.id);
		await this.query(
			`INSERT INTO {s}.prompts (prompt_id, draft) VALUES ($1, $2) ON CONFLICT (prompt_id) DO UPDATE SET draft = EXCLUDED.draft, updated_at = now()`,
			[spec.id, plain(spec)],
		);
	}

	private async ensurePrompt(promptId: string): Promise<void> {
		assertPromptId(promptId);
		await this.query(`INSERT INTO {s}.prompts (prompt_id) VALUES ($1) ON CONFLICT DO NOTHING`, [promptId]);
	}

	async listVersions(promptId: string): Promise<number[]> {
		assertPromptId(promptId);
		return (await this.query<{ version: number }>(`SELECT version FROM {s}.versions WHERE prompt_id = $1 ORDER BY version`, [promptId])).map((r) => r.version);
	}

	async readVersion(promptId: string, version: number): Promise<FrozenVersion> {
		assertPromptId(promptId);
		const rows = await this.query<{ body: unknown }>(`SELECT body FROM {s}.versions WHERE prompt_id = $1 AND version = $2`, [promptId, version]);
		if (!rows.length) {
			const versions = await this.listVersions(promptId);
			throw new ConfigError(`prompt "${promptId}" has no version ${version} in registry ${this.location} (versions: ${versions.join(', ') || 'none yet — publish them from git'})`);
		}
		const repair = `re-publish version ${version} from git: prompt-release publish <folder> --to ${this.location} --repair ${promptId}@${version}`;
		return checkVersionFile(this.row('versions', `prompt "${promptId}" version ${version}`, rows[0].body), promptId, version, repair);
	}

	async createVersion(promptId: string, frozen: FrozenVersion): Promise<boolean> {
		const body = plain(frozen);
		checkVersionFile(this.row('versions', `prompt "${promptId}" version ${frozen.version}`, body), promptId, frozen.version);
		await this.ensurePrompt(promptId);
		const rows = await this.query(
			`INSERT INTO {s}.versions (prompt_id, version, content_hash, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
			[promptId, frozen.version, frozen.contentHash, body],
		);
		return rows.length === 1;
	}

	/** A fixture row checked by the file format's own checks (errors name the table, prompt and fixture). */
	fixtureOf(promptId: string, id: string, body: unknown, spec?: PromptSpec): Fixture {
		return checkFixture(this.row('fixtures', `prompt "${promptId}" fixture "${id}"`, body), id, spec);
	}

	async listFixtures(promptId: string, spec?: PromptSpec): Promise<Fixture[]> {
		assertPromptId(promptId);
		const rows = await this.query<{ fixture_id: string; body: unknown }>(`SELECT fixture_id, body FROM {s}.fixtures WHERE prompt_id = $1 ORDER BY fixture_id COLLATE "C"`, [promptId]);
		return rows.map((r) => this.fixtureOf(promptId, r.fixture_id, r.body, spec));
	}

	/** Fixtures one at a time, in id order, 1000 rows per query (./fixture-rows.ts). */
	streamFixtures(promptId: string, spec?: PromptSpec, onProblem?: (error: ConfigError) => void): AsyncGenerator<Fixture> {
		assertPromptId(promptId);
		return streamFixtureRows(this, promptId, (id, body) => this.fixtureOf(promptId, id, body, spec), onProblem);
	}

	async readFixture(promptId: string, fixtureId: string, spec?: PromptSpec): Promise<Fixture | undefined> {
		assertPromptId(promptId);
		assertPromptId(fixtureId, 'fixture id');
		const rows = await this.query<{ body: unknown }>(`SELECT body FROM {s}.fixtures WHERE prompt_id = $1 AND fixture_id = $2`, [promptId, fixtureId]);
		return rows.length ? this.fixtureOf(promptId, fixtureId, rows[0].body, spec) : undefined;
	}

	/** One upsert; `xmax = 0` in RETURNING tells an inserted row (true) from an updated one (false), atomically. */
	async writeFixture(promptId: string, fixture: Fixture): Promise<boolean> {
		assertPromptId(promptId);
		assertPromptId(fixture.id, 'fixture id');
		const upsert = () =>
			this.query<{ created: boolean }>(
				`INSERT INTO {s}.fixtures (prompt_id, fixture_id, body, inputs_key) VALUES ($1, $2, $3, md5(($3::jsonb -> 'inputs')::text))
				 ON CONFLICT (prompt_id, fixture_id) DO UPDATE SET body = EXCLUDED.body, inputs_key = EXCLUDED.inputs_key, updated_at = now()
				 RETURNING (xmax = 0) AS created`,
				[promptId, fixture.id, plain(fixture)],
			);
		// One round trip on the hot path (corrections from many workers); the prompt row only when missing.
		try {
			return (await upsert())[0].created;
		} catch (error) {
			if (!(error instanceof ConfigError && /SQLSTATE 23503/.test(error.message))) throw error;
			await this.ensurePrompt(promptId);
			return (await upsert())[0].created;
		}
	}

	/** Record Correction's statements: one correction, or several at once (./corrections.ts). */
	private readonly correctionStatements: CorrectionStatements = {
		one: (w) => recordCorrectionRow((sql, params) => this.queryPrepared(sql, params), w),
		many: (ws) => recordCorrectionRows((sql, params) => this.queryPrepared(sql, params), ws),
	};

	/**
	 * One statement: version guard, lookup and upsert (./corrections.ts), grouped with the corrections other
	 * callers of this process send at the same time (./correction-batch.ts); inside a release transaction, alone.
	 */
	async recordFixtureForInputs(promptId: string, fixture: Fixture, guard?: VersionGuard): Promise<{ fixture: Fixture; created: boolean } | undefined> {
		assertPromptId(promptId);
		assertPromptId(fixture.id, 'fixture id');
		const write = correctionWrite(promptId, fixture, guard);
		const row = this.tx.getStore()
			? await this.correctionStatements.one(write)
			: await correctionBatcher(this.pool, this.schema, this.correctionStatements).record(write);
		return row && { fixture: this.fixtureOf(promptId, row.fixtureId, row.body), created: row.created };
	}

	async findFixtureByInputs(promptId: string, inputs: Record<string, unknown>): Promise<Fixture | undefined> {
		assertPromptId(promptId);
		const rows = await this.query<{ fixture_id: string; body: unknown }>(
			`SELECT fixture_id, body FROM {s}.fixtures WHERE prompt_id = $1 AND inputs_key = md5($2::jsonb::text) ORDER BY fixture_id COLLATE "C" LIMIT 1`,
			[promptId, JSON.stringify(plain(inputs))],
		);
		return rows.length ? this.fixtureOf(promptId, rows[0].fixture_id, rows[0].body) : undefined;
	}

	/** One upsert for the whole batch (./reviews.ts). */
	async queueReviews(promptId: string, requests: ReviewRequest[]): Promise<void> {
		assertPromptId(promptId);
		if (requests.length === 0) return;
		if (!(await queueReviewRows((sql, params) => this.query(sql, params), promptId, requests))) throw await this.notFound(promptId);
	}

	async listReviews(promptId: string, status?: ReviewStatus): Promise<ReviewCase[]> {
		assertPromptId(promptId);
		return (await listReviewRows((sql, params) => this.query(sql, params), promptId, status)).map((row) => this.reviewOf(promptId, row));
	}

	async countReviews(promptId: string): Promise<Record<ReviewStatus, number>> {
		assertPromptId(promptId);
		return countReviewRows((sql, params) => this.query(sql, params), promptId);
	}

	async closeReview(promptId: string, caseId: string, closing: ReviewClosing): Promise<ReviewCase | undefined> {
		assertPromptId(promptId);
		const row = await closeReviewRow((sql, params) => this.query(sql, params), promptId, caseId, closing);
		return row && this.reviewOf(promptId, row);
	}

	/** A review row checked like a file line: errors name the table, prompt, case and field. */
	private reviewOf(promptId: string, row: ReviewRow): ReviewCase {
		return caseOfRow(promptId, row, (field, message) => new ConfigError(message, { file: `${this.location} ${this.schema}.review_cases prompt "${promptId}" case "${row.case_id}"`, field }));
	}

	async readReleases(promptId: string): Promise<ReleasesState> {
		assertPromptId(promptId);
		const rows = await this.query<{ state: unknown }>(`SELECT state FROM {s}.releases WHERE prompt_id = $1`, [promptId]);
		if (!rows.length) return { channels: {}, history: [] };
		return checkReleases(this.row('releases', `prompt "${promptId}"`, rows[0].state));
	}

	async updateReleases(promptId: string, mutate: (state: ReleasesState) => ReleasesState | Promise<ReleasesState>): Promise<ReleasesState> {
		await this.assertPromptExists(promptId);
		const client = await this.pool.connect();
		try {
			await client.query('BEGIN');
			const q = (sql: string, params: unknown[]) => client.query(sql.replaceAll('{s}', this.s), params);
			await q(`INSERT INTO {s}.releases (prompt_id, state) VALUES ($1, '{"channels":{},"history":[]}') ON CONFLICT DO NOTHING`, [promptId]);
			const { rows } = await q(`SELECT state FROM {s}.releases WHERE prompt_id = $1 FOR UPDATE`, [promptId]);
			const current = checkReleases(this.row('releases', `prompt "${promptId}"`, (rows[0] as { state: unknown }).state));
			const next = plain(await this.tx.run(client, () => mutate(current)));
			checkReleases(this.row('releases', `prompt "${promptId}" (the update about to be written)`, next));
			await q(`UPDATE {s}.releases SET state = $2, updated_at = now() WHERE prompt_id = $1`, [promptId, next]);
			await notifyReleaseChange(client, this.schema, promptId);
			await client.query('COMMIT');
			return next;
		} catch (error) {
			await client.query('ROLLBACK').catch(() => undefined);
			throw this.dbError(error);
		} finally {
			client.release();
		}
	}

	async createRunWriter(promptId: string, runId: string): Promise<RunWriter> {
		if (!RUN_ID.test(runId)) throw new ConfigError(`run id "${runId}" is invalid`);
		assertPromptId(promptId);
		return new PostgresRunWriter(this, promptId, runId, () => this.ensurePrompt(promptId));
	}

	async writeRun(report: RunReport): Promise<void> {
		const writer = await this.createRunWriter(report.promptId, report.runId);
		try {
			for (const result of report.results) await writer.append(result);
			await writer.commit(report);
		} catch (error) {
			await writer.discard().catch(() => undefined);
			throw error;
		}
	}

	async readRun(promptId: string, runId: string): Promise<RunReport> {
		const { header, inline } = await this.readRunDocument(promptId, runId);
		if (inline) return inline;
		const results: RunReport['results'] = [];
		for await (const r of readRunRows(this, promptId, runId)) results.push(r);
		return { ...header, results };
	}

	private readRunDocument(promptId: string, runId: string): ReturnType<typeof readRunBody> {
		if (!RUN_ID.test(runId)) throw new ConfigError(`run id "${runId}" is invalid`);
		return readRunBody(this, promptId, runId);
	}

	async readRunHeader(promptId: string, runId: string): Promise<RunHeader> {
		return (await this.readRunDocument(promptId, runId)).header;
	}

	readRunResults(promptId: string, runId: string): AsyncIterable<FixtureResult> {
		if (!RUN_ID.test(runId)) throw new ConfigError(`run id "${runId}" is invalid`);
		return readRunRows(this, promptId, runId);
	}

	async listRuns(promptId: string): Promise<string[]> {
		assertPromptId(promptId);
		return (await this.query<{ run_id: string }>(`SELECT run_id FROM {s}.runs WHERE prompt_id = $1 ORDER BY run_id COLLATE "C"`, [promptId])).map((r) => r.run_id);
	}

	async appendOutcomes(promptId: string, canaryId: string, records: OutcomeRecord[]): Promise<void> {
		if (!RUN_ID.test(canaryId)) throw new ConfigError(`canary id "${canaryId}" is invalid`);
		assertPromptId(promptId);
		if (records.length === 0) return;
		await this.query(
			`INSERT INTO {s}.outcomes (prompt_id, canary_id, record)
			 SELECT $1, $2, r FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(r, n) ORDER BY n`,
			[promptId, canaryId, JSON.stringify(plain(records))],
		);
	}

	async readOutcomes(promptId: string, canaryId: string): Promise<OutcomeRecord[]> {
		if (!RUN_ID.test(canaryId)) throw new ConfigError(`canary id "${canaryId}" is invalid`);
		assertPromptId(promptId);
		return (await this.query<{ record: OutcomeRecord }>(`SELECT record FROM {s}.outcomes WHERE prompt_id = $1 AND canary_id = $2 ORDER BY id`, [promptId, canaryId])).map((r) => r.record);
	}

	private scope(promptId?: string): string {
		if (promptId === undefined) return '';
		assertPromptId(promptId);
		return promptId;
	}

	async readPolicy(promptId?: string): Promise<PolicyFile> {
		const rows = await this.query<{ body: unknown }>(`SELECT body FROM {s}.policies WHERE scope = $1`, [this.scope(promptId)]);
		if (!rows.length) return {};
		return checkPolicyFile(this.row('policies', promptId === undefined ? 'registry-wide policy' : `prompt "${promptId}" policy`, rows[0].body));
	}

	async writePolicy(policy: PolicyFile, promptId?: string): Promise<void> {
		const scope = this.scope(promptId);
		if (promptId !== undefined) await this.ensurePrompt(promptId);
		await this.query(`INSERT INTO {s}.policies (scope, body) VALUES ($1, $2) ON CONFLICT (scope) DO UPDATE SET body = EXCLUDED.body, updated_at = now()`, [scope, plain(policy)]);
	}

	async readPricing(): Promise<PriceTable> {
		const rows = await this.query<{ body: unknown }>(`SELECT body FROM {s}.pricing`);
		return rows.length ? checkPricing(this.row('pricing', 'price table', rows[0].body)) : {};
	}

	async writePricing(prices: PriceTable): Promise<void> {
		await this.query(`INSERT INTO {s}.pricing (id, body) VALUES (true, $1) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, updated_at = now()`, [{ models: plain(prices) }]);
	}
}
