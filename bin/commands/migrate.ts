/**
 * `prompt-release migrate <prompt> --model provider:name [--commit]`: a model upgrade as a migration.
 * Reruns every fixture with the production version's prompt on the new model, compares with the run
 * behind production under the gate policy and stores the run (kind `migrate`; render it with `report`).
 * With --commit and a passing gate the migrated prompt becomes the next version (the draft is not
 * touched). Exit 1 naming the regressions when the gate refuses. Production never changes here.
 */
import type { Command } from 'commander';
import { currentUser } from '../../lib';
import { migrate } from '../../lib/migrate';
import { bundleChunks, loadBundle } from '../../lib/report';
import { action, EXIT_FAILED, EXIT_OK, UsageError } from '../shared/exit';
import { checkFixturesForRun } from '../shared/fixtures';
import { parseModelOption, withModel } from '../shared/model';
import { ms, note, out, percent, plural, usd } from '../shared/output';
import { refuseVersionsInDatabase } from '../shared/postgres';
import { openStore, parsePositiveInt, registryDir, registryOption, requirePrompt, storeItem } from '../shared/registry';
import { emitPieces, parseFormat } from './report';
import { answerOptions, answersFor, cacheFixtureParses, type AnswerCliOptions, type Answers } from '../shared/answers';
import { interruptible } from '../shared/interrupt';
import { startProgress, type Progress } from '../shared/progress';
import { FetchedSpan, provenanceLine } from './test';
import { createProvider } from '../../lib/providers';

interface MigrateCliOptions extends AnswerCliOptions {
	model?: string;
	commit?: boolean;
	concurrency?: string;
	out?: string;
}

async function run(promptId: string, opts: MigrateCliOptions, cmd: Command): Promise<number> {
	if (opts.commit) refuseVersionsInDatabase(registryDir(cmd), 'migrate --commit');
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	cacheFixtureParses(store, opts);
	if (opts.model === undefined) throw new UsageError(`which model? e.g. "prompt-release migrate ${promptId} --model openai:gpt-4.1-mini"`);
	const model = parseModelOption(opts.model);
	const concurrency = opts.concurrency !== undefined ? parsePositiveInt(opts.concurrency, '--concurrency') : 4;
	const format = opts.out !== undefined ? parseFormat(undefined, opts.out) : undefined;
	const label = `${model.provider}:${model.name}`;

	let answers: Answers | undefined;
	let progress: Progress | undefined;
	const fetched = new FetchedSpan();
	let stored: string | undefined;
	const migrating = (signal: AbortSignal) =>
		migrate(store, promptId, {
			signal,
			onStored: (run, committed) => (stored = `run ${run.runId} (${storeItem(store, promptId, 'runs', `${run.runId}.json`)})${committed ? ` and version ${committed.version}` : ''}`),
			model,
			withModel,
			commit: opts.commit === true,
			concurrency,
			author: currentUser(),
			makeProvider: (m) => {
				answers = answersFor(m, opts, concurrency, createProvider(m, {}));
				return answers.provider;
			},
			concurrencyFor: () => answers?.concurrency ?? concurrency,
			batchIds: () => answers?.batching?.batchIds ?? [],
			// Checked against the migrated prompt exactly as `test` checks them (file:line on a bad fixture).
			checkFixtures: (spec) => checkFixturesForRun(store, promptId, spec),
			onStart: (total) => (progress = startProgress({ label: 'fixtures', total })),
			onResult: (r) => {
				fetched.add(r);
				progress?.tick();
			},
		});
	// Ctrl-C / SIGTERM: the run stops, its partial results are removed, exit 130 / 143 (bin/shared/interrupt.ts).
	const result = await interruptible(
		{
			what: 'the migration run',
			...(opts.batch ? { batchIds: () => answers?.batching?.batchIds ?? [] } : {}),
			stop: () => {
				progress?.stop();
				answers?.stop();
			},
			stored: () => stored,
		},
		migrating,
	).finally(() => {
		progress?.stop();
		answers?.stop();
	});
	const { run: report, baseline, production } = result;
	const s = report.summary;
	const from = production.spec.model;
	out(`migrate ${promptId}: version ${production.version} (production) from ${from.provider}:${from.name} to ${label}`);
	out(`${plural(s.total, 'fixture')}${(report.repeat ?? 1) > 1 ? ` ×${report.repeat}` : ''}: ${s.passed} passed, ${s.failed} failed, pass rate ${percent(s.passRate)}` +
		(baseline ? ` (baseline run ${baseline.runId}: ${percent(baseline.summary.passRate)})` : ' (no run behind production: regressions not checked)'));
	if (baseline) {
		// Stored cost is summed over every attempt: compare per attempt when either run repeated its fixtures.
		const [runRepeat, baseRepeat] = [Math.max(1, report.repeat ?? 1), Math.max(1, baseline.repeat ?? 1)];
		const perAttempt = runRepeat > 1 || baseRepeat > 1 ? ' per attempt' : '';
		out(
			`latency p50 ${ms(baseline.summary.latencyMs.p50)} → ${ms(s.latencyMs.p50)}, p95 ${ms(baseline.summary.latencyMs.p95)} → ${ms(s.latencyMs.p95)}; ` +
				`cost${perAttempt} ${usd(baseline.summary.costUsd / baseRepeat)} → ${usd(s.costUsd / runRepeat)}`,
		);
	}
	out(provenanceLine(report, fetched));
	out(`run: ${report.runId} (${storeItem(store, promptId, 'runs', `${report.runId}.json`)}); full report: prompt-release report ${promptId} ${report.runId} --format html --out report.html`);
	if (format !== undefined && opts.out !== undefined) {
		const bundle = await loadBundle(store, promptId, report.runId);
		await emitPieces(bundleChunks(bundle, format), opts.out, `report (${format})`);
	}
	if (!result.ok) {
		if (result.regressions.length) out(`regressions on ${label}: ${result.regressions.join(', ')}`);
		for (const v of result.violations) out(`  [${v.rule}] ${v.message}`);
		out(`REFUSED: the migration to ${label} does not pass the gate${opts.commit ? '; no version was created' : ''}. Production is unchanged.`);
		return EXIT_FAILED;
	}
	if (result.committed) {
		out(`gate passed: created version ${result.committed.version} (${result.committed.contentHash}) with ${label}, message "migrate to ${label}"; run ${report.runId} is its test run.`);
		out(`production is unchanged (still version ${production.version}): release it with "prompt-release release ${promptId} --version ${result.committed.version}".`);
		if (result.draftModel) {
			const draftLabel = `${result.draftModel.provider}:${result.draftModel.name}`;
			const set = result.draftModel.provider === model.provider ? `model.name` : `model.provider and model.name`;
			const to = result.draftModel.provider === model.provider ? model.name : `${model.provider} and ${model.name}`;
			note(
				`warning: the draft still uses ${draftLabel}; set ${set} in ${storeItem(store, promptId, 'prompt.yaml')} to ${to} ` +
					`(or copy ${storeItem(store, promptId, 'versions', `${result.committed.version}.yaml`)}'s prompt) before your next commit, ` +
					`or "prompt-release commit ${promptId}" will silently revert this migration to ${draftLabel}.`,
			);
		}
	} else {
		out(`gate passed on ${label}. Production is unchanged; to create the version: "prompt-release migrate ${promptId} --model ${label} --commit".`);
	}
	return EXIT_OK;
}

export function register(program: Command): void {
	const cmd = program
		.command('migrate')
		.description("rerun every fixture with production's prompt on a new model, gate it against production's run; --commit creates the next version if it passes")
		.argument('<prompt>', 'prompt id')
		.option('--model <provider:name>', 'the new model, e.g. openai:gpt-4.1-mini or anthropic:claude-haiku-4-5')
		.option('--commit', 'when the gate passes, freeze the migrated prompt as the next version (production still needs "release")')
		.option('--concurrency <n>', 'fixtures run at the same time', '4')
		.option('--out <file>', 'also write the evaluation bundle to this file: .html, .json, else Markdown')
		.addOption(registryOption());
	answerOptions(cmd).action(action(run));
}
