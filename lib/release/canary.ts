/** Canaries: a version on part of a channel's traffic, promoted when it does as well, frozen when it does worse. */
import { ConfigError, GateRefusal } from '../errors';
import { randomBytes } from 'node:crypto';
import { type PolicyViolation } from '../policy';
import type { RegistryStore } from '../registry/store';
import type { CanaryArm, ChannelPointer, HistoryEntry, ReleasesState } from '../types';
import { currentUser } from './evidence';
import { evaluateGate, gateOrForce, refusal, type GateVerdict } from './gate';
import { canaryRunning } from './channel';

export function newCanaryId(now: Date = new Date()): string {
	return `canary-${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

export interface CanaryOptions {
	channel?: string;
	/** Share of routing keys that get the canary (0 < percent < 100)… */
	percent?: number;
	/** …or exactly these routing keys. */
	segments?: string[];
	by?: string;
	reason?: string;
	force?: boolean;
	now?: Date;
}

export interface CanaryOutcome {
	state: ReleasesState;
	entry: HistoryEntry;
	canary: CanaryArm;
	verdict: GateVerdict;
	forced: boolean;
}

/** Put `version` on the channel for part of the traffic; the stable version keeps the rest. Gated like a release. */
export async function startCanary(store: RegistryStore, promptId: string, version: number, opts: CanaryOptions): Promise<CanaryOutcome> {
	const channel = opts.channel ?? 'production';
	const hasPercent = opts.percent !== undefined;
	const segments = opts.segments?.map((x) => x.trim()).filter(Boolean);
	if (hasPercent === (segments !== undefined)) throw new ConfigError('a canary takes either a percentage (--canary P) or segments (--segments a,b), not both and not neither');
	if (hasPercent && !(Number.isFinite(opts.percent) && opts.percent! > 0 && opts.percent! < 100)) {
		throw new ConfigError(`canary percentage ${opts.percent} is invalid: give a number above 0 and below 100 (use a full release for 100)`);
	}
	if (segments !== undefined && segments.length === 0) throw new ConfigError('--segments needs at least one routing key, e.g. --segments internal,acme-metals');
	const check = (pointer: ChannelPointer | undefined): ChannelPointer => {
		if (!pointer) throw new ConfigError(`prompt "${promptId}" has no stable version on channel "${channel}": release one first, then start a canary next to it`);
		if (pointer.canary) throw canaryRunning(promptId, channel, pointer.canary);
		if (pointer.version === version) throw new ConfigError(`version ${version} is already the stable version on "${channel}": a canary needs another version`);
		return pointer;
	};
	check((await store.readReleases(promptId)).channels[channel]);
	const { verdict, forced } = await gateOrForce(store, promptId, version, channel, `canary of "${promptId}" version ${version} on "${channel}"`, opts);
	const run = verdict.run;
	const contentHash = run?.contentHash ?? (await store.readVersion(promptId, version)).contentHash;
	const now = opts.now ?? new Date();
	const at = now.toISOString();
	const canary: CanaryArm = {
		id: newCanaryId(now),
		version,
		contentHash,
		since: at,
		...(run ? { runId: run.runId } : {}),
		...(hasPercent ? { percent: opts.percent } : { segments }),
	};
	let entry: HistoryEntry | undefined;
	const state = await store.updateReleases(promptId, (s) => {
		const pointer = check(s.channels[channel]);
		entry = {
			at,
			action: 'canary',
			channel,
			version,
			from: pointer.version,
			by: opts.by ?? currentUser(),
			...(opts.reason ? { reason: opts.reason } : {}),
			...(run ? { runId: run.runId } : {}),
			contentHash,
			...(forced ? { forced: true } : {}),
			...(hasPercent ? { percent: opts.percent } : { segments }),
			canaryId: canary.id,
		};
		return { channels: { ...s.channels, [channel]: { ...pointer, canary } }, history: [...s.history, entry] };
	});
	return { state, entry: entry!, canary, verdict, forced };
}

export interface PromoteOptions {
	channel?: string;
	by?: string;
	reason?: string;
	/** Promote although the canary is frozen or the gate refuses; needs a reason; recorded as forced. */
	force?: boolean;
	now?: Date;
}

export interface PromoteOutcome {
	state: ReleasesState;
	entry: HistoryEntry;
	/** The gate re-run for the canary version at promotion time. */
	verdict: GateVerdict;
	/** Why the promotion was refused without --force: a frozen canary (rule `frozen`), then the gate's violations. */
	overridden: PolicyViolation[];
	/** True when the promotion went past a frozen canary or a refusing gate with --force (or the canary itself was forced). */
	forced: boolean;
}

/**
 * The canary takes 100 %: it becomes the stable version, the canary arm is removed. Refused (GateRefusal)
 * when the canary is frozen or the release gate, evaluated again now for the canary version on that
 * channel (current fixtures, policy and comparison rules), refuses — unless `force` with a reason.
 */
export async function promoteCanary(store: RegistryStore, promptId: string, opts: PromoteOptions = {}): Promise<PromoteOutcome> {
	const channel = opts.channel ?? 'production';
	if (opts.force && !opts.reason?.trim()) {
		throw new ConfigError(`--force needs --reason "…": forcing a promotion past a frozen canary or the gate is recorded in the history and shown by status`);
	}
	const noCanary = (): ConfigError =>
		new ConfigError(`no canary is running on "${promptId}" channel "${channel}": nothing to promote (start one with "prompt-release release ${promptId} --version N --canary P")`);
	const current = (await store.readReleases(promptId)).channels[channel]?.canary;
	if (!current) throw noCanary();
	const what = `promotion of canary ${current.id} (version ${current.version}) on "${promptId}" channel "${channel}"`;
	const verdict = await evaluateGate(store, promptId, current.version, channel);
	const problems = (canary: CanaryArm): PolicyViolation[] => [
		...(canary.frozen ? [{ rule: 'frozen', message: `the canary was frozen at ${canary.frozen.at}: ${canary.frozen.reason}. End it ("prompt-release rollback ${promptId}") or promote with --force --reason "…"`, fixtures: [] }] : []),
		...verdict.violations,
	];
	const refuse = (violations: PolicyViolation[]): GateRefusal => refusal(what, { ...verdict, violations });
	const before = problems(current);
	if (before.length && !opts.force) throw refuse(before);
	let entry: HistoryEntry | undefined;
	let overridden: PolicyViolation[] = [];
	let forced = false;
	const state = await store.updateReleases(promptId, (s) => {
		const pointer = s.channels[channel];
		const canary = pointer?.canary;
		if (!pointer || !canary) throw noCanary();
		if (canary.id !== current.id) throw new ConfigError(`the canary on "${promptId}" channel "${channel}" changed while promoting (now ${canary.id}): check "prompt-release status ${promptId}" and try again`);
		overridden = problems(canary);
		if (overridden.length && !opts.force) throw refuse(overridden);
		const started = s.history.find((e) => e.action === 'canary' && e.canaryId === canary.id);
		const startedForced = started?.forced === true;
		forced = startedForced || overridden.length > 0;
		// A forced canary promoted without a new reason keeps the reason (and who gave it) it was started with.
		const reason = opts.reason?.trim() ? opts.reason : startedForced ? started?.reason : undefined;
		const runId = verdict.ok && verdict.run ? verdict.run.runId : canary.runId;
		const at = (opts.now ?? new Date()).toISOString();
		entry = {
			at,
			action: 'promote',
			channel,
			version: canary.version,
			from: pointer.version,
			by: opts.by ?? currentUser(),
			...(reason ? { reason } : {}),
			...(runId ? { runId } : {}),
			contentHash: canary.contentHash,
			...(forced ? { forced: true } : {}),
			canaryId: canary.id,
		};
		const next: ChannelPointer = { version: canary.version, contentHash: canary.contentHash, since: at, ...(runId ? { runId } : {}), ...(forced ? { forced: true } : {}) };
		return { channels: { ...s.channels, [channel]: next }, history: [...s.history, entry] };
	});
	return { state, entry: entry!, verdict, overridden, forced };
}

/**
 * Freeze a canary that breached a freeze rule: all traffic goes back to stable until promote or
 * rollback. Idempotent: false (nothing written) when that canary is not running, already frozen, or
 * another canary runs now.
 */
export async function freezeCanary(store: RegistryStore, promptId: string, channel: string, canaryId: string, reason: string, opts: { by?: string; now?: Date } = {}): Promise<boolean> {
	const applies = (p: ChannelPointer | undefined): boolean => p?.canary?.id === canaryId && !p.canary.frozen;
	if (!applies((await store.readReleases(promptId)).channels[channel])) return false;
	let frozen = false;
	await store.updateReleases(promptId, (s) => {
		const pointer = s.channels[channel];
		if (!applies(pointer)) return s;
		const canary = pointer.canary!;
		const at = (opts.now ?? new Date()).toISOString();
		frozen = true;
		const entry: HistoryEntry = {
			at,
			action: 'freeze',
			channel,
			version: pointer.version,
			from: canary.version,
			by: opts.by ?? 'prompt-release (freeze rule)',
			reason,
			contentHash: pointer.contentHash,
			canaryId,
		};
		return { channels: { ...s.channels, [channel]: { ...pointer, canary: { ...canary, frozen: { at, reason } } } }, history: [...s.history, entry] };
	});
	return frozen;
}
