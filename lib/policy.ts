/**
 * The gate policy: declared in the registry (`<registry>/policy.yaml`, then `<prompt>/policy.yaml`,
 * the prompt's file winning key by key) and checked against a run and the baseline behind a channel.
 */
import { baselineFactsOf, factsOf, type BaselineFacts, type RunFacts, type StaleAnswer } from './run-facts';
import { priceOf } from './pricing';
import type { PriceTable, RegistryStore } from './registry/store';
import { checkTagCoverage } from './accuracy/tags';
import { namedList, NAMED_UP_TO } from './listing';
import { checkAgreementFacts } from './accuracy/agreement';
import { checkClassRule, CLASS_RULES, type ClassThresholds } from './accuracy/class-rules';
import type { CompareRule, RunHeader, RunReport } from './types';

/** Percentage points, canary arm vs stable arm, after at least minItems canary items. */
export interface FreezeRule {
	minItems: number;
	maxInvalidRatePointsAbove?: number;
	maxCorrectionRatePointsAbove?: number;
}

export interface Policy {
	maxRegressions: number;
	minPassRate: number;
	maxCostIncreasePct?: number;
	maxP95LatencyIncreasePct?: number;
	repeat: number;
	compare: Record<string, CompareRule>;
	freeze?: FreezeRule;
	/**
	 * Oldest a cached answer may be (hours between when it was fetched from the provider and when the run used
	 * it) for the run to count as evidence. Default 24. Answers fetched during the run are always fresh.
	 */
	maxEvidenceAgeHours: number;
	/** People other than the version's author who must approve it (`prompt-release approve`) before release or promotion. */
	approvals?: number;
	/** Consensus prompts: the share of fixtures whose voters must reach consensus (0–1). */
	minAgreement?: number;
	/** Tags that need at least one passing fixture (hard negatives: `ambiguous`, `adversarial`, …). */
	requireTags?: string[];
	/** Per-class minimum recall for classification outputs: `{true: 1.0}`, or `{property: {class: min}}` for objects. */
	minRecall?: ClassThresholds;
	/** Per-class minimum precision (same shape as minRecall). */
	minPrecision?: ClassThresholds;
	/** Per-class minimum F1 (same shape as minRecall). */
	minF1?: ClassThresholds;
}

export const DEFAULT_POLICY: Policy = { maxRegressions: 0, minPassRate: 1, repeat: 1, compare: {}, maxEvidenceAgeHours: 24 };

/** The policy in force for a prompt: defaults, then the registry-wide file, then the prompt's file. */
export async function loadPolicy(store: RegistryStore, promptId: string): Promise<Policy> {
	const global = await store.readPolicy();
	const own = await store.readPolicy(promptId);
	const policy: Policy = { ...DEFAULT_POLICY, compare: {} };
	for (const file of [global, own]) {
		for (const [key, value] of Object.entries(file)) {
			if (value === undefined) continue;
			if (key === 'compare') policy.compare = { ...policy.compare, ...(value as Record<string, CompareRule>) };
			else (policy as unknown as Record<string, unknown>)[key] = value;
		}
	}
	return policy;
}

export interface PolicyViolation {
	/** The policy key that refused: maxRegressions, minPassRate, maxCostIncreasePct, maxP95LatencyIncreasePct, repeat. */
	rule: string;
	message: string;
	fixtures: string[];
}

/** The rules checkPolicy evaluates, in order (for reports that list every rule, e.g. JUnit). */
export const POLICY_RULES = ['minPassRate', 'maxRegressions', 'maxCostIncreasePct', 'maxP95LatencyIncreasePct', 'repeat', 'maxEvidenceAgeHours', 'requireTags', 'minAgreement', ...CLASS_RULES, 'approvals'] as const;

/**
 * Results whose answers came from the response cache and had been fetched more than `maxHours` before the
 * run started: evidence of what the model said then, not now. Results without cache information (runs stored
 * before the cache existed, or fresh answers) are never stale.
 */
export function staleEvidence(run: RunReport, maxHours: number): StaleAnswer[] {
	return factsOf(run, undefined, maxHours).stale;
}

/** The outcome of one rule: `skipped` when it could not be checked (not set, no baseline, no data), with why. */
export interface PolicyCheck {
	rule: string;
	status: 'pass' | 'fail' | 'skipped';
	message: string;
}

function pct(x: number): string {
	return `${Math.round(x * 10000) / 100}%`;
}

/**
 * Mean cost per fixture and attempt: runs over different fixture counts and `repeat` stay comparable
 * (a result's cost and tokens are summed over its attempts).
 */
function costPerAttempt(costUsd: number, total: number, repeat: number | undefined): number {
	return total ? costUsd / total / Math.max(1, repeat ?? 1) : 0;
}

function modelName(run: Pick<RunHeader, 'model'>): string {
	return run.model ? `${run.model.provider}:${run.model.name}` : 'its model';
}

/**
 * Why a run's cost cannot be compared, if it cannot: tokens were spent but nothing was priced (a model
 * missing from the price table costs 0). With `pricing` (the registry's table), a model priced at 0 on
 * purpose (e.g. a local model) counts as known.
 */
function unknownCost(run: Pick<RunHeader, 'model' | 'runId'>, tokens: number, cost: number, pricing?: PriceTable): string | undefined {
	if (tokens === 0 || cost > 0) return undefined;
	const price = pricing && run.model ? priceOf(pricing, run.model.provider, run.model.name) : undefined;
	if (price && price.input === 0 && price.output === 0) return undefined;
	if (price) return `cost unknown for ${modelName(run)} in run ${run.runId} (${tokens} tokens priced at 0 USD: it ran before the model was in pricing.yaml): test again`;
	return `cost unknown for ${modelName(run)} in run ${run.runId} (${tokens} tokens priced at 0 USD): add it to pricing.yaml`;
}

/** `checkPolicyFacts` over a whole run and baseline in memory. */
export function checkPolicy(
	run: RunReport,
	baseline: RunReport | undefined,
	policy: Policy,
	context: { channel?: string; pricing?: PriceTable } = {},
): { ok: boolean; violations: PolicyViolation[]; checks: PolicyCheck[] } {
	const base = baseline ? baselineFactsOf(baseline) : undefined;
	return checkPolicyFacts(factsOf(run, base, policy.maxEvidenceAgeHours ?? DEFAULT_POLICY.maxEvidenceAgeHours), base, policy, context);
}

/**
 * Check a run against the policy. Regressions are computed against `baseline` (the run behind the
 * channel); cost (mean per fixture and attempt) and p95 latency increases likewise, and only when the
 * baseline has a non-zero value to compare with; a run whose cost is unknown (tokens but no price)
 * fails maxCostIncreasePct when that rule is set. `checks` gives every rule's outcome, `skipped` with
 * the reason when it was not checked. `context.channel` only words the messages; `context.pricing`
 * (the registry's price table) tells models priced at 0 on purpose from unknown ones.
 */
export function checkPolicyFacts(
	facts: RunFacts,
	baselineFacts: BaselineFacts | undefined,
	policy: Policy,
	context: { channel?: string; pricing?: PriceTable } = {},
): { ok: boolean; violations: PolicyViolation[]; checks: PolicyCheck[] } {
	const run = facts.header;
	const baseline = baselineFacts?.header;
	const violations: PolicyViolation[] = [];
	const checks: PolicyCheck[] = [];
	const fail = (v: PolicyViolation): void => {
		violations.push(v);
		checks.push({ rule: v.rule, status: 'fail', message: v.message });
	};
	const pass = (rule: string, message: string): void => void checks.push({ rule, status: 'pass', message });
	const skip = (rule: string, message: string): void => void checks.push({ rule, status: 'skipped', message });
	const noBaseline = context.channel ? `no baseline: nothing with a run is released on "${context.channel}"` : 'no baseline run';

	const failed = facts.failed;
	const total = facts.total;
	const passRate = total === 0 ? 0 : failed.length === 0 ? 1 : (total - failed.length) / total;
	if (passRate < policy.minPassRate) {
		fail({
			rule: 'minPassRate',
			message: `run ${run.runId} failed ${failed.length} of ${total} fixtures: ${namedList(failed.slice(0, NAMED_UP_TO).map((r) => `${r.fixtureId} (${r.reason ?? 'failed'})`), { total: failed.length, separator: '; ' })} — pass rate ${pct(passRate)} is below minPassRate ${pct(policy.minPassRate)}`,
			fixtures: failed.map((r) => r.fixtureId),
		});
	} else pass('minPassRate', `pass rate ${pct(passRate)} (${total - failed.length} of ${total}) ≥ ${pct(policy.minPassRate)}`);

	if (!baseline) skip('maxRegressions', noBaseline);
	else {
		const regressions = facts.regressions;
		const where = context.channel ? `the run behind "${context.channel}" (${baseline.runId})` : `baseline run ${baseline.runId}`;
		if (regressions.length > policy.maxRegressions) {
			fail({
				rule: 'maxRegressions',
				message: `regressions against ${where}: ${namedList(regressions)} — ${regressions.length} > maxRegressions ${policy.maxRegressions}`,
				fixtures: regressions,
			});
		} else pass('maxRegressions', `${regressions.length} regression(s) against ${where} ≤ ${policy.maxRegressions}`);
	}

	if (policy.maxCostIncreasePct === undefined) skip('maxCostIncreasePct', 'not set');
	else if (!baseline) skip('maxCostIncreasePct', noBaseline);
	else {
		const unknown = unknownCost(run, facts.tokens, facts.cost, context.pricing) ?? unknownCost(baseline, baselineFacts!.tokens, baselineFacts!.cost, context.pricing);
		const before = costPerAttempt(baseline.summary.costUsd, baselineFacts!.total, baseline.repeat);
		const now = costPerAttempt(facts.costUsd, total, run.repeat);
		if (unknown) fail({ rule: 'maxCostIncreasePct', message: unknown, fixtures: [] });
		else if (!(before > 0)) skip('maxCostIncreasePct', `baseline run ${baseline.runId} has no cost data`);
		else {
			const increase = ((now - before) / before) * 100;
			const change = `cost per fixture ${increase >= 0 ? 'rose' : 'changed'} ${Math.round(increase * 10) / 10}% (${before.toPrecision(3)} → ${now.toPrecision(3)} USD per attempt against run ${baseline.runId})`;
			if (increase > policy.maxCostIncreasePct) {
				fail({ rule: 'maxCostIncreasePct', message: `${change} — above maxCostIncreasePct ${policy.maxCostIncreasePct}%`, fixtures: [] });
			} else pass('maxCostIncreasePct', `${change} ≤ ${policy.maxCostIncreasePct}%`);
		}
	}

	if (policy.maxP95LatencyIncreasePct === undefined) skip('maxP95LatencyIncreasePct', 'not set');
	else if (!baseline) skip('maxP95LatencyIncreasePct', noBaseline);
	else {
		const before = baseline.summary.latencyMs.p95;
		const now = facts.p95;
		if (!(before > 0)) skip('maxP95LatencyIncreasePct', `baseline run ${baseline.runId} has no latency data`);
		else {
			const increase = ((now - before) / before) * 100;
			const change = `p95 latency ${increase >= 0 ? 'rose' : 'changed'} ${Math.round(increase * 10) / 10}% (${before} ms → ${now} ms against run ${baseline.runId})`;
			if (increase > policy.maxP95LatencyIncreasePct) {
				fail({ rule: 'maxP95LatencyIncreasePct', message: `${change} — above maxP95LatencyIncreasePct ${policy.maxP95LatencyIncreasePct}%`, fixtures: [] });
			} else pass('maxP95LatencyIncreasePct', `${change} ≤ ${policy.maxP95LatencyIncreasePct}%`);
		}
	}

	const repeated = run.repeat ?? 1;
	if (repeated < policy.repeat) {
		fail({
			rule: 'repeat',
			message: `run ${run.runId} ran each fixture ${repeated} time(s) but the policy asks for repeat ${policy.repeat}: test again (the policy's repeat is applied by "prompt-release test")`,
			fixtures: [],
		});
	} else pass('repeat', `each fixture ran ${repeated} time(s) ≥ repeat ${policy.repeat}`);

	const maxAge = policy.maxEvidenceAgeHours ?? DEFAULT_POLICY.maxEvidenceAgeHours;
	const stale = facts.stale;
	const future = facts.future;
	const cachedCount = facts.cached;
	if (stale.length || future.length) {
		const list = (answers: StaleAnswer[], when: string) =>
			namedList(
				answers.slice(0, NAMED_UP_TO).map((s) => `${s.fixtureId} (fetched ${s.fetchedAt}, ${s.ageHours} h ${when} the run)`),
				{ total: answers.length },
			);
		const parts = [
			...(stale.length ? [`cached answers older than maxEvidenceAgeHours ${maxAge}: ${list(stale, 'before')}`] : []),
			...(future.length ? [`cached answers fetched after the run, so their age is unknown (a clock set wrong, or an edited cache entry): ${list(future, 'after')}`] : []),
		];
		fail({
			rule: 'maxEvidenceAgeHours',
			message:
				`run ${run.runId} used ${parts.join('; and ')}. ` +
				`The model may answer differently today: rerun with fresh answers ("prompt-release test ${run.promptId}${typeof run.version === 'number' ? ` --version ${run.version}` : ''} --no-cache")`,
			fixtures: [...stale.map((s) => s.fixtureId), ...future.map((s) => s.fixtureId)],
		});
	} else if (cachedCount) pass('maxEvidenceAgeHours', `${cachedCount} cached answer(s), none fetched more than ${maxAge} h before run ${run.runId}`);
	else pass('maxEvidenceAgeHours', `no cached answers in run ${run.runId}: every answer was fetched by the run`);

	const tagged = checkTagCoverage(policy.requireTags, facts.tags);
	if (tagged.status === 'fail') fail({ rule: 'requireTags', message: `run ${run.runId}: ${tagged.message}`, fixtures: tagged.fixtures });
	else if (tagged.status === 'pass') pass('requireTags', tagged.message);
	else skip('requireTags', tagged.message);

	const agreement = checkAgreementFacts(policy.minAgreement, facts.agreement);
	if (agreement.status === 'fail') fail({ rule: 'minAgreement', message: `run ${run.runId}: ${agreement.message}`, fixtures: agreement.fixtures });
	else if (agreement.status === 'pass') pass('minAgreement', agreement.message);
	else skip('minAgreement', agreement.message);

	// Per-class rules read the confusion matrices gathered from the results (the gate's are over current fixtures).
	for (const rule of CLASS_RULES) {
		const outcome = checkClassRule(rule, policy[rule], facts.classes, facts.classCulprits);
		if (outcome.status === 'fail') fail({ rule, message: `run ${run.runId}: ${outcome.message}`, fixtures: outcome.fixtures });
		else if (outcome.status === 'pass') pass(rule, outcome.message);
		else skip(rule, outcome.message);
	}
	return { ok: violations.length === 0, violations, checks };
}
