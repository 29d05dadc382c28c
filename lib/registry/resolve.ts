import { ConfigError, InputError } from '../errors';
import { contentHash } from '../hash';
import type { RegistryStore } from './store';
import type { ResolvedPrompt } from '../types';

/** Which text to use: a channel (default `production`), a pinned version, or the draft. */
export interface PromptRef {
	channel?: string;
	version?: number | 'draft';
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

export async function resolvePrompt(store: RegistryStore, promptId: string, ref: PromptRef = {}): Promise<ResolvedPrompt> {
	if (ref.version === 'draft') {
		const spec = await store.readDraft(promptId);
		return { promptId, version: 'draft', contentHash: contentHash(spec), spec };
	}
	if (typeof ref.version === 'number') {
		const frozen = await store.readVersion(promptId, ref.version);
		return { promptId, version: frozen.version, contentHash: frozen.contentHash, spec: frozen.prompt };
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
	const frozen = await store.readVersion(promptId, pointer.version);
	if (frozen.contentHash !== pointer.contentHash) {
		throw new ConfigError(
			`channel "${channel}" of "${promptId}" points at version ${pointer.version} with hash ${pointer.contentHash}, but that version now hashes to ${frozen.contentHash}. Restore versions/${pointer.version}.yaml from git.`,
		);
	}
	return { promptId, version: frozen.version, contentHash: frozen.contentHash, channel, spec: frozen.prompt };
}
