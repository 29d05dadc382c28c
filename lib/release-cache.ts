/**
 * Per-process cache of resolved prompts, so a workflow run does not re-read the registry for every
 * item, while a release or rollback still reaches running workflows within the TTL.
 * Pinned versions and drafts are cached by the same rule (a draft can change at any time).
 */
import { resolvePrompt, type PromptRef } from './registry/resolve';
import type { RegistryStore } from './registry/store';
import type { ResolvedPrompt } from './types';

export const DEFAULT_CACHE_TTL_MS = 30_000;

interface Entry {
	/** When the value was fetched: each caller's own TTL bounds the age it accepts. */
	at: number;
	value: Promise<ResolvedPrompt>;
}

export class ReleaseCache {
	private readonly entries = new Map<string, Entry>();

	constructor(private readonly now: () => number = Date.now) {}

	async resolve(store: RegistryStore, promptId: string, ref: PromptRef, ttlMs = DEFAULT_CACHE_TTL_MS): Promise<ResolvedPrompt> {
		const key = JSON.stringify([store.location, promptId, ref.channel ?? null, ref.version ?? null]);
		const hit = this.entries.get(key);
		const t = this.now();
		if (hit && t - hit.at < ttlMs) return hit.value;
		const value = resolvePrompt(store, promptId, ref);
		this.entries.set(key, { at: t, value });
		// A failed resolution is not cached: the next call tries again.
		value.catch(() => {
			if (this.entries.get(key)?.value === value) this.entries.delete(key);
		});
		return value;
	}

	clear(): void {
		this.entries.clear();
	}
}

/** The cache shared by all nodes of this process. */
export const sharedReleaseCache = new ReleaseCache();
