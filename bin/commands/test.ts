/**
 * `prompt-release test <prompt>`: run every fixture against a version, store the run, report.
 * Exit 1 when a fixture failed or a fixture that passed in production's run fails now.
 * Exit 2, storing nothing, when a fixture does not fit the prompt (file:line) or the provider cannot
 * be used at all (no or rejected key, unknown model, refused connection, no base URL).
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import {
	baselineRun,
	latestRunOf,
	loadPolicy,
	ConfigError,
	contentHash,
	isFatalProviderError,
	resolvePrompt,
	runFixtures,
	type RegistryStore,
	type FixtureResult,
	type ResolvedPrompt,
	type RunReport,
	type RunSummary,
} from '../../lib';
import { priceOf } from '../../lib/pricing';
import { action, EXIT_FAILED, EXIT_OK } from '../shared/exit';
import { loadFixturesForRun } from '../shared/fixtures';
import { writeFileAtomic } from '../../lib/yaml-io';
import { junitXml } from '../shared/junit';
import { parseModelOption, withModel } from '../shared/model';
import { ms, note, oneLine, out, pad, percent, plural, shown, usd } from '../shared/output';
import { openStore, parsePositiveInt, parseVersion, registryOption, requirePrompt, shownPath, storeItem } from '../shared/registry';
import { answerOptions, answersFor, type AnswerCliOptions } from '../shared/answers';
import { interruptible } from '../shared/interrupt';

interface TestOptions extends AnswerCliOptions {
	version?: string;
	model?: string;
	concurrency?: string;
	json?: boolean;
	junit?: string;
	baseline?: string;
	repeat?: string;
}

interface Target {
	resolved: ResolvedPrompt;
	/** What is tested and why, e.g. "version 3 (on production)". */
	label: string;
}

/** `--version` when given; else what production serves; else the latest version; else the draft. */
async function chooseTarget(store: RegistryStore, promptId: string, version: string | undefined): Promise<Target> {
	if (version !== undefined) {
		const v = parseVersion(version, true);
		const resolved = await resolvePrompt(store, promptId, { version: v });
		return { resolved, label: v === 'draft' ? 'the draft' : `version ${v}` };
	}
	const releases = await store.readReleases(promptId);
	if (releases.channels.production) {
		const resolved = await resolvePrompt(store, promptId, { channel: 'production' });
		return { resolved, label: `version ${resolved.version} (on production)` };
	}
	const versions = await store.listVersions(promptId);
	if (versions.length) {
		const latest = versions[versions.length - 1];
		const resolved = await resolvePrompt(store, promptId, { version: latest });
		return { resolved, label: `version ${latest} (the latest; nothing is on production yet)` };
	}
	const resolved = await resolvePrompt(store, promptId, { version: 'draft' });
	return { resolved, label: 'the draft (no version committed yet)' };
}

/**
 * `--baseline <version|runId>`: a version number (`3`, `v3`) means the newest stored run of exactly
 * that version; anything else names a stored run. Default: the run behind production's release.
 */
async function chooseBaseline(store: RegistryStore, promptId: string, value: string | undefined): Promise<{ run?: RunReport; label: string }> {
	if (value === undefined) {
		const run = await baselineRun(store, promptId);
		return { run, label: run ? `production, version ${run.version}` : '' };
	}
	const t = value.trim();
	if (/^v?[1-9][0-9]*$/.test(t)) {
		const version = Number(t.replace(/^v/, ''));
		const frozen = await store.readVersion(promptId, version);
		const run = await latestRunOf(store, promptId, version, frozen.contentHash);
		if (!run) throw new ConfigError(`--baseline ${value}: no stored run of version ${version} (${frozen.contentHash}): test that version first, or name a run id`);
		return { run, label: `--baseline version ${version}` };
	}
	const run = await store.readRun(promptId, t);
	return { run, label: `--baseline run, version ${run.version}` };
}

/** The summary with exactly the documented keys, in the documented order. */
export function summaryJson(s: RunSummary): RunSummary {
	return {
		total: s.total,
		passed: s.passed,
		failed: s.failed,
		passRate: s.passRate,
		segments: s.segments,
		regressions: s.regressions,
		latencyMs: { p50: s.latencyMs.p50, p95: s.latencyMs.p95 },
		tokens: { input: s.tokens.input, output: s.tokens.output },
		costUsd: s.costUsd,
		runId: s.runId,
		cached: s.cached ?? 0,
		...(s.batched !== undefined ? { batched: s.batched } : {}),
	};
}

/** Where the answers came from: the response cache (and how old), the batch API, the model directly. */
export function provenanceLine(report: RunReport): string {
	const cached = report.results.filter((r) => r.cached);
	const fresh = report.results.length - cached.length;
	const batched = report.results.filter((r) => r.batch).length;
	const times = cached.map((r) => r.fetchedAt).filter((t): t is string => t !== undefined).sort();
	const span = times.length ? ` (fetched ${times[0] === times[times.length - 1] ? times[0] : `${times[0]} – ${times[times.length - 1]}`})` : '';
	const via = batched ? `, ${batched} through the batch API (half price)` : '';
	return `answers: ${cached.length} from the response cache${span}, ${fresh} fresh${via}${report.batchIds?.length ? `; batch ${report.batchIds.join(', ')}` : ''}`;
}

function resultLine(r: FixtureResult, idWidth: number, segWidth: number, regression: boolean): string {
	const detail = r.passed ? `expected ${shown(r.expected)}, got ${shown(r.actual)}` : oneLine(r.reason ?? 'failed');
	return `${r.passed ? '✓' : '✗'} ${pad(r.fixtureId, idWidth)}  ${pad(r.segment, segWidth)}  ${detail}  (${ms(r.latencyMs)})${regression ? '  [regression]' : ''}`;
}

function printReport(report: RunReport, runFile: string, baseline: RunReport | undefined, baselineLabel: string, costKnown: boolean): void {
	const s = report.summary;
	const regressions = new Set(s.regressions);
	const idWidth = Math.max(...report.results.map((r) => r.fixtureId.length));
	const segWidth = Math.max(...report.results.map((r) => r.segment.length));
	for (const r of report.results) out(resultLine(r, idWidth, segWidth, regressions.has(r.fixtureId)));
	out();
	out(`${plural(s.total, 'fixture')}: ${s.passed} passed, ${s.failed} failed, pass rate ${percent(s.passRate)}`);
	const segments = Object.entries(s.segments).sort(([a], [b]) => a.localeCompare(b));
	const segNameWidth = Math.max(...segments.map(([name]) => name.length));
	for (const [name, seg] of segments) out(`  segment ${pad(name, segNameWidth)}  ${seg.passed}/${seg.total}  ${percent(seg.passRate)}`);
	const fields = Object.entries(s.fields ?? {});
	if (fields.length > 1) {
		const fieldWidth = Math.max(...fields.map(([name]) => name.length));
		for (const [name, f] of fields) out(`  field ${pad(name, fieldWidth)}  ${f.passed}/${f.total}  ${percent(f.passRate)}`);
	}
	if ((report.repeat ?? 1) > 1) out(`repeat: each fixture ran ${report.repeat} times; a fixture passes only if every attempt passed and all agree`);
	if (!baseline) out('regressions: not checked (no stored run behind production)');
	else if (s.regressions.length) out(`regressions against run ${baseline.runId} (${baselineLabel}): ${s.regressions.join(', ')}`);
	else out(`regressions: none against run ${baseline.runId} (${baselineLabel})`);
	out(provenanceLine(report));
	out(`latency: p50 ${ms(s.latencyMs.p50)}, p95 ${ms(s.latencyMs.p95)}`);
	out(`tokens: ${s.tokens.input} in, ${s.tokens.output} out; cost ${usd(s.costUsd)}${costKnown ? '' : ` (no price known for ${report.model.provider}:${report.model.name}: add it to pricing.yaml)`}`);
	out(`run: ${s.runId} (${runFile})`);
	if (s.failed || s.regressions.length) {
		out(`FAILED: ${plural(s.failed, 'fixture')} failed${s.regressions.length ? `, ${plural(s.regressions.length, 'regression')}` : ''}`);
	} else {
		out(`passed: all ${plural(s.total, 'fixture')}`);
	}
}

async function test(promptId: string, opts: TestOptions, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const concurrency = opts.concurrency !== undefined ? parsePositiveInt(opts.concurrency, '--concurrency') : 4;
	const override = opts.model !== undefined ? parseModelOption(opts.model) : undefined;
	const say = opts.json ? note : out;

	const target = await chooseTarget(store, promptId, opts.version);
	let resolved = target.resolved;
	const original = resolved.spec.model;
	const notes: string[] = [];
	// `--model` naming the prompt's own model is no override: same spec, same hash, valid evidence.
	if (override && !(override.provider === original.provider && override.name === original.name)) {
		const spec = withModel(resolved.spec, override);
		const hash = contentHash(spec);
		const which = resolved.version === 'draft' ? 'the draft' : `version ${resolved.version}`;
		notes.push(
			`model override: ${override.provider}:${override.name} instead of ${original.provider}:${original.name}. ` +
				`This run records content hash ${hash} (${which} is ${resolved.contentHash}), so it can never serve as release evidence for ${which}.`,
		);
		resolved = { ...resolved, spec, contentHash: hash };
	}
	if (resolved.version === 'draft') notes.push('a run of the draft cannot be released: commit it ("prompt-release commit") and test that version.');

	const fixtures = await loadFixturesForRun(store, promptId, resolved.spec);
	if (fixtures.length === 0) {
		throw new ConfigError(
			`no fixtures: add some under ${storeItem(store, promptId, 'fixtures')} or import them ("prompt-release fixtures import ${promptId} FILE.jsonl")`,
		);
	}
	const model = resolved.spec.model;
	say(`testing ${promptId} ${target.label} with ${model.provider}:${model.name}: ${plural(fixtures.length, 'fixture')}, concurrency ${concurrency}`);
	for (const line of notes) say(line);

	const { createProvider } = await import('../../lib/providers');
	// Keys and base URLs: the prompt's model.baseUrl, else the SDKs' own environment variables.
	const answers = answersFor(model, opts, concurrency, createProvider(model, {}), { quiet: opts.json === true });
	say(`answers: ${answers.describe}`);
	const { run: baseline, label: baselineLabel } = await chooseBaseline(store, promptId, opts.baseline);
	const policy = await loadPolicy(store, promptId);
	const repeat = opts.repeat !== undefined ? parsePositiveInt(opts.repeat, '--repeat') : policy.repeat;
	if (repeat > 1) say(`repeat: each fixture runs ${repeat} times`);
	const pricing = await store.readPricing();
	const progress = !opts.json && process.stderr.isTTY;
	let done = 0;
	let report: RunReport;
	try {
		report = await interruptible(opts.batch === true, () => answers.batching?.batchIds ?? [], () => answers.stop(), () => runFixtures({
			resolved,
			fixtures,
			provider: answers.provider,
			concurrency: answers.concurrency,
			pricing,
			baseline,
			repeat,
			compare: policy.compare,
			onResult: () => {
				done++;
				if (progress && !answers.batching) process.stderr.write(`\r  ${done}/${fixtures.length}`);
			},
		}));
		if (answers.batching?.batchIds.length) report = { ...report, batchIds: [...answers.batching.batchIds] };
	} catch (error) {
		// No key, a rejected key, an unknown model, a refused connection: every fixture would fail the
		// same way, so this is a configuration error, not a test result. Nothing is stored.
		if (!isFatalProviderError(error)) throw error;
		throw new ConfigError(`cannot test "${promptId}" with ${model.provider}:${model.name}: ${error.message}. No run was stored.`);
	} finally {
		answers.stop();
		if (progress) process.stderr.write('\r\x1b[K');
	}
	await store.writeRun(report);
	const runFile = storeItem(store, promptId, 'runs', `${report.runId}.json`);

	if (opts.json) out(JSON.stringify(summaryJson(report.summary), null, 2));
	else printReport(report, runFile, baseline, baselineLabel, priceOf(pricing, model.provider, model.name) !== undefined);
	if (opts.junit) {
		await writeFileAtomic(path.resolve(opts.junit), junitXml(report));
		say(`junit: ${shownPath(opts.junit)}`);
	}
	return report.summary.failed > 0 || report.summary.regressions.length > 0 ? EXIT_FAILED : EXIT_OK;
}

export function register(program: Command): void {
	const cmd = program
		.command('test')
		.description("run every fixture against a version, store the run and compare it with production's run")
		.argument('<prompt>', 'prompt id')
		.option('--version <n>', 'version number or "draft" (default: the version on production, else the latest, else the draft)')
		.option('--model <provider:name>', 'use another model, e.g. openai-compatible:llama3 or anthropic:claude-haiku-4-5 (such a run is never release evidence)')
		.option('--concurrency <n>', 'fixtures run at the same time', '4')
		.option('--json', 'print only the summary as one JSON object')
		.option('--junit <file>', 'also write a JUnit XML report to this file')
		.option('--baseline <version|runId>', "compare for regressions with the newest run of this version, or with this run (default: the run behind production's release)")
		.option('--repeat <n>', "run each fixture n times (default: the policy's repeat, else 1); a fixture passes only if all n attempts pass and agree")
		.addOption(registryOption());
	answerOptions(cmd).action(action(test));
}
