/**
 * The gate policy: declared in the registry (`<registry>/policy.yaml`, then `<prompt>/policy.yaml`,
 * the prompt's file winning key by key) and checked against a run and the baseline behind a channel.
 */
import { findRegressions } from './runner';
import type { RegistryStore } from './registry/store';
import type { CompareRule, RunReport } from './types';

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
}

export const DEFAULT_POLICY: Policy = { maxRegressions: 0, minPassRate: 1, repeat: 1, compare: {} };

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
export const POLICY_RULES = ['minPassRate', 'maxRegressions', 'maxCostIncreasePct', 'maxP95LatencyIncreasePct', 'repeat'] as const;

function pct(x: number): string {
	return `${Math.round(x * 10000) / 100}%`;
}

/** Mean cost per fixture result: runs over different fixture counts stay comparable. */
function costPerFixture(run: RunReport): number {
	return run.results.length ? run.summary.costUsd / run.results.length : 0;
}

/**
 * Check a run against the policy. Regressions are computed against `baseline` (the run behind the
 * channel); cost (mean per fixture) and p95 latency increases likewise, and only when the baseline
 * has a non-zero value to compare with. `context.channel` only words the messages.
 */
export function checkPolicy(run: RunReport, baseline: RunReport | undefined, policy: Policy, context: { channel?: string } = {}): { ok: boolean; violations: PolicyViolation[] } {
	const violations: PolicyViolation[] = [];
	const failed = run.results.filter((r) => !r.passed);
	const total = run.results.length;
	const passRate = total === 0 ? 0 : failed.length === 0 ? 1 : (total - failed.length) / total;
	if (passRate < policy.minPassRate) {
		violations.push({
			rule: 'minPassRate',
			message: `run ${run.runId} failed ${failed.length} of ${total} fixtures: ${failed.map((r) => `${r.fixtureId} (${r.reason ?? 'failed'})`).join('; ')} — pass rate ${pct(passRate)} is below minPassRate ${pct(policy.minPassRate)}`,
			fixtures: failed.map((r) => r.fixtureId),
		});
	}
	const regressions = findRegressions(run.results, baseline);
	if (baseline && regressions.length > policy.maxRegressions) {
		const where = context.channel ? `the run behind "${context.channel}" (${baseline.runId})` : `baseline run ${baseline.runId}`;
		violations.push({
			rule: 'maxRegressions',
			message: `regressions against ${where}: ${regressions.join(', ')} — ${regressions.length} > maxRegressions ${policy.maxRegressions}`,
			fixtures: regressions,
		});
	}
	if (baseline && policy.maxCostIncreasePct !== undefined) {
		const before = costPerFixture(baseline);
		const now = costPerFixture(run);
		if (before > 0) {
			const increase = ((now - before) / before) * 100;
			if (increase > policy.maxCostIncreasePct) {
				violations.push({
					rule: 'maxCostIncreasePct',
					message: `cost per fixture rose ${Math.round(increase * 10) / 10}% (${before.toPrecision(3)} → ${now.toPrecision(3)} USD against run ${baseline.runId}) — above maxCostIncreasePct ${policy.maxCostIncreasePct}%`,
					fixtures: [],
				});
			}
		}
	}
	if (baseline && policy.maxP95LatencyIncreasePct !== undefined) {
		const before = baseline.summary.latencyMs.p95;
		const now = run.summary.latencyMs.p95;
		if (before > 0) {
			const increase = ((now - before) / before) * 100;
			if (increase > policy.maxP95LatencyIncreasePct) {
				violations.push({
					rule: 'maxP95LatencyIncreasePct',
					message: `p95 latency rose ${Math.round(increase * 10) / 10}% (${before} ms → ${now} ms against run ${baseline.runId}) — above maxP95LatencyIncreasePct ${policy.maxP95LatencyIncreasePct}%`,
					fixtures: [],
				});
			}
		}
	}
	const repeated = run.repeat ?? 1;
	if (repeated < policy.repeat) {
		violations.push({
			rule: 'repeat',
			message: `run ${run.runId} ran each fixture ${repeated} time(s) but the policy asks for repeat ${policy.repeat}: test again (the policy's repeat is applied by "prompt-release test")`,
			fixtures: [],
		});
	}
	return { ok: violations.length === 0, violations };
}
