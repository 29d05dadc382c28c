/**
 * Per-process cache of resolved prompts, so a workflow run does not re-read the registry for every
 * item, while a release, rollback or canary freeze still reaches running workflows within the TTL.
 * Pinned versions and drafts are cached by the same rule (a draft can change at any time).
 *
 * A channel's entry holds its pointer and both arms' texts; the arm is chosen per routing key on every
 * call (no per-key entries), so the split stays sticky per key across refreshes.
 *
 * Stale-if-error: when a refresh finds the registry unreadable (RegistryUnavailableError: folder gone, permission
 * denied, I/O error, database down; or a file changed in the last 2 s that does not parse yet: being written), the
 * last good resolution keeps serving, marked `stale`, for at most
 * DEFAULT_STALE_IF_ERROR_MS after it was last read, and the registry is tried again on the first call STALE_RETRY_MS
 * later (not a full TTL: a rollback made during an outage is served soon after the registry is back); after that, or on a cold start, the error is thrown. A registry
 * that reads but is wrong (hash mismatch, invalid YAML: a plain ConfigError) is never served stale.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { RegistryUnavailableError, YamlSyntaxError } from './errors';
import { loadRelease, pickArm, type PromptRef, type ReleaseResolution } from './registry/resolve';
import type { RegistryStore } from './registry/store';
import type { ResolvedPrompt } from './types';

export const DEFAULT_CACHE_TTL_MS = 30_000;
/** How long after its last good read a resolution may be served while the registry is unreadable: 10 minutes. */
export const DEFAULT_STALE_IF_ERROR_MS = 10 * 60_000;
/** A registry file that does not parse and changed less than this long ago is taken as being written by someone. */
export const MID_WRITE_WINDOW_MS = 2_000;
/** While a stale resolution is served, the registry is tried again on the first call after this long (not a full TTL). */
export const STALE_RETRY_MS = 1_000;

/**
 * The registry cannot be read right now: RegistryUnavailableError, or a file that does not parse and was changed in
 * the last MID_WRITE_WINDOW_MS (another writer is in the middle of a non-atomic write; this package writes atomically).
 */
export function isUnreadableNow(error: unknown, now = Date.now()): boolean {
	if (error instanceof RegistryUnavailableError) return true;
	const file = error instanceof YamlSyntaxError ? error.location.file : undefined;
	if (!file) return false;
	try {
		return now - statSync(path.resolve(file)).mtimeMs < MID_WRITE_WINDOW_MS;
	} catch {
		return false;
	}
}

interface Entry {
	/** When the value was fetched: each caller's own TTL bounds the age it accepts. */
	at: number;
	value: Promise<ReleaseResolution>;
	/** Set when the value is a stale fallback: the registry is read again on the first call from then on. */
	retryAt?: number;
}

function keyOf(store: RegistryStore, promptId: string, ref: PromptRef): string {
	return JSON.stringify([store.location, promptId, ref.version === undefined ? (ref.channel ?? 'production') : null, ref.version ?? null]);
}

export class ReleaseCache {
	private readonly entries = new Map<string, Entry>();
	/** The last resolution read successfully per key, and when: what stale-if-error may serve. */
	private readonly lastGood = new Map<string, { at: number; value: ReleaseResolution }>();

	constructor(
		private readonly now: () => number = Date.now,
		private readonly staleIfErrorMs = DEFAULT_STALE_IF_ERROR_MS,
	) {}

	/**
	 * Everything the reference serves (both arms of a channel), fetched at most once per TTL. Throws what the
	 * registry read threw — except RegistryUnavailableError within the stale-if-error bound of a last good read,
	 * which resolves to that read marked `stale`.
	 */
	async resolution(store: RegistryStore, promptId: string, ref: PromptRef, ttlMs = DEFAULT_CACHE_TTL_MS): Promise<ReleaseResolution> {
		const key = keyOf(store, promptId, ref);
		const hit = this.entries.get(key);
		const t = this.now();
		if (hit && t - hit.at < ttlMs && (hit.retryAt === undefined || t < hit.retryAt)) return hit.value;
		const value = loadRelease(store, promptId, ref).then(
			(resolution) => {
				this.lastGood.set(key, { at: this.now(), value: resolution });
				return resolution;
			},
			(error: unknown) => {
				const good = this.lastGood.get(key);
				if (!isUnreadableNow(error) || !good || this.now() - good.at > this.staleIfErrorMs) throw error;
				const entry = this.entries.get(key);
				if (entry?.value === value) entry.retryAt = this.now() + STALE_RETRY_MS;
				return { ...good.value, stale: { since: new Date(Date.now() - (this.now() - good.at)).toISOString(), reason: (error as Error).message } };
			},
		);
		this.entries.set(key, { at: t, value });
		// A failed resolution is not cached: the next call tries again.
		value.catch(() => {
			if (this.entries.get(key)?.value === value) this.entries.delete(key);
		});
		return value;
	}

	/** The text serving `routingKey` (stable without a key). */
	async resolve(store: RegistryStore, promptId: string, ref: PromptRef, ttlMs = DEFAULT_CACHE_TTL_MS, routingKey?: string): Promise<ResolvedPrompt> {
		return pickArm(await this.resolution(store, promptId, ref, ttlMs), routingKey);
	}

	/** Forget a channel's entry (e.g. after this process froze its canary), so the next call reads it again. */
	invalidate(store: RegistryStore, promptId: string, channel: string): void {
		this.entries.delete(keyOf(store, promptId, { channel }));
	}

	/**
	 * Forget every entry of a prompt (all channels, pinned versions, draft) of the registry at `location`
	 * (a store's `location`), or of every prompt there without `promptId`. Called when PostgreSQL
	 * notifies a channel change (lib/registry/postgres/listener.ts).
	 */
	invalidatePrompt(location: string, promptId?: string): void {
		const prefix = JSON.stringify(promptId === undefined ? [location] : [location, promptId]).slice(0, -1) + ',';
		for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
	}

	clear(): void {
		this.entries.clear();
		this.lastGood.clear();
	}
}

/** The cache shared by all nodes of this process. */
export const sharedReleaseCache = new ReleaseCache();
