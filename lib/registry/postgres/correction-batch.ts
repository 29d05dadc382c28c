/**
 * Group commit for Record Correction on PostgreSQL (docs/adr/0051-postgres-correction-batches.md).
 *
 * A correction costs the server about 0.5 ms of CPU, most of it per statement (bind, plan, executor start,
 * commit), not per row. Every process (an n8n worker running items 16 at a time, several executions at
 * once) shares one batcher per pool and schema: a correction is sent at once when no correction statement
 * of that schema is running (`maxInFlight`, 1); the ones that arrive meanwhile wait and leave together as
 * one statement when it returns. Light load keeps the latency of one statement; heavy load sends fewer,
 * larger statements instead of queueing for pool connections. Measured with 8 processes × 16 at a time on
 * 2 cores (bench/postgres.ts): one correction per statement 1,650/s; at most 4 statements in flight 2,900/s,
 * 2 in flight 3,700–4,200/s, 1 in flight 4,500/s.
 *
 * Each correction still gets exactly its own answer: the batch statement gives every row what the one-row
 * statement would have given it. Two corrections of the same prompt and inputs (or fixture id) never share a
 * batch; the later one waits for the next, so "exactly one of concurrent writers creates" holds. When a batch
 * fails (a deadlock with another process's batch, a row joined to another through an existing fixture, a
 * bad row), nothing of it was written and every correction of it is sent again on its own, so one bad
 * correction fails alone. Only a database that does not answer fails the whole batch at once.
 */
import type { Pool } from 'pg';
import { RegistryUnavailableError } from '../../errors';
import type { CorrectionRow, CorrectionWrite } from './corrections';

/** The two statements a batcher sends: one correction, or several (result i for write i). Errors as the store throws them. */
export interface CorrectionStatements {
	one(write: CorrectionWrite): Promise<CorrectionRow>;
	many(writes: CorrectionWrite[]): Promise<CorrectionRow[]>;
}

interface Pending {
	write: CorrectionWrite;
	/** What must not appear twice in one batch: the prompt with the fixture id, and with the inputs. */
	keys: [string, string];
	resolve(row: CorrectionRow): void;
	reject(error: unknown): void;
}

/** Correction statements of one schema in flight at most per process before corrections wait to be grouped (see above). */
export const MAX_IN_FLIGHT = 1;
/** Corrections per statement at most (one JSONB parameter; ~1–2 KB each). */
export const MAX_BATCH = 100;

export class CorrectionBatcher {
	private queue: Pending[] = [];
	private inFlight = 0;
	/** Statements sent and corrections they carried, for tests and the benchmark. */
	readonly stats = { statements: 0, corrections: 0, fallbacks: 0 };

	constructor(
		private readonly statements: CorrectionStatements,
		readonly maxInFlight = MAX_IN_FLIGHT,
		readonly maxBatch = MAX_BATCH,
	) {}

	/** Write one correction (sent now or with the next batch); resolves to what the one-row statement gives. */
	record(write: CorrectionWrite): Promise<CorrectionRow> {
		return new Promise<CorrectionRow>((resolve, reject) => {
			const inputs = `${write.promptId}\0inputs\0${write.caseId}`;
			this.queue.push({ write, keys: [`${write.promptId}\0id\0${write.fixture.id}`, inputs], resolve, reject });
			this.pump();
		});
	}

	private pump(): void {
		while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
			const batch = this.take();
			this.inFlight++;
			this.stats.statements++;
			this.stats.corrections += batch.length;
			void this.send(batch).finally(() => {
				this.inFlight--;
				this.pump();
			});
		}
	}

	/** The next batch in arrival order, skipping (and keeping queued) corrections whose prompt and inputs or id are already in it. */
	private take(): Pending[] {
		const batch: Pending[] = [];
		const rest: Pending[] = [];
		const keys = new Set<string>();
		for (const p of this.queue) {
			if (batch.length < this.maxBatch && !keys.has(p.keys[0]) && !keys.has(p.keys[1])) {
				batch.push(p);
				keys.add(p.keys[0]);
				keys.add(p.keys[1]);
			} else {
				rest.push(p);
			}
		}
		this.queue = rest;
		return batch;
	}

	private async send(batch: Pending[]): Promise<void> {
		if (batch.length === 1) return this.one(batch[0]);
		let rows: CorrectionRow[];
		try {
			rows = await this.statements.many(batch.map((p) => p.write));
		} catch (error) {
			if (error instanceof RegistryUnavailableError) {
				for (const p of batch) p.reject(error);
				return;
			}
			// Nothing of the batch was written: each correction again on its own, in arrival order, so each gets
			// its own answer or error, as if they had come one at a time.
			this.stats.fallbacks++;
			for (const p of batch) await this.one(p);
			return;
		}
		batch.forEach((p, i) => p.resolve(rows[i]));
	}

	private async one(p: Pending): Promise<void> {
		try {
			p.resolve(await this.statements.one(p.write));
		} catch (error) {
			p.reject(error);
		}
	}
}

const batchers = new WeakMap<Pool, Map<string, CorrectionBatcher>>();

/** The batcher every store of this pool and schema in this process shares (created with `statements` on first use). */
export function correctionBatcher(pool: Pool, schema: string, statements: CorrectionStatements): CorrectionBatcher {
	let bySchema = batchers.get(pool);
	if (!bySchema) batchers.set(pool, (bySchema = new Map()));
	let batcher = bySchema.get(schema);
	if (!batcher) bySchema.set(schema, (batcher = new CorrectionBatcher(statements)));
	return batcher;
}

/** What the batcher of this pool and schema sent so far in this process (zeros before its first correction). */
export function correctionBatchStats(pool: Pool, schema: string): CorrectionBatcher['stats'] {
	return { ...(batchers.get(pool)?.get(schema)?.stats ?? { statements: 0, corrections: 0, fallbacks: 0 }) };
}
