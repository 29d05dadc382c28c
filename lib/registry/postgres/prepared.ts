/**
 * Named prepared statements for the PostgreSQL registry's hot path (Record Correction, docs/adr/0032).
 *
 * An unnamed statement is sent, parsed, analysed and planned by the server on every call. node-postgres
 * prepares a statement that has a `name` once per connection (Parse), then sends only Bind/Execute with
 * the parameters, and the server skips parsing and analysis (about 0.12 ms of the ~0.65 ms of server CPU
 * per correction, measured on one connection). The server re-analyses it by itself when a table it uses
 * changes (a migration), so nothing here is ever stale.
 *
 * Planning is not skipped: the pool's connections run `CUSTOM_PLANS`. By default, from the sixth execution
 * on, the server may switch to a generic plan built for "any prompt": built while the table is small, that
 * plan reads every fixture of the prompt (its index scan keys on the prompt only), and it is kept until the
 * table's statistics change, which never happens with autovacuum off. Measured on one connection: 0.8 ms
 * per correction up to 1,000 fixtures, 7.5 ms from 5,000 to 10,000; with custom plans a flat 0.52 ms.
 *
 * The name is derived from the exact text sent (schema included): pools are shared by every schema of a
 * server (./pool.ts), and node-postgres refuses one name for two different texts on a connection, so a
 * changed SQL text or another schema is simply another statement. Connection poolers must keep named
 * statements per server connection (PgBouncer in transaction mode needs max_prepared_statements, 1.21+).
 */
import { createHash } from 'node:crypto';

/** Run on each new pool connection: every execution of a named statement is planned for its parameters. */
export const CUSTOM_PLANS = 'SET plan_cache_mode = force_custom_plan';

/** What node-postgres needs to run a named statement: `name` (≤ 63 bytes, PostgreSQL's identifier limit) and `text`. */
export interface PreparedStatement {
	name: string;
	text: string;
}

/** The statement for this exact SQL text (`{s}` already replaced): `prompt_release_` + 24 hex digits of its sha256. */
export function preparedStatement(text: string): PreparedStatement {
	return { name: `prompt_release_${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 24)}`, text };
}
