/**
 * Named prepared statements for the PostgreSQL registry's hot path (Record Correction, docs/adr/0032).
 *
 * An unnamed statement is parsed, analysed and planned by the server on every call: for the correction's
 * CTE that was about 0.4 ms of the server's ~0.7 ms CPU per correction. node-postgres prepares a statement
 * that has a `name` once per connection (Parse), then sends only Bind/Execute with the parameters; the
 * server keeps the parsed statement and, after a few executions, a generic plan. The plan is invalidated
 * and redone by the server itself when a table it uses changes (a migration), so nothing here is ever stale.
 *
 * The name is derived from the exact text sent (schema included): pools are shared by every schema of a
 * server (./pool.ts), and node-postgres refuses one name for two different texts on a connection, so a
 * changed SQL text or another schema is simply another statement. Connection poolers must keep named
 * statements per server connection (PgBouncer in transaction mode needs max_prepared_statements, 1.21+).
 */
import { createHash } from 'node:crypto';

/** What node-postgres needs to run a named statement: `name` (≤ 63 bytes, PostgreSQL's identifier limit) and `text`. */
export interface PreparedStatement {
	name: string;
	text: string;
}

/** The statement for this exact SQL text (`{s}` already replaced): `prompt_release_` + 24 hex digits of its sha256. */
export function preparedStatement(text: string): PreparedStatement {
	return { name: `prompt_release_${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 24)}`, text };
}
