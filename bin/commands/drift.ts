/**
 * `prompt-release drift <prompt> [--channel production]`: rerun the released version's fixtures with fresh
 * answers (never from the response cache) and compare answer by answer with the run behind the release.
 * Exit 0 when no answer changed, 1 naming the fixtures whose answer changed (even when both pass; the first
 * DRIFT_LISTED with both answers, then how many more), 2 on a usage, configuration or provider error.
 * Fixtures and results are streamed (memory flat in the fixture count). Nothing is stored in the registry.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../lib/errors';
import { checkDrift, driftMarkdown, type DriftAnswer, type DriftReport } from '../../lib/drift';
import { isFatalProviderError } from '../../lib/runner';
import { resolvePrompt } from '../../lib/registry/resolve';
import { writeFileAtomic } from '../../lib/yaml-io';
import { answerOptions, answersFor, type AnswerCliOptions } from '../shared/answers';
import { interruptible } from '../shared/interrupt';
import { startProgress, type Progress } from '../shared/progress';
import { action, EXIT_FAILED, EXIT_OK } from '../shared/exit';
import { checkFixturesKeeping } from '../shared/fixtures';
import { note, out, plural, shown } from '../shared/output';
import { namedList } from '../../lib/listing';
import { openStore, parsePositiveInt, registryOption, requirePrompt, shownPath } from '../shared/registry';

interface DriftCliOptions extends AnswerCliOptions {
	channel?: string;
	json?: boolean;
	out?: string;
	concurrency?: string;
}

/** An answer as one short phrase: the value (and whether it fails), or why it is invalid. */
function side(a: DriftAnswer): string {
	return a.valid ? `${shown(a.value)}${a.passed ? '' : ' (fails)'}` : `invalid (${shown(a.reason ?? a.rawOutput, 60)})`;
}

/** The report: every listed change and fixture not compared (at most DRIFT_LISTED of each), then the verdict with counts. */
function printHuman(r: DriftReport): void {
	out(`drift ${r.promptId} v${r.version} on ${r.channel} (${r.model.provider}:${r.model.name}): ${plural(r.compared, 'fixture')} compared with run ${r.releasedRunId} (${r.releasedRunAt})`);
	for (const c of r.changes) out(`  ✗ ${c.fixtureId}  [${c.segment}]  was ${side(c.before)}, now ${side(c.after)}`);
	if (r.changedCount > r.changes.length) out(`  … and ${r.changedCount - r.changes.length} more changed answers`);
	for (const s of r.skipped) out(`  - ${s.fixtureId}: not compared, ${s.why}${s.before && s.after ? `; the answer differs: was ${side(s.before)}, now ${side(s.after)}` : ''}`);
	if (r.skippedCount > r.skipped.length) out(`  … and ${r.skippedCount - r.skipped.length} more not compared`);
	if (r.skipped.some((s) => s.kind === 'inputs-unknown')) {
		out(`note: run ${r.releasedRunId} predates inputs hashes, so an answer that differs there may come from a fixture edited since the release, not from the model; the fixtures' history (git log) tells. Runs of releases tested since record inputs hashes.`);
	}
	const notCompared = r.skippedCount ? `; ${plural(r.skippedCount, 'fixture')} not compared` : '';
	if (r.changed) out(`CHANGED: ${plural(r.changedCount, 'answer')} of ${r.compared} changed: ${namedList(r.changes.map((c) => c.fixtureId), { total: r.changedCount })}${notCompared}`);
	else out(`unchanged: all ${r.skippedCount ? `${r.compared} compared answers` : plural(r.compared, 'answer')} as in the released run${notCompared}`);
}

async function drift(promptId: string, opts: DriftCliOptions, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const channel = opts.channel ?? 'production';
	const concurrency = opts.concurrency !== undefined ? parsePositiveInt(opts.concurrency, '--concurrency') : 4;
	const pointer = (await store.readReleases(promptId)).channels[channel];
	if (!pointer) throw new ConfigError(`prompt "${promptId}" has nothing released on channel "${channel}": nothing to check for drift`);
	const resolved = await resolvePrompt(store, promptId, { version: pointer.version });
	const model = resolved.spec.model;
	const { createProvider } = await import('../../lib/providers');
	const primary = createProvider(model, {});
	const { needsRouting, RoutingProvider } = await import('../../lib/accuracy/routing-provider');
	const base = needsRouting(resolved.spec) ? new RoutingProvider(primary, (m) => createProvider(m, {})) : primary;
	const answers = answersFor(model, opts, concurrency, base, { fresh: true, quiet: opts.json === true });
	note(`drift ${promptId}: answers: ${answers.describe}`);
	let report: DriftReport;
	let progress: Progress | undefined;
	try {
		// Checked once (every problem named, nothing sent); the check goes through the checked fixtures, or reads them again when many.
		const checked = await checkFixturesKeeping(store, promptId, resolved.spec);
		progress = startProgress({ label: 'fixtures', total: checked.count, quiet: opts.json === true });
		report = await interruptible(
			{
				what: 'the drift check',
				...(opts.batch ? { batchIds: () => answers.batching?.batchIds ?? [] } : {}),
				stop: () => {
					progress?.stop();
					answers.stop();
				},
			},
			async (signal) =>
			checkDrift(store, promptId, {
				channel,
				provider: answers.provider,
				concurrency: answers.concurrency,
				fixtures: checked.fixtures,
				batchIds: () => answers.batching?.batchIds ?? [],
				onResult: () => progress?.tick(),
				onSkipped: () => progress?.tick(),
				signal,
			}),
		);
	} catch (error) {
		if (!isFatalProviderError(error)) throw error;
		throw new ConfigError(`cannot check "${promptId}" for drift with ${model.provider}:${model.name}: ${error.message}`);
	} finally {
		progress?.stop();
		answers.stop();
	}
	if (opts.json) out(JSON.stringify({ ...report, run: { runId: report.run.runId, summary: report.run.summary, ...(report.run.batchIds ? { batchIds: report.run.batchIds } : {}) } }, null, 2));
	else printHuman(report);
	if (opts.out) {
		const file = path.resolve(opts.out);
		await writeFileAtomic(file, file.endsWith('.json') ? `${JSON.stringify(report, null, 2)}\n` : driftMarkdown(report));
		note(`report: ${shownPath(opts.out)}`);
	}
	return report.changed ? EXIT_FAILED : EXIT_OK;
}

export function register(program: Command): void {
	const cmd = program
		.command('drift')
		.description("rerun the released version's fixtures with fresh answers and name every fixture whose answer changed since the release (exit 1), even when it still passes")
		.argument('<prompt>', 'prompt id')
		.option('--channel <name>', 'the channel whose release is checked', 'production')
		.option('--json', 'print the drift report as JSON')
		.option('--out <file>', 'also write the report to this file: .json, else Markdown')
		.option('--concurrency <n>', 'fixtures run at the same time', '4')
		.addOption(registryOption());
	answerOptions(cmd).action(action(drift));
}
