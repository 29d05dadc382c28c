import { ConfigError, InputError } from '../errors';
import { contentHash } from '../hash';
import { chooseArm, hasActiveCanary } from '../routing';
import type { RegistryStore } from './store';
import type { ChannelPointer, ResolvedPrompt } from '../types';

/** Which text to use: a channel (default `production`), a pinned version, or the draft. */
export interface PromptRef {
	channel?: string;
	version?: number | 'draft';
}

export interface ResolveOptions {
	/**
	 * The routing key of the item (e.g. the supplier's domain) when the channel runs a canary.
	 * Without one the stable arm serves.
	 */
	routingKey?: string;
}

/**
 * Everything a reference can serve, read once: for a channel its pointer and both arms' texts (the canary
 * only while it is active), for a pinned version or the draft that one text. The arm is chosen per
 * routing key with {@link pickArm}, so caches keep one entry per channel, not one per key.
 */
export interface ReleaseResolution {
	promptId: string;
	channel?: string;
	pointer?: ChannelPointer;
	stable: ResolvedPrompt;
	canary?: ResolvedPrompt;
	/**
	 * Set when a warm cache served this resolution although the registry could not be read just now
	 * (stale-if-error, lib/release-cache.ts): when it was last read, and why it could not be read again.
	 */
	stale?: { since: string; reason: string };
}

/** Parse `3`, `draft` or a channel name given on a command line or in a node parameter. */
export function parseRef(text: string | number | undefined): PromptRef {
	if (text === undefined || text === '') return { channel: 'production' };
	if (typeof text === 'number') return { version: text };
	const t = text.trim();
	if (t === 'draft') return { version: 'draft' };
	if (/^v?[1-9][0-9]*$/.test(t)) return { version: Number(t.replace(/^v/, '')) };
	if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(t)) throw new InputError(`"${t}" is neither a version number, "draft", nor a channel name`);
	return { channel: t };
}

async function readChecked(store: RegistryStore, promptId: string, channel: string, version: number, hash: string, what: string) {
	const frozen = await store.readVersion(promptId, version);
	if (frozen.contentHash !== hash) {
		throw new ConfigError(
			`${what}channel "${channel}" of "${promptId}" points at version ${version} with hash ${hash}, but that version now hashes to ${frozen.contentHash}. Restore versions/${version}.yaml from git.`,
		);
	}
	return frozen;
}

/** Read what a reference serves (see {@link ReleaseResolution}); throws ConfigError naming what to fix. */
export async function loadRelease(store: RegistryStore, promptId: string, ref: PromptRef = {}): Promise<ReleaseResolution> {
	if (ref.version === 'draft') {
		const spec = await store.readDraft(promptId);
		return { promptId, stable: { promptId, version: 'draft', contentHash: contentHash(spec), spec } };
	}
	if (typeof ref.version === 'number') {
		const frozen = await store.readVersion(promptId, ref.version);
		return { promptId, stable: { promptId, version: frozen.version, contentHash: frozen.contentHash, spec: frozen.prompt } };
	}
	const channel = ref.channel ?? 'production';
	const releases = await store.readReleases(promptId);
	const pointer = releases.channels[channel];
	if (!pointer) {
		await store.readDraft(promptId); // an unknown prompt gets "not found", naming the prompts there are
		const versions = await store.listVersions(promptId);
		const hint = versions.length
			? `release one with "prompt-release release ${promptId} --version ${versions[versions.length - 1]} --channel ${channel}", or pin a version`
			: `commit the draft ("prompt-release commit ${promptId}"), test it, then release it`;
		throw new ConfigError(`prompt "${promptId}" has nothing released on channel "${channel}": ${hint}`);
	}
	const active = hasActiveCanary(pointer) ? pointer.canary : undefined;
	const frozen = await readChecked(store, promptId, channel, pointer.version, pointer.contentHash, '');
	const stable: ResolvedPrompt = {
		promptId,
		version: frozen.version,
		contentHash: frozen.contentHash,
		channel,
		arm: 'stable',
		...(active ? { canaryId: active.id } : {}),
		spec: frozen.prompt,
	};
	if (!active) return { promptId, channel, pointer, stable };
	const canaryFrozen = await readChecked(store, promptId, channel, active.version, active.contentHash, `canary ${active.id} of `);
	const canary: ResolvedPrompt = {
		promptId,
		version: canaryFrozen.version,
		contentHash: canaryFrozen.contentHash,
		channel,
		arm: 'canary',
		canaryId: active.id,
		spec: canaryFrozen.prompt,
	};
	return { promptId, channel, pointer, stable, canary };
}

/** The text that serves `routingKey` (stable when there is no key, no active canary, or no channel). */
export function pickArm(resolution: ReleaseResolution, routingKey?: string): ResolvedPrompt {
	const { pointer, canary, channel } = resolution;
	const arm = !pointer || !canary || channel === undefined || routingKey === undefined
		? resolution.stable
		: chooseArm(pointer, resolution.promptId, channel, routingKey) === 'canary' ? canary : resolution.stable;
	return resolution.stale ? { ...arm, stale: resolution.stale } : arm;
}

/** Every text a resolution may serve (stable first): for declared inputs across arms. */
export function candidatesOf(resolution: ReleaseResolution): ResolvedPrompt[] {
	return resolution.canary ? [resolution.stable, resolution.canary] : [resolution.stable];
}

export async function resolvePrompt(store: RegistryStore, promptId: string, ref: PromptRef = {}, options: ResolveOptions = {}): Promise<ResolvedPrompt> {
	return pickArm(await loadRelease(store, promptId, ref), options.routingKey);
}
