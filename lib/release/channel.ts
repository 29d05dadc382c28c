/** Releases and rollbacks of a channel, gated (./gate.ts) and recorded in the release history. */
import { GateRefusal } from '../errors';
import type { RegistryStore } from '../registry/store';
import type { CanaryArm, ChannelPointer, HistoryEntry, ReleasesState, RunHeader } from '../types';
import { currentUser } from './evidence';
import { gateOrForce, type GateVerdict } from './gate';

export interface ReleaseOptions {
	channel?: string;
	by?: string;
	reason?: string;
	/** Release even though the gate refuses; needs a reason; recorded as forced in history and pointer. */
	force?: boolean;
	now?: Date;
}

export interface ReleaseOutcome {
	state: ReleasesState;
	entry?: HistoryEntry;
	/** True when the channel already pointed at that version: nothing was written. */
	unchanged: boolean;
	/** The evidence run's summary document (absent only for a forced release without any run). */
	run?: RunHeader;
	verdict: GateVerdict;
	/** True when the gate refused and --force put the version on the channel anyway. */
	forced: boolean;
}

/** Put a version on a channel, if the gate allows (or --force with a reason). Throws GateRefusal naming rules and fixtures otherwise. */
export async function releaseVersion(store: RegistryStore, promptId: string, version: number, options: ReleaseOptions = {}): Promise<ReleaseOutcome> {
	const channel = options.channel ?? 'production';
	const before = (await store.readReleases(promptId)).channels[channel];
	if (before?.canary) throw canaryRunning(promptId, channel, before.canary);
	const { verdict, forced } = await gateOrForce(store, promptId, version, channel, `release of "${promptId}" version ${version} to "${channel}"`, options);
	const run = verdict.run;
	const contentHash = run?.contentHash ?? (await store.readVersion(promptId, version)).contentHash;
	let entry: HistoryEntry | undefined;
	const state = await store.updateReleases(promptId, (s) => {
		const previous = s.channels[channel];
		if (previous?.canary) throw canaryRunning(promptId, channel, previous.canary);
		if (previous?.version === version) return s;
		const at = (options.now ?? new Date()).toISOString();
		entry = {
			at,
			action: 'release',
			channel,
			version,
			...(previous ? { from: previous.version } : {}),
			by: options.by ?? currentUser(),
			...(options.reason ? { reason: options.reason } : {}),
			...(run ? { runId: run.runId } : {}),
			contentHash,
			...(forced ? { forced: true } : {}),
		};
		const pointer: ChannelPointer = { version, contentHash, since: at, ...(run ? { runId: run.runId } : {}), ...(forced ? { forced: true } : {}) };
		return { channels: { ...s.channels, [channel]: pointer }, history: [...s.history, entry] };
	});
	return { state, entry, unchanged: entry === undefined, run, verdict, forced: entry !== undefined && forced };
}

/** Why a release or canary cannot start while a canary runs on the channel. */
export function canaryRunning(promptId: string, channel: string, canary: CanaryArm): GateRefusal {
	return new GateRefusal(
		`a canary of version ${canary.version} is running on "${promptId}" channel "${channel}"${canary.frozen ? ' (frozen)' : ''}: promote it ("prompt-release promote ${promptId}") or end it ("prompt-release rollback ${promptId}") first`,
	);
}

/** The versions a channel went through, oldest first: releases and promotions push, rollbacks pop (a rollback that ends a canary does not). */
export function channelStack(state: ReleasesState, channel: string): HistoryEntry[] {
	const stack: HistoryEntry[] = [];
	for (const e of state.history) {
		if (e.channel !== channel) continue;
		if (e.action === 'release' || e.action === 'promote') stack.push(e);
		else if (e.action === 'rollback' && e.canaryId === undefined) stack.pop();
	}
	return stack;
}

/**
 * End a running canary (frozen or not; the stable version stays), or else point the channel back
 * at the version it had before the current one.
 */
/** A rollback refused because there is nothing to roll back (to): exit 1 in the CLI, on every store alike. */
export class RollbackRefused extends GateRefusal {}

export async function rollbackChannel(store: RegistryStore, promptId: string, options: ReleaseOptions = {}): Promise<{ state: ReleasesState; entry: HistoryEntry }> {
	const channel = options.channel ?? 'production';
	let entry: HistoryEntry | undefined;
	const state = await store.updateReleases(promptId, async (s) => {
		const current = s.channels[channel];
		if (!current) throw new RollbackRefused(`prompt "${promptId}" has nothing released on channel "${channel}": nothing to roll back`);
		const at = (options.now ?? new Date()).toISOString();
		const by = options.by ?? currentUser();
		if (current.canary) {
			const canary = current.canary;
			entry = {
				at,
				action: 'rollback',
				channel,
				version: current.version,
				from: canary.version,
				by,
				...(options.reason ? { reason: options.reason } : {}),
				...(current.runId ? { runId: current.runId } : {}),
				contentHash: current.contentHash,
				canaryId: canary.id,
			};
			const { canary: _ended, ...stable } = current;
			void _ended;
			return { channels: { ...s.channels, [channel]: stable }, history: [...s.history, entry] };
		}
		const stack = channelStack(s, channel);
		if (stack.length < 2) {
			throw new RollbackRefused(`nothing to roll back to: version ${current.version} is the only release left on "${promptId}" channel "${channel}"`);
		}
		const target = stack[stack.length - 2];
		// The target must still be intact.
		const frozen = await store.readVersion(promptId, target.version);
		entry = {
			at,
			action: 'rollback',
			channel,
			version: target.version,
			from: current.version,
			by,
			...(options.reason ? { reason: options.reason } : {}),
			...(target.runId ? { runId: target.runId } : {}),
			contentHash: frozen.contentHash,
		};
		const pointer: ChannelPointer = {
			version: target.version,
			contentHash: frozen.contentHash,
			since: at,
			...(target.runId ? { runId: target.runId } : {}),
			...(target.forced ? { forced: true } : {}),
		};
		return { channels: { ...s.channels, [channel]: pointer }, history: [...s.history, entry] };
	});
	return { state, entry: entry! };
}
