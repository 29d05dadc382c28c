import { ConfigError } from '../errors';
import { contentHash } from '../hash';
import type { RegistryStore } from './store';
import type { FrozenVersion, PromptSpec } from '../types';

export interface CommitOptions {
	message?: string;
	author?: string;
	now?: Date;
}

/**
 * Freeze a spec as the next version (create-only). Refuses when the last version already has exactly
 * this content; `unchanged` words that refusal for the caller.
 */
export async function freezeSpec(
	store: RegistryStore,
	promptId: string,
	spec: PromptSpec,
	options: CommitOptions & { unchanged?: (last: number, hash: string) => string } = {},
): Promise<FrozenVersion> {
	const hash = contentHash(spec);
	// Retry when another process commits at the same moment. Every lost race means another commit
	// succeeded, so the bound only guards against a broken folder, not against many committers.
	for (let attempt = 0; attempt < 100; attempt++) {
		const versions = await store.listVersions(promptId);
		const last = versions[versions.length - 1];
		if (last !== undefined) {
			const previous = await store.readVersion(promptId, last);
			if (previous.contentHash === hash) {
				throw new ConfigError(options.unchanged?.(last, hash) ?? `nothing to commit: version ${last} of "${promptId}" already has exactly this content (${hash})`);
			}
		}
		const frozen: FrozenVersion = {
			version: (last ?? 0) + 1,
			contentHash: hash,
			createdAt: (options.now ?? new Date()).toISOString(),
			...(options.author ? { author: options.author } : {}),
			...(options.message ? { message: options.message } : {}),
			prompt: spec,
		};
		if (await store.createVersion(promptId, frozen)) return frozen;
	}
	throw new ConfigError(`could not commit "${promptId}": versions kept appearing concurrently; try again`);
}

/** Freeze the draft into the next version. Refuses when the draft equals the last version. */
export async function commitDraft(store: RegistryStore, promptId: string, options: CommitOptions = {}): Promise<FrozenVersion> {
	const spec = await store.readDraft(promptId);
	return freezeSpec(store, promptId, spec, {
		...options,
		unchanged: (last, hash) => `nothing to commit: the draft of "${promptId}" equals version ${last} (${hash}). Edit prompt.yaml first.`,
	});
}
