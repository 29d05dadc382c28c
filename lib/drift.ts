/**
 * Silent model drift: a model updated behind an unchanged name answers differently with the same prompt.
 * `checkDrift` reruns the released version's fixtures with fresh answers (the caller passes a provider
 * without the response cache) and compares answer by answer with the run behind the release. Any changed
 * answer counts — also when both still pass — because the next email may be the one that flips.
 * Nothing is written to the registry.
 */
import { ConfigError } from './errors';
import { resolvePrompt } from './registry/resolve';
import { fixtureInputsHash, runFixtures } from './runner';
import { loadPolicy } from './policy';
import { valuesEqual } from './schema';
import type { Provider } from './providers/types';
import type { RegistryStore } from './registry/store';
import type { Fixture, FixtureResult, OutputValue, RunReport } from './types';

/** One answer as compared: the value read (null when invalid), whether it was valid and passed, the raw text. */
export interface DriftAnswer {
	value: OutputValue | null;
	valid: boolean;
	passed: boolean;
	rawOutput: string | null;
	reason?: string;
}

export interface DriftChange {
	fixtureId: string;
	segment: string;
	expected: OutputValue;
	/** The answer in the run behind the release. */
	before: DriftAnswer;
	/** The fresh answer. */
	after: DriftAnswer;
}

export interface DriftReport {
	promptId: string;
	channel: string;
	version: number;
	contentHash: string;
	model: { provider: string; name: string };
	/** The run behind the release, and when it finished. */
	releasedRunId: string;
	releasedRunAt: string;
	checkedAt: string;
	/** True when any compared answer changed. */
	changed: boolean;
	compared: number;
	changes: DriftChange[];
	/** Fixtures not compared, with why (not in the released run, inputs edited since). */
	skipped: Array<{ fixtureId: string; why: string }>;
	/** The fresh run (not stored): pass rate, cost and tokens of the check itself. */
	run: RunReport;
}

export interface DriftOptions {
	channel?: string;
	/** A provider that asks the model (no response cache: a cached answer cannot show drift). */
	provider: Provider;
	concurrency?: number;
	/** Fixtures to compare; default every fixture, validated against the released prompt. */
	fixtures?: Fixture[];
	now?: () => Date;
	/** Called once before the first model call with the number of fixtures to compare (progress). */
	onStart?: (total: number) => void;
	onResult?: (result: FixtureResult) => void;
	/** Batch ids the run went through (`--batch`), read after the run to record them in the fresh run. */
	batchIds?: () => string[];
	/** Stops the check (Ctrl-C): the run rejects with RunInterrupted (see RunFixturesOptions.signal). */
	signal?: AbortSignal;
}

function answerOf(r: FixtureResult): DriftAnswer {
	return { value: r.valid ? r.actual : null, valid: r.valid, passed: r.passed, rawOutput: r.rawOutput, ...(r.reason ? { reason: r.reason } : {}) };
}

/** Whether two answers to the same fixture differ: validity or value (raw text that reads the same is no change). */
export function answerChanged(before: FixtureResult, after: FixtureResult): boolean {
	if (before.valid !== after.valid) return true;
	return before.valid ? !valuesEqual(before.actual, after.actual) : false;
}

/**
 * Throws ConfigError when the channel has no release or the release records no run (nothing to compare
 * with), and whatever the run throws (a fatal provider error: no key, unknown model).
 */
export async function checkDrift(store: RegistryStore, promptId: string, options: DriftOptions): Promise<DriftReport> {
	const channel = options.channel ?? 'production';
	const pointer = (await store.readReleases(promptId)).channels[channel];
	if (!pointer) throw new ConfigError(`prompt "${promptId}" has nothing released on channel "${channel}": release a version first ("prompt-release release ${promptId} --version N --channel ${channel}")`);
	if (!pointer.runId) {
		throw new ConfigError(`the release of "${promptId}" version ${pointer.version} on "${channel}" records no test run (released before runs were recorded, or forced): test it and release again, so drift has answers to compare with`);
	}
	const released = await store.readRun(promptId, pointer.runId);
	const resolved = await resolvePrompt(store, promptId, { version: pointer.version });
	const all = options.fixtures ?? (await store.listFixtures(promptId, resolved.spec));
	const byId = new Map(released.results.map((r) => [r.fixtureId, r]));
	const skipped: DriftReport['skipped'] = [];
	const fixtures = all.filter((f) => {
		const before = byId.get(f.id);
		if (!before) skipped.push({ fixtureId: f.id, why: `not in run ${released.runId} (added after the release)` });
		else if (before.inputsHash !== undefined && before.inputsHash !== fixtureInputsHash(f)) skipped.push({ fixtureId: f.id, why: `inputs changed since run ${released.runId}` });
		else return true;
		return false;
	});
	const policy = await loadPolicy(store, promptId);
	options.onStart?.(fixtures.length);
	const fresh = await runFixtures({
		resolved,
		fixtures,
		provider: options.provider,
		concurrency: options.concurrency,
		pricing: await store.readPricing(),
		baseline: released,
		compare: policy.compare,
		now: options.now,
		onResult: options.onResult,
		signal: options.signal,
	});
	const batchIds = options.batchIds?.() ?? [];
	const run: RunReport = batchIds.length ? { ...fresh, batchIds } : fresh;
	const changes: DriftChange[] = [];
	for (const after of run.results) {
		const before = byId.get(after.fixtureId)!;
		if (answerChanged(before, after)) {
			changes.push({ fixtureId: after.fixtureId, segment: after.segment, expected: after.expected, before: answerOf(before), after: answerOf(after) });
		}
	}
	return {
		promptId,
		channel,
		version: pointer.version,
		contentHash: resolved.contentHash,
		model: { provider: resolved.spec.model.provider, name: resolved.spec.model.name },
		releasedRunId: released.runId,
		releasedRunAt: released.finishedAt,
		checkedAt: (options.now?.() ?? new Date()).toISOString(),
		changed: changes.length > 0,
		compared: run.results.length,
		changes,
		skipped,
		run,
	};
}

/** The report as Markdown (for an issue, a chat message or a CI job summary). */
export function driftMarkdown(report: DriftReport): string {
	const head = report.changed
		? `### Model drift: \`${report.promptId}\` — ⚠️ ${report.changes.length} of ${report.compared} answers changed`
		: `### Model drift: \`${report.promptId}\` — ✅ no answer changed (${report.compared} compared)`;
	const lines = [
		head,
		'',
		`**Release:** v${report.version} on \`${report.channel}\` · \`${report.model.provider}:${report.model.name}\` · run \`${report.releasedRunId}\` (${report.releasedRunAt})`,
		`**Checked:** ${report.checkedAt}, fresh answers (no cache) · pass rate now ${(report.run.summary.passRate * 100).toFixed(1)}%`,
	];
	const cell = (a: DriftAnswer) => (a.valid ? `\`${JSON.stringify(a.value)}\`${a.passed ? '' : ' ✗'}` : `invalid${a.reason ? `: ${a.reason.replace(/\|/g, '\\|').slice(0, 80)}` : ''}`);
	if (report.changes.length) {
		lines.push('', '| Fixture | Segment | Expected | Before | Now |', '| --- | --- | --- | --- | --- |');
		for (const c of report.changes) lines.push(`| ${c.fixtureId} | ${c.segment} | \`${JSON.stringify(c.expected)}\` | ${cell(c.before)} | ${cell(c.after)} |`);
	}
	if (report.skipped.length) lines.push('', `Not compared: ${report.skipped.map((s) => `${s.fixtureId} (${s.why})`).join(', ')}`);
	return `${lines.join('\n')}\n`;
}
