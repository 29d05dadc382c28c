/**
 * The release gate, releases and rollbacks. A version reaches a channel only with evidence:
 * a stored run of exactly that content that covers every current fixture and satisfies the policy
 * (lib/policy.ts), unless forced with a reason (recorded loudly).
 */
import * as os from 'node:os';
import { ConfigError, ConfigErrors, GateRefusal } from './errors';
import { randomBytes } from 'node:crypto';
import { valuesEqual } from './schema';
import { checkPolicyFacts, DEFAULT_POLICY, loadPolicy, POLICY_RULES, type Policy, type PolicyCheck, type PolicyViolation } from './policy';
import { baselineFactsOf, RunFactsBuilder } from './run-facts';
import { fixtureCompareHash, fixtureInputsHash, type BaselineView } from './runner';
import type { RegistryStore } from './registry/store';
import type { CanaryArm, ChannelPointer, Fixture, HistoryEntry, ReleasesState, RunHeader, RunReport } from './types';

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
	return readPointedRun(store, promptId, channel, (runId) => store.readRun(promptId, runId));
}

/** `baselineRun` without the results (the summary document only), for large runs. */
export async function baselineRunHeader(store: RegistryStore, promptId: string, channel = 'production'): Promise<RunHeader | undefined> {
	return readPointedRun(store, promptId, channel, (runId) => store.readRunHeader(promptId, runId));
}

async function readPointedRun<T>(store: RegistryStore, promptId: string, channel: string, read: (runId: string) => Promise<T>): Promise<T | undefined> {
	const pointer = (await store.readReleases(promptId)).channels[channel];
	if (!pointer?.runId) return undefined;
	try {
		return await read(pointer.runId);
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

/** The summary document of the newest stored run of exactly this version and content hash. */
export async function latestRunHeaderOf(store: RegistryStore, promptId: string, version: number, contentHash: string): Promise<RunHeader | undefined> {
	const ids = await store.listRuns(promptId);
	for (let i = ids.length - 1; i >= 0; i--) {
		const header = await store.readRunHeader(promptId, ids[i]);
		if (header.version === version && header.contentHash === contentHash) return header;
	}
	return undefined;
}

/** The newest stored run of exactly this version and content hash. */
export async function latestRunOf(store: RegistryStore, promptId: string, version: number, contentHash: string): Promise<RunReport | undefined> {
	const ids = await store.listRuns(promptId);
	for (let i = ids.length - 1; i >= 0; i--) {
		// Summary documents only: the results of a large run are read once the run is found.
		const header = await store.readRunHeader(promptId, ids[i]);
		if (header.version === version && header.contentHash === contentHash) return store.readRun(promptId, ids[i]);
	}
	return undefined;
}

/**
 * The fixtures that passed in a stored run, read one result at a time: what regressions are judged
 * against, without holding the run's results.
 */
export async function baselineView(store: RegistryStore, promptId: string, runId: string): Promise<BaselineView> {
	const passed = new Set<string>();
	for await (const r of store.readRunResults(promptId, runId)) if (r.passed) passed.add(r.fixtureId);
	return { runId, passed };
}

export interface GateVerdict {
	ok: boolean;
	/** The evidence run's summary document (its results are read as a stream, never held). */
	run?: RunHeader;
	/** The run behind the channel the run was compared with, when there is one. */
	baseline?: RunHeader;
	policy: Policy;
	/** Why the gate refused, one line each (evidence problems, then policy violations). */
	reasons: string[];
	/** Every refusal with its rule: `evidence` (no fixtures, no run, out-of-date run) or a policy key. */
	violations: PolicyViolation[];
	/** Every rule's outcome, `evidence` first: `skipped` (with why) when it could not be checked. */
	checks: PolicyCheck[];
	failingFixtures: string[];
	/** Why each failing fixture failed in the run, when it did (for reports such as the gate's JUnit). */
	fixtureReasons?: Record<string, string>;
}

/** Evaluate the gate for a version without changing anything: evidence first, then the policy. */
export async function evaluateGate(store: RegistryStore, promptId: string, version: number, channel = 'production', options: { policy?: Policy } = {}): Promise<GateVerdict> {
	const policy = options.policy ?? (await loadPolicy(store, promptId));
	const frozen = await store.readVersion(promptId, version);
	const refuse = (message: string, run?: RunHeader): GateVerdict => ({
		ok: false,
		policy,
		...(run ? { run } : {}),
		reasons: [message],
		violations: [{ rule: 'evidence', message, fixtures: [] }],
		checks: [{ rule: 'evidence', status: 'fail', message }, ...POLICY_RULES.map((rule): PolicyCheck => ({ rule, status: 'skipped', message: 'no evidence run to check' }))],
		failingFixtures: [],
	});
	// Structure only: a fixture whose inputs no longer fit the prompt fails in the run and is named there.
	// One pass over the fixtures and one over the run's results: what each fixture needs, never every result.
	// Tags are kept from the fixtures as they are now: tagging a fixture needs no new run.
	const fixtures = new Map<string, { expected: Fixture['expected']; inputsHash: string; compareHash: string; tags?: string[] }>();
	for await (const f of store.streamFixtures(promptId)) {
		fixtures.set(f.id, { expected: f.expected, inputsHash: fixtureInputsHash(f), compareHash: fixtureCompareHash(policy.compare, f), ...(f.tags?.length ? { tags: f.tags } : {}) });
	}
	if (fixtures.size === 0) {
		return refuse(`prompt "${promptId}" has no fixtures: nothing ships untested. Add fixtures under ${promptId}/fixtures/ (or import them), then test version ${version}`);
	}
	const run = await latestRunHeaderOf(store, promptId, version, frozen.contentHash);
	if (!run) {
		return refuse(`no stored test run of version ${version} (${frozen.contentHash}): run "prompt-release test ${promptId} --version ${version}" first`);
	}
	const baselineHeader = await baselineRunHeader(store, promptId, channel);
	const baseline = baselineHeader ? baselineFactsOf({ ...baselineHeader, passed: (await baselineView(store, promptId, baselineHeader.runId)).passed }) : undefined;
	// The policy judges the run over the current fixtures only (removed fixtures no longer count).
	const judged = new RunFactsBuilder(run, baseline?.passed, policy.maxEvidenceAgeHours ?? DEFAULT_POLICY.maxEvidenceAgeHours, frozen.prompt.output);
	// Per fixture, from its (last) result: covered, out of date, or judged with other comparison rules.
	const status = new Map<string, 'ok' | 'stale' | 'rules'>();
	for await (const r of store.readRunResults(promptId, run.runId)) {
		const f = fixtures.get(r.fixtureId);
		if (!f) continue;
		const { tags: _ran, ...rest } = r;
		void _ran;
		judged.add(f.tags ? { ...rest, tags: f.tags } : rest);
		// Runs stored before results carried an inputs (compare) hash are judged by expected values (as before).
		if (!valuesEqual(f.expected, r.expected) || (r.inputsHash !== undefined && r.inputsHash !== f.inputsHash)) status.set(r.fixtureId, 'stale');
		else status.set(r.fixtureId, r.compareHash !== undefined && r.compareHash !== f.compareHash ? 'rules' : 'ok');
	}
	const violations: PolicyViolation[] = [];
	const missing = [...fixtures.keys()].filter((id) => (status.get(id) ?? 'stale') === 'stale');
	if (missing.length) {
		violations.push({
			rule: 'evidence',
			message: `run ${run.runId} is out of date: fixtures added or changed since: ${missing.join(', ')}. Run "prompt-release test ${promptId} --version ${version}" again.`,
			fixtures: missing,
		});
	}
	const rulesChanged = [...fixtures.keys()].filter((id) => status.get(id) === 'rules');
	if (rulesChanged.length) {
		violations.push({
			rule: 'evidence',
			message: `comparison rules changed since run ${run.runId} (policy or fixture "compare" for: ${rulesChanged.join(', ')}): rerun test ("prompt-release test ${promptId} --version ${version}")`,
			fixtures: rulesChanged,
		});
	}
	const evidence = violations.filter((v) => v.rule === 'evidence');
	const checks: PolicyCheck[] = [
		evidence.length
			? { rule: 'evidence', status: 'fail', message: evidence.map((v) => v.message).join('; ') }
			: { rule: 'evidence', status: 'pass', message: `run ${run.runId} covers every current fixture` },
	];
	const facts = judged.done();
	const checked = checkPolicyFacts(facts, baseline, policy, { channel, pricing: await store.readPricing() });
	violations.push(...checked.violations);
	checks.push(...checked.checks);
	// Approvals name the run they approved: they count only while it is this version's gating run.
	const { approvalsOf, checkApprovals } = await import('./approvals');
	const approvals = checkApprovals(policy.approvals, approvalsOf(await store.readReleases(promptId), channel, version, run.runId, frozen.author));
	if (approvals.status === 'fail') violations.push({ rule: 'approvals', message: approvals.message, fixtures: [] });
	checks.push({ rule: 'approvals', status: approvals.status, message: approvals.message });
	const failingFixtures = [...new Set(violations.flatMap((v) => v.fixtures))];
	const failing = new Set(failingFixtures);
	return {
		ok: violations.length === 0,
		run,
		...(baselineHeader ? { baseline: baselineHeader } : {}),
		policy,
		reasons: violations.map((v) => v.message),
		violations,
		checks,
		failingFixtures,
		fixtureReasons: Object.fromEntries(facts.failed.filter((f) => failing.has(f.fixtureId) && f.reason !== undefined).map((f) => [f.fixtureId, f.reason!])),
	};
}

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

function refusal(what: string, verdict: GateVerdict): GateRefusal {
	const lines = verdict.violations.map((v) => `[${v.rule}] ${v.message}`);
	return new GateRefusal(`${what} refused:\n  - ${lines.join('\n  - ')}`, verdict.failingFixtures);
}

/** Evaluate the gate; throw unless it passes or `force` (with a reason) overrides it. */
async function gateOrForce(store: RegistryStore, promptId: string, version: number, channel: string, what: string, options: ReleaseOptions): Promise<{ verdict: GateVerdict; forced: boolean }> {
	if (options.force && !options.reason?.trim()) {
		throw new ConfigError(`--force needs --reason "…": forcing past the gate is recorded in the history and shown by status`);
	}
	const verdict = await evaluateGate(store, promptId, version, channel);
	if (verdict.ok) return { verdict, forced: false };
	if (!options.force) throw refusal(what, verdict);
	return { verdict, forced: true };
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

function canaryRunning(promptId: string, channel: string, canary: CanaryArm): GateRefusal {
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
	const refuse = (violations: PolicyViolation[]): GateRefusal => refusal(what, { ...verdict, violations, failingFixtures: [...new Set(violations.flatMap((v) => v.fixtures))] });
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
