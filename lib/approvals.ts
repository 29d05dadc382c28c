/**
 * Two-person approval (design: docs/adr/0041): policy `approvals: N` holds a release (and a promotion) until
 * N people other than the version's author approved it with `prompt-release approve`. An approval is a
 * history entry (`action: approve`) naming the run it approved; it counts only while that run is still the
 * version's gating run (the newest stored run of exactly that content), so new evidence needs new approvals.
 * People are told apart by `identityKey` (trimmed, NFKC, case-folded: `Bob` and `BOB` are one person, and
 * ` Alice ` is the author `alice`); names are recorded as typed. Names are not authenticated: they come from
 * `$PROMPT_RELEASE_USER` or the OS user.
 */
import { ConfigError } from './errors';
import { identityKey, sameIdentity } from './identity';
import { currentUser, latestRunHeaderOf } from './release';
import type { RegistryStore } from './registry/store';
import type { HistoryEntry, ReleasesState } from './types';

export interface Approval {
	by: string;
	at: string;
	reason?: string;
	runId?: string;
	channel: string;
}

export interface ApprovalState {
	channel: string;
	version: number;
	/** Approvals that count: of the gating run, by people other than the author, one per person (the first), people told apart by `identityKey`; blank names never count. */
	valid: Approval[];
	/** Approvals of an earlier run of the version (the evidence changed since): they no longer count. */
	stale: Approval[];
	/** The version's author (from its frozen file), who cannot approve it. */
	author?: string;
	/** The run approvals must name: the newest stored run of exactly this version. */
	runId?: string;
}

function toApproval(e: HistoryEntry): Approval {
	return { by: e.by, at: e.at, channel: e.channel, ...(e.reason ? { reason: e.reason } : {}), ...(e.runId ? { runId: e.runId } : {}) };
}

/**
 * The approvals of `version` on `channel` judged against the gating run `runId`: valid ones (distinct people,
 * not the author, compared by `identityKey`) and stale ones (another run). Approvals with a blank name (a
 * hand-edited history) count for nobody. Pure: reads only the history.
 */
export function approvalsOf(state: ReleasesState, channel: string, version: number, runId: string | undefined, author?: string): ApprovalState {
	const valid: Approval[] = [];
	const stale: Approval[] = [];
	const seen = new Set<string>();
	for (const e of state.history) {
		if (e.action !== 'approve' || e.channel !== channel || e.version !== version) continue;
		if (runId === undefined || e.runId !== runId) {
			stale.push(toApproval(e));
			continue;
		}
		const who = identityKey(e.by);
		if (who === '' || sameIdentity(e.by, author) || seen.has(who)) continue;
		seen.add(who);
		valid.push(toApproval(e));
	}
	return { channel, version, valid, stale, ...(author !== undefined ? { author } : {}), ...(runId !== undefined ? { runId } : {}) };
}

/** The approval state of a version on a channel, read from the registry (its author and gating run). */
export async function approvalState(store: RegistryStore, promptId: string, version: number, channel = 'production'): Promise<ApprovalState> {
	const frozen = await store.readVersion(promptId, version);
	const run = await latestRunHeaderOf(store, promptId, version, frozen.contentHash);
	return approvalsOf(await store.readReleases(promptId), channel, version, run?.runId, frozen.author);
}

export interface ApproveOptions {
	channel?: string;
	by?: string;
	reason?: string;
	now?: Date;
}

/**
 * Record that `by` (default: $PROMPT_RELEASE_USER or the OS user) approves `version` for `channel`, naming
 * the version's gating run; `by` is recorded as typed. Refused (ConfigError) for a blank name, for the
 * version's author (compared by `identityKey`: ` Alice ` is `alice`) and for a version without a stored run.
 * Approving the same run twice, under any spelling of the same name, writes nothing (`unchanged`).
 */
export async function approveVersion(store: RegistryStore, promptId: string, version: number, options: ApproveOptions = {}): Promise<{ entry?: HistoryEntry; unchanged: boolean; state: ApprovalState }> {
	const channel = options.channel ?? 'production';
	const by = options.by ?? currentUser();
	if (identityKey(by) === '') {
		throw new ConfigError(`the approver's name is blank (${JSON.stringify(by)}): set PROMPT_RELEASE_USER to who approves, e.g. PROMPT_RELEASE_USER=bob`);
	}
	const frozen = await store.readVersion(promptId, version);
	if (sameIdentity(by, frozen.author)) {
		const spelled = frozen.author === by ? '' : ` (as "${frozen.author}")`;
		throw new ConfigError(`${by} committed version ${version} of "${promptId}"${spelled} and cannot approve it: approvals must come from other people (set PROMPT_RELEASE_USER to who approves)`);
	}
	const run = await latestRunHeaderOf(store, promptId, version, frozen.contentHash);
	if (!run) throw new ConfigError(`version ${version} of "${promptId}" has no stored test run to approve: run "prompt-release test ${promptId} --version ${version}" first`);
	let entry: HistoryEntry | undefined;
	await store.updateReleases(promptId, (s) => {
		if (s.history.some((e) => e.action === 'approve' && e.channel === channel && e.version === version && sameIdentity(e.by, by) && e.runId === run.runId)) return s;
		entry = {
			at: (options.now ?? new Date()).toISOString(),
			action: 'approve',
			channel,
			version,
			by,
			...(options.reason ? { reason: options.reason } : {}),
			runId: run.runId,
			contentHash: frozen.contentHash,
		};
		return { ...s, history: [...s.history, entry] };
	});
	return { ...(entry ? { entry } : {}), unchanged: entry === undefined, state: await approvalState(store, promptId, version, channel) };
}

/**
 * The gate's `approvals` rule for prompt `promptId`: skipped when not set (or 0); refused below N, naming who
 * approved, what is missing and the command a reviewer runs (`prompt-release approve <promptId> --version N`).
 */
export function checkApprovals(required: number | undefined, state: ApprovalState, promptId: string): { status: 'pass' | 'fail' | 'skipped'; message: string } {
	if (!required) return { status: 'skipped', message: 'not set' };
	const who = state.valid.map((a) => a.by);
	const have = `${who.length} of ${required} approval(s)${who.length ? ` (${who.join(', ')})` : ''}`;
	if (who.length >= required) return { status: 'pass', message: `${have} for run ${state.runId}` };
	const staleNote = state.stale.length ? `; ${state.stale.map((a) => `${a.by}'s approval of run ${a.runId ?? '?'}`).join(', ')} no longer count${state.stale.length === 1 ? 's' : ''}: the evidence changed since (newest run ${state.runId ?? 'none'})` : '';
	const authorNote = state.author ? ` other than the author ${state.author}` : '';
	return {
		status: 'fail',
		message: `version ${state.version} has ${have} for run ${state.runId ?? '(none)'} on "${state.channel}"; the policy asks for ${required} from people${authorNote}${staleNote}. Ask a reviewer to run "prompt-release approve ${promptId} --version ${state.version}${state.channel !== 'production' ? ` --channel ${state.channel}` : ''}"`,
	};
}
