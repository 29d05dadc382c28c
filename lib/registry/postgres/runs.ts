/**
 * Runs in a PostgreSQL registry (design: docs/adr/0031): the summary document in `runs.body` (with
 * `"format": 2`) and one row per result in `run_results (prompt_id, run_id, seq, body)`, written in
 * batches while the run goes. Result rows are invisible to readers until the `runs` row exists; rows of a
 * run that never committed are deleted by `discard`. Runs stored before (results inline in `runs.body`)
 * read the same way.
 */
import { ConfigError } from '../../errors';
import { checkRun } from '../formats';
import { RUN_FORMAT } from '../run-files';
import { RunWrites } from '../open-runs';
import type { RunWriter } from '../store';
import type { FixtureResult, RunHeader, RunReport } from '../../types';

/** What the runs functions need from the store: SQL on the registry schema (`{s}`) and messages. */
export interface RunsDb {
	query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
	readonly location: string;
	readonly schema: string;
}

const BATCH = 500;

export class PostgresRunWriter implements RunWriter {
	private batch: FixtureResult[] = [];
	private seq = 0;
	/** Inserts and the commit one at a time: `discard` waits for the one under way, so no row lands after the rows were deleted. */
	private readonly writes: RunWrites;

	constructor(
		private readonly db: RunsDb,
		private readonly promptId: string,
		private readonly runId: string,
		private readonly ensurePrompt: () => Promise<void>,
	) {
		this.writes = new RunWrites(this, () => this.refused());
	}

	private exists(): ConfigError {
		return new ConfigError(`run ${this.runId} already exists for prompt "${this.promptId}" in registry ${this.db.location}`);
	}

	private refused(): ConfigError {
		return new ConfigError(`run ${this.runId} of "${this.promptId}" in registry ${this.db.location} was discarded (interrupted): nothing more is written to it`);
	}

	/**
	 * Insert the buffered results, unless a run with this id is already stored: its result rows must never
	 * be touched (nor would the primary key let them be), and the caller gets the documented "already
	 * exists" error rather than a key violation. One statement, so the check and the insert see one snapshot.
	 */
	private async flush(): Promise<void> {
		if (!this.batch.length) return;
		const seqs = this.batch.map((_, i) => this.seq - this.batch.length + i);
		const bodies = this.batch.map((r) => JSON.stringify(r));
		this.batch = [];
		const inserted = await this.db.query(
			`INSERT INTO {s}.run_results (prompt_id, run_id, seq, body)
			 SELECT $1, $2, s, b FROM unnest($3::int[], $4::jsonb[]) AS t(s, b)
			 WHERE NOT EXISTS (SELECT 1 FROM {s}.runs WHERE prompt_id = $1 AND run_id = $2)
			 RETURNING 1`,
			[this.promptId, this.runId, seqs, bodies],
		);
		if (inserted.length !== seqs.length) throw this.exists();
	}

	async append(result: FixtureResult): Promise<void> {
		this.writes.check();
		this.batch.push(result);
		this.seq++;
		if (this.batch.length >= BATCH) await this.writes.write(() => this.flush());
	}

	async commit(header: RunHeader): Promise<void> {
		await this.writes.commit(async () => {
			await this.flush();
			await this.ensurePrompt();
			const { results: _drop, ...rest } = header as RunHeader & { results?: unknown };
			void _drop;
			const body = JSON.parse(JSON.stringify({ ...rest, format: RUN_FORMAT, resultCount: this.seq })) as Record<string, unknown>;
			const rows = await this.db.query(`INSERT INTO {s}.runs (prompt_id, run_id, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`, [this.promptId, this.runId, body]);
			if (!rows.length) throw this.exists();
		});
	}

	async discard(): Promise<boolean> {
		// An insert or the commit under way finishes first: a commit that succeeds leaves the run stored.
		return this.writes.discard(async () => {
			this.batch = [];
			await this.db.query(`DELETE FROM {s}.run_results WHERE prompt_id = $1 AND run_id = $2 AND NOT EXISTS (SELECT 1 FROM {s}.runs WHERE prompt_id = $1 AND run_id = $2)`, [this.promptId, this.runId]);
		});
	}
}

function label(db: RunsDb, promptId: string, runId: string): string {
	return `${db.location} ${db.schema}.runs prompt "${promptId}" run "${runId}"`;
}

/** The stored body: a format 2 header, or a run with its results inline. */
export async function readRunBody(db: RunsDb, promptId: string, runId: string): Promise<{ header: RunHeader; inline?: RunReport }> {
	const rows = await db.query<{ body: unknown }>(`SELECT body FROM {s}.runs WHERE prompt_id = $1 AND run_id = $2`, [promptId, runId]);
	if (!rows.length) throw new ConfigError(`run "${runId}" not found for prompt "${promptId}" in registry ${db.location}`);
	const body = rows[0].body as Record<string, unknown>;
	if (body && body.format === RUN_FORMAT) {
		if (body.runId !== runId || body.promptId !== promptId || typeof body.summary !== 'object') {
			throw new ConfigError(`${label(db, promptId, runId)}: the run summary does not name this run or has no summary`);
		}
		const { format: _f, resultCount: _c, ...header } = body;
		void _f;
		void _c;
		return { header: header as unknown as RunHeader };
	}
	const inline = checkRun(body, label(db, promptId, runId), { promptId, runId });
	const { results: _r, ...header } = inline;
	void _r;
	return { header, inline };
}

/** Results in stored order, 1000 rows per query (keyset on seq). */
export async function* readRunRows(db: RunsDb, promptId: string, runId: string): AsyncGenerator<FixtureResult> {
	const { inline } = await readRunBody(db, promptId, runId);
	if (inline) {
		yield* inline.results;
		return;
	}
	let after = -1;
	for (;;) {
		const rows = await db.query<{ seq: number; body: FixtureResult }>(`SELECT seq, body FROM {s}.run_results WHERE prompt_id = $1 AND run_id = $2 AND seq > $3 ORDER BY seq LIMIT 1000`, [promptId, runId, after]);
		for (const row of rows) {
			if (typeof row.body?.fixtureId !== 'string' || typeof row.body?.passed !== 'boolean') {
				throw new ConfigError(`${label(db, promptId, runId)} result ${row.seq}: needs fixtureId (text) and passed (boolean)`);
			}
			yield row.body;
		}
		if (rows.length < 1000) return;
		after = rows[rows.length - 1].seq;
	}
}
