/**
 * Connection settings of the PostgreSQL registry, from a `postgres://` URL (CLI, environment) or from the
 * fields of the n8n Prompt Registry credential. The label shown in messages never contains the password.
 */
import { ConfigError } from '../../errors';
import { SSL_MODES, sslOption, type SslMode } from './ssl';

export type { SslMode } from './ssl';

export interface PostgresSettings {
	host: string;
	port: number;
	database: string;
	user: string;
	password?: string;
	ssl: SslMode;
	/** Never check the certificate, whatever the mode (n8n's "Ignore SSL Issues"). */
	allowUnauthorizedCerts: boolean;
	/** The one PostgreSQL schema that holds every registry table. */
	schema: string;
	/** Pool size per process (default 10). */
	maxConnections: number;
	/** Run pending migrations on first use (default true; `?migrate=false` for a runtime user without DDL rights). */
	autoMigrate: boolean;
	/**
	 * May the first use create a schema that does not exist yet? Only `publish` (and `db migrate`, which migrates
	 * directly) set it: for every other use a missing schema is a mistyped `?schema=`, refused with the names of the
	 * registry schemas there are. Never set from a URL.
	 */
	createSchema?: boolean;
}

export const DEFAULT_SCHEMA = 'prompt_release';
/** How to write a password with URL delimiters in it (the password itself is never shown). */
const PASSWORD_HINT = 'if the password contains @ : / # ? % & or a space, percent-encode those characters (@ → %40, : → %3A, / → %2F, # → %23, ? → %3F, % → %25, & → %26, space → %20) or set it in $PGPASSWORD';
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** True for `postgres://` and `postgresql://` locations (anything else is a folder). */
export function isPostgresUrl(location: string): boolean {
	return /^postgres(ql)?:\/\//i.test(location.trim());
}

/** Throws a ConfigError unless `schema` is a plain lower-case identifier (it is interpolated into SQL, quoted). */
export function assertSchemaName(schema: string, where: string): string {
	if (!SCHEMA_NAME.test(schema)) {
		throw new ConfigError(`schema "${schema}" is invalid (${where}): use lower-case letters, digits and "_", starting with a letter or "_", at most 63 characters (e.g. prompts)`);
	}
	return schema;
}

/** An SSL mode by its libpq name (lib/registry/postgres/ssl.ts); throws ConfigError listing every accepted one. */
export function sslFrom(value: string | null | undefined, where: string): SslMode {
	const v = (value ?? 'disable').toLowerCase();
	if ((SSL_MODES as readonly string[]).includes(v)) return v as SslMode;
	throw new ConfigError(`sslmode "${value}" is invalid (${where}): use ${SSL_MODES.join(', ')} (meanings as in libpq; no-verify = require)`);
}

/**
 * Parse `postgres://user[:password]@host[:port]/database?schema=prompts&sslmode=require&max=10&migrate=false`.
 * Throws ConfigError naming the part to fix. The password may also come from $PGPASSWORD (libpq convention).
 */
export function parsePostgresUrl(text: string): PostgresSettings {
	let url: URL;
	let database: string;
	let user: string;
	let password: string;
	try {
		url = new URL(text.trim());
		if (url.hash) throw new Error('fragment');
		database = decodeURIComponent(url.pathname.replace(/^\//, ''));
		user = decodeURIComponent(url.username);
		password = decodeURIComponent(url.password);
	} catch {
		// Never echo the text: it may hold the password.
		throw new ConfigError(`registry URL is not a valid URL: ${PASSWORD_HINT}; write postgres://user:password@host:5432/database?schema=prompts`);
	}
	const where = 'registry URL';
	if (!database) throw new ConfigError(`registry URL names no database: write postgres://user@host:5432/database?schema=prompts`);
	const known = new Set(['schema', 'sslmode', 'ssl', 'max', 'migrate']);
	for (const key of url.searchParams.keys()) {
		if (!known.has(key)) {
			const shown = /[@:/]/.test(key) ? '' : ` "${key}"`;
			throw new ConfigError(`registry URL parameter${shown} is unknown: use schema, sslmode, max or migrate${shown ? '' : ` (${PASSWORD_HINT})`}`);
		}
	}
	const max = url.searchParams.get('max');
	if (max !== null && !/^[1-9][0-9]{0,2}$/.test(max)) throw new ConfigError(`registry URL parameter max="${max}" is invalid: give a pool size such as 10`);
	const migrate = url.searchParams.get('migrate');
	if (migrate !== null && migrate !== 'true' && migrate !== 'false') throw new ConfigError(`registry URL parameter migrate="${migrate}" is invalid: use true or false`);
	const ssl = url.searchParams.get('sslmode') ?? (url.searchParams.get('ssl') === 'true' ? 'require' : undefined);
	return {
		host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
		port: url.port ? Number(url.port) : 5432,
		database,
		user: user || process.env.PGUSER || 'postgres',
		password: password || process.env.PGPASSWORD || undefined,
		ssl: sslFrom(ssl, where),
		allowUnauthorizedCerts: false,
		schema: assertSchemaName(url.searchParams.get('schema') ?? DEFAULT_SCHEMA, where),
		maxConnections: max ? Number(max) : 10,
		autoMigrate: migrate !== 'false',
	};
}

/** Where the registry lives, for messages and cache keys: `postgres://user@host:port/db?schema=s` (no password). */
export function locationOf(s: PostgresSettings): string {
	const host = s.host.includes(':') ? `[${s.host}]` : s.host;
	return `postgres://${encodeURIComponent(s.user)}@${host}:${s.port}/${encodeURIComponent(s.database)}?schema=${s.schema}`;
}

/** One key per server, database, user, password and TLS settings: pools and listeners are shared per key. */
export function connectionKey(s: PostgresSettings): string {
	return JSON.stringify([s.host, s.port, s.database, s.user, s.password ?? '', s.ssl, s.allowUnauthorizedCerts, s.maxConnections]);
}

/**
 * node-postgres client options (https://node-postgres.com/apis/client) for these settings. For allow and prefer
 * `ssl` is the first attempt; `settleSsl` (ssl.ts) replaces it with what the server accepted.
 */
export function clientConfig(s: PostgresSettings) {
	return {
		host: s.host,
		port: s.port,
		database: s.database,
		user: s.user,
		password: s.password,
		ssl: sslOption(s.ssl, s.allowUnauthorizedCerts),
		connectionTimeoutMillis: 10_000,
		application_name: 'prompt-release',
	};
}
