/**
 * Frozen versions a process has read and hash-checked, for Record Correction's hot path (docs/adr/0032).
 *
 * Versions are immutable: created once (exclusively), guarded by their content hash. An entry is keyed by
 * store location, prompt and version, and holds the version with the content hash it was verified under.
 * It is only ever used together with that hash: every correction written from it passes the hash to
 * `recordFixtureForInputs`, which checks in storage — in the same step as the write — that the version
 * still has it, and writes nothing otherwise (the entry is then dropped and the version read again). So
 * every correction is still checked against what storage holds; what the cache saves is reading, parsing
 * and re-hashing the whole version each time. A version changed in storage is never served under the old
 * hash, nor the old text under its new hash.
 */
import type { RegistryStore } from './store';
import type { FrozenVersion } from '../types';

const MAX_ENTRIES = 256;

function deepFreeze<T>(value: T): T {
	if (value && typeof value === 'object' && !Object.isFrozen(value)) {
		Object.freeze(value);
		for (const v of Object.values(value)) deepFreeze(v);
	}
	return value;
}

function keyOf(store: RegistryStore, promptId: string, version: number): string {
	return `${store.location}\u0000${promptId}\u0000${version}`;
}

export class VersionCache {
	private readonly entries = new Map<string, FrozenVersion>();

	/**
	 * The version as last verified, else read from storage (the store checks its hash) and kept. The same
	 * object each time, deeply frozen: callers read it, never change it.
	 */
	async get(store: RegistryStore, promptId: string, version: number): Promise<FrozenVersion> {
		const key = keyOf(store, promptId, version);
		let frozen = this.entries.get(key);
		if (!frozen) {
			frozen = deepFreeze(await store.readVersion(promptId, version));
			if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
			this.entries.set(key, frozen);
		}
		return frozen;
	}

	/** Forget a version whose hash no longer matches storage. */
	forget(store: RegistryStore, promptId: string, version: number): void {
		this.entries.delete(keyOf(store, promptId, version));
	}

	/** Forget everything (tests). */
	clear(): void {
		this.entries.clear();
	}
}

/** The process-wide cache used by `recordCorrection`. */
export const verifiedVersions = new VersionCache();
