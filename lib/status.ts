import { contentHash } from './hash';
import type { RegistryStore } from './registry/store';
import { armStats, type ArmStats } from './outcomes';
import { approvalsOf, type ApprovalState } from './approvals';
import { loadPolicy } from './policy';
import { latestRunHeaderOf } from './release';
import type { Arm, ChannelPointer, FixtureSource, HistoryEntry, ReleasesState } from './types';

/** Counts and rates of one arm of a canary, as the freeze rules see them, plus the version it served. */
export interface ArmStatus extends ArmStats {
	version: number;
}

export interface CanaryStatus {
	id: string;
	channel: string;
	stableVersion: number;
	version: number;
	percent?: number;
	segments?: string[];
	since: string;
	frozen?: { at: string; reason: string };
	/** The canary was started with --force past a refusing gate. */
	forced?: { reason: string; by: string; at: string };
	arms: Record<Arm, ArmStatus>;
}

/** A channel whose current pointer (or canary) went past a refusing gate with --force. */
export interface ForcedStatus {
	channel: string;
	version: number;
	reason: string;
	by: string;
	at: string;
	canary?: boolean;
}

export interface PromptStatus {
	id: string;
	description: string;
	model: string;
	versions: number[];
	/** True when prompt.yaml differs from the last frozen version (or there is none). */
	draftChanged: boolean;
	channels: Record<string, ChannelPointer>;
	fixtures: { total: number; bySource: Partial<Record<FixtureSource, number>> };
	lastRun?: { runId: string; version: number | 'draft'; passed: number; total: number; passRate: number; regressions: number };
	lastHistory?: HistoryEntry;
	/** Running canaries (one per channel at most), with per-arm counts and rates. */
	canaries?: CanaryStatus[];
	/** Channels whose current version or canary was forced past the gate, with the reason. */
	forced?: ForcedStatus[];
	/** Versions with approvals (`prompt-release approve`), per channel: who counts now, whose approval went stale, how many the policy asks for. */
	approvals?: Array<ApprovalState & { required: number }>;
	/** Review cases waiting for a person (`prompt-release review`; docs/adr/0050-review-queue.md). */
	pendingReviews: number;
}

/** Every (channel, version) with approvals, judged against the version's gating run now. */
async function approvalStatuses(store: RegistryStore, promptId: string, releases: ReleasesState): Promise<Array<ApprovalState & { required: number }>> {
	const pairs = new Map<string, { channel: string; version: number }>();
	for (const e of releases.history) if (e.action === 'approve') pairs.set(`${e.channel}\u0000${e.version}`, { channel: e.channel, version: e.version });
	if (!pairs.size) return [];
	const required = (await loadPolicy(store, promptId)).approvals ?? 0;
	const out: Array<ApprovalState & { required: number }> = [];
	for (const { channel, version } of pairs.values()) {
		const frozen = await store.readVersion(promptId, version);
		const run = await latestRunHeaderOf(store, promptId, version, frozen.contentHash);
		out.push({ ...approvalsOf(releases, channel, version, run?.runId, frozen.author), required });
	}
	return out.sort((a, b) => a.channel.localeCompare(b.channel) || a.version - b.version);
}

export async function promptStatus(store: RegistryStore, promptId: string): Promise<PromptStatus> {
	const spec = await store.readDraft(promptId);
	const versions = await store.listVersions(promptId);
	const last = versions.length ? await store.readVersion(promptId, versions[versions.length - 1]) : undefined;
	const releases = await store.readReleases(promptId);
	const fixtures = await store.listFixtures(promptId);
	const bySource: Partial<Record<FixtureSource, number>> = {};
	for (const f of fixtures) bySource[f.source] = (bySource[f.source] ?? 0) + 1;
	const runs = await store.listRuns(promptId);
	let lastRun: PromptStatus['lastRun'];
	if (runs.length) {
		// The summary document only: the results of a large run are not needed here.
		const run = await store.readRunHeader(promptId, runs[runs.length - 1]);
		lastRun = {
			runId: run.runId,
			version: run.version,
			passed: run.summary.passed,
			total: run.summary.total,
			passRate: run.summary.passRate,
			regressions: run.summary.regressions.length,
		};
	}
	const canaries: CanaryStatus[] = [];
	const forced: ForcedStatus[] = [];
	for (const [channel, pointer] of Object.entries(releases.channels).sort(([a], [b]) => a.localeCompare(b))) {
		if (pointer.forced) {
			const e = [...releases.history].reverse().find((h) => h.channel === channel && h.forced && h.version === pointer.version && (h.action === 'release' || h.action === 'promote' || h.action === 'rollback'));
			// A promotion of a forced canary without a reason of its own: the reason the canary was started with.
			const start = e && !e.reason && e.action === 'promote' && e.canaryId !== undefined ? releases.history.find((h) => h.action === 'canary' && h.canaryId === e.canaryId) : undefined;
			const why = e?.reason ? e : start?.reason ? start : e;
			forced.push({ channel, version: pointer.version, reason: why?.reason ?? '(no reason recorded)', by: why?.by ?? 'unknown', at: e?.at ?? pointer.since });
		}
		const c = pointer.canary;
		if (!c) continue;
		const started = releases.history.find((h) => h.action === 'canary' && h.canaryId === c.id);
		const stats = armStats(await store.readOutcomes(promptId, c.id));
		const forcedCanary = started?.forced ? { reason: started.reason ?? '(no reason recorded)', by: started.by, at: started.at } : undefined;
		if (forcedCanary) forced.push({ channel, version: c.version, ...forcedCanary, canary: true });
		canaries.push({
			id: c.id,
			channel,
			stableVersion: pointer.version,
			version: c.version,
			...(c.percent !== undefined ? { percent: c.percent } : {}),
			...(c.segments ? { segments: c.segments } : {}),
			since: c.since,
			...(c.frozen ? { frozen: c.frozen } : {}),
			...(forcedCanary ? { forced: forcedCanary } : {}),
			arms: { stable: { version: pointer.version, ...stats.stable }, canary: { version: c.version, ...stats.canary } },
		});
	}
	const approvals = await approvalStatuses(store, promptId, releases);
	const pendingReviews = (await store.countReviews(promptId)).pending;
	return {
		id: promptId,
		description: spec.description,
		model: `${spec.model.provider}:${spec.model.name}`,
		versions,
		draftChanged: !last || last.contentHash !== contentHash(spec),
		channels: releases.channels,
		fixtures: { total: fixtures.length, bySource },
		pendingReviews,
		...(lastRun ? { lastRun } : {}),
		...(canaries.length ? { canaries } : {}),
		...(forced.length ? { forced } : {}),
		...(approvals.length ? { approvals } : {}),
		...(releases.history.length ? { lastHistory: releases.history[releases.history.length - 1] } : {}),
	};
}
