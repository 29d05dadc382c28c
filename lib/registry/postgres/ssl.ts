/**
 * SSL modes with libpq's meaning (https://www.postgresql.org/docs/current/libpq-ssl.html), mapped to node-postgres
 * `ssl` options the way pg-connection-string maps them with `uselibpqcompat=true`:
 *   disable      no SSL
 *   allow        plain first; SSL (certificate not checked) only if the server refuses a plain connection
 *   prefer       SSL (certificate not checked) first; plain if the server does not support SSL (psql's default)
 *   require      SSL, certificate not checked
 *   verify-ca    SSL, certificate chain checked against the trusted CAs, host name not checked
 *   verify-full  SSL, certificate chain and host name checked
 *   no-verify    node-postgres's own name for require
 * node-postgres has no plain/SSL fallback of its own, so allow and prefer are settled once per connection settings
 * by one probe connection (`settleSsl`), then every pool and listener client uses the outcome.
 */
import { Client, type Pool } from 'pg';
import type { ConnectionOptions } from 'node:tls';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The node-postgres `ssl` option of a mode that needs no probe (allow and prefer: their first attempt). */
export function sslOption(mode: SslMode, allowUnauthorizedCerts = false): false | ConnectionOptions {
	if (mode === 'disable' || mode === 'allow') return false;
	if (allowUnauthorizedCerts || mode === 'prefer' || mode === 'require' || mode === 'no-verify') return { rejectUnauthorized: false };
	if (mode === 'verify-ca') return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
	return { rejectUnauthorized: true };
}

/** The other attempt of allow (SSL without checks) and prefer (plain). */
function fallbackOption(mode: SslMode): false | ConnectionOptions {
	return mode === 'allow' ? { rejectUnauthorized: false } : false;
}

/** The server said no to the first attempt in a way the fallback answers (not a wrong password or host). */
function fallbackNeeded(mode: SslMode, error: unknown): boolean {
	const message = error instanceof Error ? error.message : '';
	if (mode === 'prefer') return /does not support SSL/i.test(message);
	// allow: pg_hba.conf has only hostssl lines for us ("… no encryption").
	return (error as { code?: string }).code === '28000' && /no encryption/i.test(message);
}

const settled = new Map<string, Promise<false | ConnectionOptions>>();

/**
 * For allow and prefer: try the first kind of connection once, fall back when the server refuses it for that reason,
 * and make `pool` (and `settledSslOption`) use what worked. Other modes return at once. A failed probe is retried.
 */
export async function settleSsl(pool: Pool, key: string, config: Record<string, unknown>, mode: SslMode): Promise<false | ConnectionOptions> {
	if (mode !== 'allow' && mode !== 'prefer') return sslOption(mode);
	let p = settled.get(key);
	if (!p) {
		p = (async () => {
			const first = sslOption(mode);
			const client = new Client({ ...config, ssl: first });
			try {
				await client.connect();
				return first;
			} catch (error) {
				if (!fallbackNeeded(mode, error)) throw error;
				return fallbackOption(mode);
			} finally {
				await client.end().catch(() => undefined);
			}
		})();
		settled.set(key, p);
		p.catch(() => settled.delete(key));
	}
	const ssl = await p;
	(pool as unknown as { options: { ssl: unknown } }).options.ssl = ssl;
	return ssl;
}

/** What a settled allow/prefer connection uses (listeners connect after the pool settled), else undefined. */
export async function settledSslOption(key: string): Promise<false | ConnectionOptions | undefined> {
	return settled.get(key)?.catch(() => undefined);
}
