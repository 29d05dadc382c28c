/**
 * The release gate, releases and rollbacks. A version reaches a channel only with evidence:
 * a stored run of exactly that content that passed every current fixture, with no regressions.
 */
import * as os from 'node:os';
import { ConfigError, ConfigErrors, GateRefusal } from './errors';
import { valuesEqual } from './schema';
import { findRegressions, fixtureInputsHash } from './runner';
import type { RegistryStore } from './registry/store';
import type { Fixture, HistoryEntry, ReleasesState, RunReport } from './types';

export function currentUser(): string {
	if (process.env.PROMPT_RELEASE_USER) return process.env.PROMPT_RELEASE_USER;
	try {
		return os.userInfo().username;
	} catch {
		return 'unknown';
	}
}

/**
 * The run behind the channel's current release, if any (the baseline for regressions).
 * Undefined when the channel has no release or its pointer records no run. When the pointer names a
 * run that cannot be read, throws a ConfigError naming the file: regressions must not go unchecked.
 */
export async function baselineRun(store: RegistryStore, promptId: string, channel = 'production'): Promise<RunReport | undefined> {
	const pointer = (await store.readReleases(promptId)).channels[channel];
	if (!pointer?.runId) return undefined;
	try {
		return await store.readRun(promptId, pointer.runId);
	} catch (error) {
		const problems = error instanceof ConfigErrors ? error.errors : error instanceof ConfigError ? [error] : undefined;
		if (!problems) throw error;
		const file = problems[0].location.file ?? `${promptId}/runs/${pointer.runId}.json`;
		const why = problems.map((p) => (p.message.startsWith(file) ? p.message.slice(file.length).replace(/^(:\d+)?:? */, '') : p.message)).join('; ');
		throw new ConfigError(
			`channel "${channel}" of "${promptId}" was released with run ${pointer.runId}, but that run cannot be read: ${why}. Regressions cannot be checked without it: restore runs/${pointer.runId}.json from git.`,
			{ file },
		);
	}
}

/** The newest stored run of exactly this version and content hash. */
export async function latestRunOf(store: RegistryStore, promptId: string, version: number, contentHash: string): Promise<RunReport | undefined> {
	const ids = await store.listRuns(promptId);
	for (let i = ids.length - 1; i >= 0; i--) {
		const run = await store.readRun(promptId, ids[i]);
		if (run.version === version && run.contentHash === contentHash) return run;
	}
	return undefined;
}

export interface GateVerdict {
	ok: boolean;
	run?: RunReport;
	/** Why the gate refused, one line each. */
	reasons: string[];
	failingFixtures: string[];
}

/** Evaluate the gate for a version without changing anything. */
export async function evaluateGate(store: RegistryStore, promptId: string, version: number, channel = 'production'): Promise<GateVerdict> {
	const frozen = await store.readVersion(promptId, version);
	// Structure only: a fixture whose inputs no longer fit the prompt fails in the run and is named there.
	const fixtures: Fixture[] = await store.listFixtures(promptId);
	if (fixtures.length === 0) {
		return {
			ok: false,
			reasons: [`prompt "${promptId}" has no fixtures: nothing ships untested. Add fixtures under ${promptId}/fixtures/ (or import them), then test version ${version}`],
			failingFixtures: [],
		};
	}
	const run = await latestRunOf(store, promptId, version, frozen.contentHash);
	if (!run) {
		return {
			ok: false,
			reasons: [`no stored test run of version ${version} (${frozen.contentHash}): run "prompt-release test ${promptId} --version ${version}" first`],
			failingFixtures: [],
		};
	}
	const reasons: string[] = [];
	const byId = new Map(run.results.map((r) => [r.fixtureId, r]));
	const stale = (f: Fixture): boolean => {
		const r = byId.get(f.id);
		if (!r || !valuesEqual(f.expected, r.expected)) return true;
		// Runs stored before results carried an inputs hash are judged by expected values only.
		return r.inputsHash !== undefined && r.inputsHash !== fixtureInputsHash(f);
	};
	const missing = fixtures.filter(stale).map((f) => f.id);
	if (missing.length) {
		reasons.push(`run ${run.runId} is out of date: fixtures added or changed since: ${missing.join(', ')}. Run "prompt-release test ${promptId} --version ${version}" again.`);
	}
	const current = new Set(fixtures.map((f) => f.id));
	const failed = run.results.filter((r) => !r.passed && current.has(r.fixtureId));
	if (failed.length) {
		reasons.push(`run ${run.runId} failed ${failed.length} of ${run.results.length} fixtures: ${failed.map((r) => `${r.fixtureId} (${r.reason ?? 'failed'})`).join('; ')}`);
	}
	const baseline = await baselineRun(store, promptId, channel);
	const regressions = findRegressions(run.results, baseline).filter((id) => current.has(id));
	if (regressions.length) {
		reasons.push(`regressions against the run behind "${channel}" (${baseline!.runId}): ${regressions.join(', ')}`);
	}
	return {
		ok: reasons.length === 0,
		run,
		reasons,
		failingFixtures: [...new Set([...failed.map((r) => r.fixtureId), ...regressions, ...missing])],
	};
}

export interface ReleaseOptions {
	channel?: string;
	by?: string;
	reason?: string;
	now?: Date;
}

export interface ReleaseOutcome {
	state: ReleasesState;
	entry?: HistoryEntry;
	/** True when the channel already pointed at that version: nothing was written. */
	unchanged: boolean;
	run: RunReport;
}

/** Put a version on a channel, if the gate allows. Throws GateRefusal naming the failing fixtures otherwise. */
export async function releaseVersion(store: RegistryStore, promptId: string, version: number, options: ReleaseOptions = {}): Promise<ReleaseOutcome> {
	const channel = options.channel ?? 'production';
	const verdict = await evaluateGate(store, promptId, version, channel);
	if (!verdict.ok) {
		throw new GateRefusal(`release of "${promptId}" version ${version} to "${channel}" refused:\n  - ${verdict.reasons.join('\n  - ')}`, verdict.failingFixtures);
	}
	const run = verdict.run!;
	let entry: HistoryEntry | undefined;
	const state = await store.updateReleases(promptId, (s) => {
		const previous = s.channels[channel];
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
			runId: run.runId,
			contentHash: run.contentHash,
		};
		return {
			channels: { ...s.channels, [channel]: { version, contentHash: run.contentHash, since: at, runId: run.runId } },
			history: [...s.history, entry],
		};
	});
	return { state, entry, unchanged: entry === undefined, run };
}

/** The versions a channel went through, oldest first, as releases and rollbacks left them. */
export function channelStack(state: ReleasesState, channel: string): HistoryEntry[] {
	const stack: HistoryEntry[] = [];
	for (const e of state.history) {
		if (e.channel !== channel) continue;
		if (e.action === 'release') stack.push(e);
		else stack.pop();
	}
	return stack;
}

/** Point the channel back at the version it had before the current one. */
export async function rollbackChannel(store: RegistryStore, promptId: string, options: ReleaseOptions = {}): Promise<{ state: ReleasesState; entry: HistoryEntry }> {
	const channel = options.channel ?? 'production';
	let entry: HistoryEntry | undefined;
	const state = await store.updateReleases(promptId, async (s) => {
		const current = s.channels[channel];
		if (!current) throw new ConfigError(`prompt "${promptId}" has nothing released on channel "${channel}": nothing to roll back`);
		const stack = channelStack(s, channel);
		if (stack.length < 2) {
			throw new ConfigError(`nothing to roll back to: version ${current.version} is the only release left on "${promptId}" channel "${channel}"`);
		}
		const target = stack[stack.length - 2];
		// The target must still be intact.
		const frozen = await store.readVersion(promptId, target.version);
		const at = (options.now ?? new Date()).toISOString();
		entry = {
			at,
			action: 'rollback',
			channel,
			version: target.version,
			from: current.version,
			by: options.by ?? currentUser(),
			...(options.reason ? { reason: options.reason } : {}),
			...(target.runId ? { runId: target.runId } : {}),
			contentHash: frozen.contentHash,
		};
		return {
			channels: { ...s.channels, [channel]: { version: target.version, contentHash: frozen.contentHash, since: at, ...(target.runId ? { runId: target.runId } : {}) } },
			history: [...s.history, entry],
		};
	});
	return { state, entry: entry! };
}
