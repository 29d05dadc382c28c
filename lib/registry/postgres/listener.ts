/**
 * Rollback and freeze reach every worker at once: each process holding a release cache keeps one dedicated
 * connection per database (not a pool client) that LISTENs for channel changes and drops the cached entries
 * of that prompt the moment the change commits. While the connection is down the cache TTL still bounds
 * staleness; the listener reconnects with exponential backoff, logs the drop and the reconnect, and on
 * reconnect drops every entry of its schemas (notifications sent meanwhile were missed).
 */
import { Client, type Notification } from 'pg';
import { sharedReleaseCache, type ReleaseCache } from '../../release-cache';
import { parseReleaseChange, RELEASES_CHANNEL } from './notify';
import { clientConfig, connectionKey, locationOf, type PostgresSettings } from './settings';
import { settledSslOption } from './ssl';
import type { PostgresRegistryStore } from './store';

/** The longest wait between reconnect attempts after the database went away. */
export const DEFAULT_MAX_BACKOFF_MS = 5_000;

export type ListenerState = 'connecting' | 'listening' | 'down' | 'closed';

export interface ListenerOptions {
	/** Where drops and reconnects are logged (default: a line on stderr). */
	log?: (message: string) => void;
	/** First reconnect delay in ms (doubles per failed attempt up to maxBackoffMs). Default 250. */
	minBackoffMs?: number;
	/** Longest reconnect delay in ms. Default 5 000 (DEFAULT_MAX_BACKOFF_MS): a rollback made during an outage reaches workers soon after. */
	maxBackoffMs?: number;
}

/** The wait before reconnect attempt `attempt + 1`: minBackoffMs doubling per failed attempt, capped at maxBackoffMs. */
export function reconnectDelay(attempt: number, options: ListenerOptions = {}): number {
	return Math.min(options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, (options.minBackoffMs ?? 250) * 2 ** attempt);
}

/** One LISTEN connection for one database; invalidates the cache entries of every schema registered on it. */
export class ReleaseListener {
	state: ListenerState = 'connecting';
	private client?: Client;
	private attempt = 0;
	private timer?: NodeJS.Timeout;
	/** schema → store locations (cache keys) of that schema. */
	private readonly schemas = new Map<string, Set<string>>();
	private readonly log: (message: string) => void;
	private firstConnect = true;
	/** Resolves once the first LISTEN is in place (or the first attempt failed). */
	readonly started: Promise<void>;

	constructor(
		private readonly settings: PostgresSettings,
		readonly cache: ReleaseCache,
		private readonly options: ListenerOptions = {},
	) {
		this.log = options.log ?? ((m) => process.stderr.write(`${m}\n`));
		this.started = this.connect();
	}

	/** The server process id of the listening connection (for pg_stat_activity), when connected. */
	get backendPid(): number | undefined {
		return this.state === 'listening' ? (this.client as unknown as { processID?: number } | undefined)?.processID : undefined;
	}

	/** Also watch this store's schema. */
	add(store: PostgresRegistryStore): void {
		let set = this.schemas.get(store.schema);
		if (!set) this.schemas.set(store.schema, (set = new Set()));
		set.add(store.location);
	}

	private get label(): string {
		return `${locationOf(this.settings).replace(/\?schema=.*$/, '')}`;
	}

	private onNotification = (msg: Notification): void => {
		if (msg.channel !== RELEASES_CHANNEL) return;
		const change = parseReleaseChange(msg.payload);
		if (!change) return;
		for (const location of this.schemas.get(change.schema) ?? []) this.cache.invalidatePrompt(location, change.promptId);
	};

	private async connect(): Promise<void> {
		if (this.state === 'closed') return;
		this.state = 'connecting';
		const config = clientConfig(this.settings);
		const settled = await settledSslOption(connectionKey(this.settings));
		if (settled !== undefined) config.ssl = settled;
		const client = new Client(config);
		this.client = client;
		client.on('notification', this.onNotification);
		client.on('error', (error) => this.dropped(client, error));
		client.on('end', () => this.dropped(client));
		try {
			await client.connect();
			await client.query(`LISTEN ${RELEASES_CHANNEL}`);
		} catch (error) {
			this.dropped(client, error as Error);
			return;
		}
		if ((this.state as ListenerState) === 'closed') {
			await client.end().catch(() => undefined);
			return;
		}
		this.state = 'listening';
		if (!this.firstConnect) {
			this.log(`prompt-release: release notifications from ${this.label} restored after ${this.attempt} attempt(s); cached releases refreshed`);
			for (const locations of this.schemas.values()) for (const location of locations) this.cache.invalidatePrompt(location);
		}
		this.firstConnect = false;
		this.attempt = 0;
	}

	private dropped(client: Client, error?: Error): void {
		if (client !== this.client || this.state === 'closed' || this.timer) return;
		this.state = 'down';
		client.removeAllListeners('notification');
		client.end().catch(() => undefined);
		const delay = reconnectDelay(this.attempt, this.options);
		this.attempt += 1;
		this.firstConnect = false;
		this.log(
			`prompt-release: release notifications from ${this.label} ${error ? `lost (${error.message})` : 'connection ended'}; caches fall back to their TTL; reconnecting in ${delay} ms (attempt ${this.attempt})`,
		);
		this.timer = setTimeout(() => {
			this.timer = undefined;
			void this.connect();
		}, delay);
		this.timer.unref();
	}

	/** Stop listening and reconnecting. */
	async close(): Promise<void> {
		this.state = 'closed';
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		await this.client?.end().catch(() => undefined);
	}
}

const listeners = new WeakMap<ReleaseCache, Map<string, ReleaseListener>>();
const all = new Set<ReleaseListener>();

/**
 * Make channel changes of `store` drop `cache` entries at once (one listener per database and cache per
 * process; idempotent, cheap to call on every execution). Returns the listener.
 */
export function listenForReleases(store: PostgresRegistryStore, cache: ReleaseCache = sharedReleaseCache, options: ListenerOptions = {}): ReleaseListener {
	let byKey = listeners.get(cache);
	if (!byKey) listeners.set(cache, (byKey = new Map()));
	const key = connectionKey(store.settings);
	let listener = byKey.get(key);
	if (!listener) {
		listener = new ReleaseListener(store.settings, cache, options);
		byKey.set(key, listener);
		all.add(listener);
	}
	listener.add(store);
	return listener;
}

/** Close every listener of this process (tests, shutdown). */
export async function closeListeners(): Promise<void> {
	const open = [...all];
	all.clear();
	for (const l of open) listeners.delete(l.cache);
	await Promise.all(open.map((l) => l.close()));
}
