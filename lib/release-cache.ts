/**
 * Per-process cache of resolved prompts, so a workflow run does not re-read the registry for every
 * item, while a release, rollback or canary freeze still reaches running workflows within the TTL.
 * Pinned versions and drafts are cached by the same rule (a draft can change at any time).
 *
 * A channel's entry holds its pointer and both arms' texts; the arm is chosen per routing key on every
 * call (no per-key entries), so the split stays sticky per key across refreshes.
 */
import { loadRelease, pickArm, type PromptRef, type ReleaseResolution } from './registry/resolve';
import type { RegistryStore } from './registry/store';
import type { ResolvedPrompt } from './types';

export const DEFAULT_CACHE_TTL_MS = 30_000;

interface Entry {
	/** When the value was fetched: each caller's own TTL bounds the age it accepts. */
	at: number;
	value: Promise<ReleaseResolution>;
}

function keyOf(store: RegistryStore, promptId: string, ref: PromptRef): string {
	return JSON.stringify([store.location, promptId, ref.version === undefined ? (ref.channel ?? 'production') : null, ref.version ?? null]);
}

export class ReleaseCache {
	private readonly entries = new Map<string, Entry>();

	constructor(private readonly now: () => number = Date.now) {}

	/** Everything the reference serves (both arms of a channel), fetched at most once per TTL. */
	async resolution(store: RegistryStore, promptId: string, ref: PromptRef, ttlMs = DEFAULT_CACHE_TTL_MS): Promise<ReleaseResolution> {
		const key = keyOf(store, promptId, ref);
		const hit = this.entries.get(key);
		const t = this.now();
		if (hit && t - hit.at < ttlMs) return hit.value;
		const value = loadRelease(store, promptId, ref);
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
	}
}

/** The cache shared by all nodes of this process. */
export const sharedReleaseCache = new ReleaseCache();
