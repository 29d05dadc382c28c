/**
 * `prompt-release drift <prompt> [--channel production]`: rerun the released version's fixtures with fresh
 * answers (never from the response cache) and compare answer by answer with the run behind the release.
 * Exit 0 when no answer changed, 1 naming every fixture whose answer changed (even when both pass),
 * 2 on a usage, configuration or provider error. Nothing is stored in the registry.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../lib/errors';
import { checkDrift, driftMarkdown, type DriftReport } from '../../lib/drift';
import { isFatalProviderError } from '../../lib/runner';
import { resolvePrompt } from '../../lib/registry/resolve';
import { writeFileAtomic } from '../../lib/yaml-io';
import { answerOptions, answersFor, type AnswerCliOptions } from '../shared/answers';
import { interruptible } from '../shared/interrupt';
import { startProgress, type Progress } from '../shared/progress';
import { action, EXIT_FAILED, EXIT_OK } from '../shared/exit';
import { loadFixturesForRun } from '../shared/fixtures';
import { note, out, plural, shown } from '../shared/output';
import { openStore, parsePositiveInt, registryOption, requirePrompt, shownPath } from '../shared/registry';

interface DriftCliOptions extends AnswerCliOptions {
	channel?: string;
	json?: boolean;
	out?: string;
	concurrency?: string;
}

function printHuman(r: DriftReport): void {
	out(`drift ${r.promptId} v${r.version} on ${r.channel} (${r.model.provider}:${r.model.name}): ${plural(r.compared, 'fixture')} compared with run ${r.releasedRunId} (${r.releasedRunAt})`);
	for (const c of r.changes) {
		const side = (a: DriftReport['changes'][number]['before']) => (a.valid ? `${shown(a.value)}${a.passed ? '' : ' (fails)'}` : `invalid (${shown(a.reason ?? a.rawOutput, 60)})`);
		out(`  ✗ ${c.fixtureId}  [${c.segment}]  was ${side(c.before)}, now ${side(c.after)}`);
	}
	for (const s of r.skipped) out(`  - ${s.fixtureId}: not compared, ${s.why}`);
	out(r.changed ? `CHANGED: ${plural(r.changes.length, 'answer')} of ${r.compared} changed: ${r.changes.map((c) => c.fixtureId).join(', ')}` : `unchanged: all ${plural(r.compared, 'answer')} as in the released run`);
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
				fixtures: await loadFixturesForRun(store, promptId, resolved.spec),
				batchIds: () => answers.batching?.batchIds ?? [],
				onStart: (total) => (progress = startProgress({ label: 'fixtures', total, quiet: opts.json === true })),
				onResult: () => progress?.tick(),
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
