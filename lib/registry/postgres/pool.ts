/**
 * One node-postgres Pool per connection settings per process. n8n nodes open the registry on every
 * execution; they must share one pool, not open a new one each time. `closePools` ends them all
 * (the CLI calls it before exiting so it never hangs on idle connections).
 */
import { Pool } from 'pg';
import { CUSTOM_PLANS } from './prepared';
import { clientConfig, connectionKey, locationOf, type PostgresSettings } from './settings';

const pools = new Map<string, Pool>();
const noop = () => undefined;

/** The shared pool for these settings, created on first use. Idle clients never keep the process alive. */
export function poolFor(settings: PostgresSettings): Pool {
	const key = connectionKey(settings);
	let pool = pools.get(key);
	if (!pool) {
		pool = new Pool({
			...clientConfig(settings),
			max: settings.maxConnections,
			idleTimeoutMillis: 30_000,
			allowExitOnIdle: true,
			// Named statements are planned for their parameters every time (./prepared.ts); a new connection is handed
			// out once this has run. A server without the setting (before PostgreSQL 12) keeps its default.
			onConnect: (client) => client.query(CUSTOM_PLANS).then(noop, noop),
		});
		// An idle client losing its connection (server restart) must not crash the process: the pool replaces it.
		pool.on('error', (error) => {
			process.stderr.write(`prompt-release: PostgreSQL registry ${locationOf(settings)}: idle connection lost (${error.message}); it will be replaced\n`);
		});
		pools.set(key, pool);
	}
	return pool;
}

/** End every pool this process opened (waits for checked-out clients to be released). */
export async function closePools(): Promise<void> {
	const all = [...pools.values()];
	pools.clear();
	await Promise.all(all.map((p) => p.end().catch(() => undefined)));
}
