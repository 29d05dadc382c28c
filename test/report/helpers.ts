/** Hand-made runs and specs for the report tests. */
import type { FixtureResult, PromptSpec, RunReport } from '../../lib/types';
import { summarize } from '../../lib/runner';

export function result(fixtureId: string, segment: string, passed: boolean, extra: Partial<FixtureResult> = {}): FixtureResult {
	return {
		fixtureId,
		segment,
		passed,
		expected: true,
		actual: passed ? true : false,
		valid: true,
		...(passed ? {} : { reason: 'expected true, got false' }),
		rawOutput: JSON.stringify({ value: passed }),
		latencyMs: 100,
		inputTokens: 50,
		outputTokens: 5,
		costUsd: 0.0001,
		repaired: false,
		...extra,
	};
}

export function runOf(runId: string, results: FixtureResult[], extra: Partial<RunReport> = {}, baseline?: RunReport): RunReport {
	return {
		runId,
		promptId: 'price-change',
		version: 1,
		contentHash: 'sha256:aaaa',
		model: { provider: 'openai', name: 'gpt-4o-mini' },
		startedAt: '2026-11-21T09:00:00.000Z',
		finishedAt: '2026-11-21T09:00:01.000Z',
		...(baseline ? { baselineRunId: baseline.runId } : {}),
		summary: summarize(runId, results, baseline),
		results,
		...extra,
	};
}

export function spec(overrides: Partial<PromptSpec> = {}): PromptSpec {
	return {
		id: 'price-change',
		description: 'Does a supplier email announce a price change?',
		model: { provider: 'openai', name: 'gpt-4o-mini', temperature: 0, maxTokens: 64 },
		inputs: { subject: { type: 'string', required: true }, body: { type: 'string', required: true } },
		instructions: 'You read supplier emails.\nDecide whether the email announces a price change.\nAnswer with JSON only.\n',
		template: 'Subject: {{subject}}\n\n{{body}}\n',
		output: { type: 'boolean' },
		limitations: 'Sees the subject and body only.',
		...overrides,
	};
}

/**
 * Baseline v1: keep-pass, regress, fix, stuck pass/fail/fail/… ; run v2: regress fails, fix passes,
 * stuck still fails, new-fail (absent before) fails, keep-pass passes. Segments acme and logistics.
 */
export function scenario(): { baseline: RunReport; run: RunReport } {
	const baseline = runOf('20261121T090000000Z-base01', [
		result('keep-pass', 'acme', true, { latencyMs: 100 }),
		result('regress', 'acme', true, { latencyMs: 100 }),
		result('fix', 'logistics', false, { latencyMs: 100 }),
		result('stuck', 'logistics', false, { latencyMs: 100 }),
	]);
	const run = runOf(
		'20261121T100000000Z-run002',
		[
			result('stuck', 'logistics', false, { latencyMs: 150, costUsd: 0.0002 }),
			result('keep-pass', 'acme', true, { latencyMs: 150, costUsd: 0.0002 }),
			result('new-fail', 'logistics', false, { latencyMs: 150, costUsd: 0.0002 }),
			result('fix', 'logistics', true, { latencyMs: 150, costUsd: 0.0002 }),
			result('regress', 'acme', false, { latencyMs: 200, costUsd: 0.0002 }),
		],
		{ version: 2, contentHash: 'sha256:bbbb' },
		baseline,
	);
	return { baseline, run };
}
