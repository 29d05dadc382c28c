/**
 * The release gate: a version reaches a channel only with evidence — a stored run of exactly that content
 * that covers every current fixture and satisfies the policy (lib/policy.ts) — unless forced with a reason.
 */
import { ConfigError, GateRefusal } from '../errors';
import { valuesEqual } from '../schema';
import { checkPolicyFacts, DEFAULT_POLICY, loadPolicy, POLICY_RULES, type Policy, type PolicyCheck, type PolicyViolation } from '../policy';
import { baselineFactsOf, RunFactsBuilder } from '../run-facts';
import { namedList } from '../listing';
import { fixtureCompareHash, fixtureInputsHash, ranWithInputs } from '../runner';
import type { RegistryStore } from '../registry/store';
import type { Fixture, RunHeader } from '../types';
import { baselineRunHeader, baselineView, latestRunHeaderOf } from './evidence';
import type { ReleaseOptions } from './channel';

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
	/**
	 * The fixtures a refusal names that failed in the run (minPassRate, maxRegressions, requireTags, class rules, …).
	 * Fixtures named only for other reasons — cached answers older than maxEvidenceAgeHours, added or changed
	 * since the run — did not fail: their rule's violation names them (`violations[].fixtures`).
	 */
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
		if (!valuesEqual(f.expected, r.expected) || ranWithInputs(r, f.inputsHash) === false) status.set(r.fixtureId, 'stale');
		else status.set(r.fixtureId, r.compareHash !== undefined && r.compareHash !== f.compareHash ? 'rules' : 'ok');
	}
	const violations: PolicyViolation[] = [];
	const missing = [...fixtures.keys()].filter((id) => (status.get(id) ?? 'stale') === 'stale');
	if (missing.length) {
		violations.push({
			rule: 'evidence',
			message: `run ${run.runId} is out of date: fixtures added or changed since: ${namedList(missing)}. Run "prompt-release test ${promptId} --version ${version}" again.`,
			fixtures: missing,
		});
	}
	const rulesChanged = [...fixtures.keys()].filter((id) => status.get(id) === 'rules');
	if (rulesChanged.length) {
		violations.push({
			rule: 'evidence',
			message: `comparison rules changed since run ${run.runId} (policy or fixture "compare" for: ${namedList(rulesChanged)}): rerun test ("prompt-release test ${promptId} --version ${version}")`,
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
	const { approvalsOf, checkApprovals } = await import('../approvals');
	const approvals = checkApprovals(policy.approvals, approvalsOf(await store.readReleases(promptId), channel, version, run.runId, frozen.author), promptId);
	if (approvals.status === 'fail') violations.push({ rule: 'approvals', message: approvals.message, fixtures: [] });
	checks.push({ rule: 'approvals', status: approvals.status, message: approvals.message });
	const failingFixtures = failingIn(violations, new Set(facts.failed.map((f) => f.fixtureId)));
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

/** The fixtures the violations name that failed in the run (`failed`): stale or uncovered ones are not failures. */
function failingIn(violations: PolicyViolation[], failed: ReadonlySet<string>): string[] {
	return [...new Set(violations.flatMap((v) => v.fixtures))].filter((id) => failed.has(id));
}

/** The GateRefusal for a verdict that refused: every violated rule, one line each (each names at most NAMED_UP_TO fixtures). */
export function refusal(what: string, verdict: GateVerdict): GateRefusal {
	const lines = verdict.violations.map((v) => `[${v.rule}] ${v.message}`);
	return new GateRefusal(`${what} refused:\n  - ${lines.join('\n  - ')}`, verdict.failingFixtures);
}

/** Evaluate the gate; throw unless it passes or `force` (with a reason) overrides it. */
export async function gateOrForce(store: RegistryStore, promptId: string, version: number, channel: string, what: string, options: ReleaseOptions): Promise<{ verdict: GateVerdict; forced: boolean }> {
	if (options.force && !options.reason?.trim()) {
		throw new ConfigError(`--force needs --reason "…": forcing past the gate is recorded in the history and shown by status`);
	}
	const verdict = await evaluateGate(store, promptId, version, channel);
	if (verdict.ok) return { verdict, forced: false };
	if (!options.force) throw refusal(what, verdict);
	return { verdict, forced: true };
}
