/**
 * `prompt-release test <prompt>`: run every fixture against a version, store the run, report.
 * Exit 1 when a fixture failed or a fixture that passed in production's run fails now.
 * Exit 2, storing nothing, when a fixture does not fit the prompt (file:line) or the provider cannot
 * be used at all (no or rejected key, unknown model, refused connection, no base URL).
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import {
	loadPolicy,
	ConfigError,
	contentHash,
	isFatalProviderError,
	resolvePrompt,
	type RegistryStore,
	type FixtureResult,
	type ResolvedPrompt,
	type RunSummary,
} from '../../lib';
import { priceOf } from '../../lib/pricing';
import { action, EXIT_FAILED, EXIT_OK, UsageError } from '../shared/exit';
import { checkFixturesKeeping } from '../shared/fixtures';
import { startProgress } from '../shared/progress';
import { baselineRunHeader, baselineView, latestRunHeaderOf } from '../../lib/release';
import { streamFixtureRun } from '../../lib/streamed-run';
import { newRunId, type BaselineView } from '../../lib/runner';
import type { RunHeader } from '../../lib/types';
import { agreementAndTagLines, classLines } from '../../lib/accuracy/text';
import { needsRouting, RoutingProvider } from '../../lib/accuracy/routing-provider';
import { ruleText, votersOf } from '../../lib/accuracy/consensus';
import { writeJunit } from '../shared/junit';
import { parseModelOption, withModel } from '../shared/model';
import { ms, note, oneLine, out, pad, percent, plural, shown, usd } from '../shared/output';
import { openStore, parsePositiveInt, parseVersion, registryOption, requirePrompt, shownPath, storeItem } from '../shared/registry';
import { answerOptions, answersFor, cacheFixtureParses, type AnswerCliOptions } from '../shared/answers';
import { interruptible } from '../shared/interrupt';
import { callsOf } from '../../lib/provenance';

interface TestOptions extends AnswerCliOptions {
	version?: string;
	model?: string;
	concurrency?: string;
	json?: boolean;
	junit?: string;
	baseline?: string;
	repeat?: string;
	timeout?: string;
	maxRetries?: string;
	rpm?: string;
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
async function chooseBaseline(store: RegistryStore, promptId: string, value: string | undefined): Promise<{ run?: BaselineView; label: string }> {
	if (value === undefined) {
		const pointer = (await store.readReleases(promptId)).channels.production;
		if (!pointer?.runId) return { label: '' };
		// Checks the run can be read (a clear error naming it when not), then reads only which fixtures passed.
		const header = await baselineRunHeader(store, promptId, 'production');
		return { run: header ? await baselineView(store, promptId, header.runId) : undefined, label: header ? `production, version ${header.version}` : '' };
	}
	const t = value.trim();
	if (/^v?[1-9][0-9]*$/.test(t)) {
		const version = Number(t.replace(/^v/, ''));
		const frozen = await store.readVersion(promptId, version);
		const run = await latestRunHeaderOf(store, promptId, version, frozen.contentHash);
		if (!run) throw new ConfigError(`--baseline ${value}: no stored run of version ${version} (${frozen.contentHash}): test that version first, or name a run id`);
		return { run: await baselineView(store, promptId, run.runId), label: `--baseline version ${version}` };
	}
	const header = await store.readRunHeader(promptId, t);
	return { run: await baselineView(store, promptId, t), label: `--baseline run, version ${header.version}` };
}

/** The summary with exactly the documented keys, in the documented order. */
export function summaryJson(s: RunSummary): RunSummary {
	return {
		total: s.total,
		passed: s.passed,
		failed: s.failed,
		passRate: s.passRate,
		segments: s.segments,
		...(s.agreement ? { agreement: s.agreement } : {}),
		...(s.tags ? { tags: s.tags } : {}),
		...(s.classes ? { classes: s.classes } : {}),
		regressions: s.regressions,
		latencyMs: { p50: s.latencyMs.p50, p95: s.latencyMs.p95 },
		tokens: { input: s.tokens.input, output: s.tokens.output },
		costUsd: s.costUsd,
		runId: s.runId,
		cached: s.cached ?? 0,
		...(s.batched !== undefined ? { batched: s.batched } : {}),
		...(s.calls ? { calls: { total: s.calls.total, cached: s.calls.cached, fresh: s.calls.fresh, batched: s.calls.batched } } : {}),
	};
}

/** When the cached answers of a run were fetched: the oldest and newest `fetchedAt`, collected as results arrive. */
export class FetchedSpan {
	first?: string;
	last?: string;

	add(r: Pick<FixtureResult, 'calls' | 'cached' | 'cachedCalls' | 'fetchedAt'>): void {
		if (!callsOf(r).cached || !r.fetchedAt) return;
		if (!this.first || r.fetchedAt < this.first) this.first = r.fetchedAt;
		if (!this.last || r.fetchedAt > this.last) this.last = r.fetchedAt;
	}
}

/**
 * Where the answers came from, counted per model call (every attempt, repair and voter): the response cache (and
 * how old), asked of the model by this run, and of those sent through the batch API. Runs stored before calls
 * were counted say it per result.
 */
export function provenanceLine(report: Pick<RunHeader, 'summary' | 'batchIds'>, fetched?: FetchedSpan): string {
	const calls = report.summary.calls;
	const cached = calls ? calls.cached : (report.summary.cached ?? 0);
	const fresh = calls ? calls.fresh : report.summary.total - cached;
	const batched = calls ? calls.batched : (report.summary.batched ?? 0);
	const span = fetched?.first ? ` (fetched ${fetched.first === fetched.last ? fetched.first : `${fetched.first} – ${fetched.last}`})` : '';
	const via = batched ? `, ${batched} through the batch API (half price)` : '';
	return `answers: ${cached} from the response cache${span}, ${fresh} fresh${via}${report.batchIds?.length ? `; batch ${report.batchIds.join(', ')}` : ''}`;
}

function resultLine(r: FixtureResult, idWidth: number, segWidth: number, regression: boolean): string {
	const detail = r.passed ? `expected ${shown(r.expected)}, got ${shown(r.actual)}` : oneLine(r.reason ?? 'failed');
	const votes = r.consensus ? `  [agreement ${r.consensus.agreed}/${r.consensus.voters}]` : '';
	return `${r.passed ? '✓' : '✗'} ${pad(r.fixtureId, idWidth)}  ${pad(r.segment, segWidth)}  ${detail}  (${ms(r.latencyMs)})${votes}${regression ? '  [regression]' : ''}`;
}

/** Runs up to this size print every fixture; larger ones print failures only, at most this many. */
const PRINT_ALL_UP_TO = 200;

/** The result lines: every fixture of a small run; the failures (capped) of a large one, read back from the store. */
async function printResults(store: RegistryStore, report: RunHeader, runFile: string): Promise<void> {
	const s = report.summary;
	const all = s.total <= PRINT_ALL_UP_TO;
	const shownResults: FixtureResult[] = [];
	let more = 0;
	for await (const r of store.readRunResults(report.promptId, report.runId)) {
		if (!all && r.passed) continue;
		if (shownResults.length < PRINT_ALL_UP_TO) shownResults.push(r);
		else more++;
	}
	const regressions = new Set(s.regressions);
	const idWidth = Math.max(0, ...shownResults.map((r) => r.fixtureId.length));
	const segWidth = Math.max(0, ...shownResults.map((r) => r.segment.length));
	if (!all) out(`${plural(s.total, 'fixture')}: showing ${shownResults.length ? 'failures only' : 'no failures'} (every result is in ${runFile.replace(/\.json$/, '.results.jsonl')})`);
	for (const r of shownResults) out(resultLine(r, idWidth, segWidth, regressions.has(r.fixtureId)));
	if (more) out(`… and ${more} more failing fixtures`);
	out();
}

function printReport(report: RunHeader, runFile: string, baseline: BaselineView | undefined, baselineLabel: string, costKnown: boolean, fetched?: FetchedSpan): void {
	const s = report.summary;
	out(`${plural(s.total, 'fixture')}: ${s.passed} passed, ${s.failed} failed, pass rate ${percent(s.passRate)}`);
	const segments = Object.entries(s.segments).sort(([a], [b]) => a.localeCompare(b));
	const segNameWidth = Math.max(...segments.map(([name]) => name.length));
	for (const [name, seg] of segments) out(`  segment ${pad(name, segNameWidth)}  ${seg.passed}/${seg.total}  ${percent(seg.passRate)}`);
	for (const line of agreementAndTagLines(s)) out(line);
	const fields = Object.entries(s.fields ?? {});
	if (fields.length > 1) {
		const fieldWidth = Math.max(...fields.map(([name]) => name.length));
		for (const [name, f] of fields) out(`  field ${pad(name, fieldWidth)}  ${f.passed}/${f.total}  ${percent(f.passRate)}`);
	}
	for (const line of classLines(s.classes)) out(line);
	if ((report.repeat ?? 1) > 1) out(`repeat: each fixture ran ${report.repeat} times; a fixture passes only if every attempt passed and all agree`);
	if (!baseline) out('regressions: not checked (no stored run behind production)');
	else if (s.regressions.length) out(`regressions against run ${baseline.runId} (${baselineLabel}): ${s.regressions.slice(0, 50).join(', ')}${s.regressions.length > 50 ? `, and ${s.regressions.length - 50} more` : ''}`);
	else out(`regressions: none against run ${baseline.runId} (${baselineLabel})`);
	out(provenanceLine(report, fetched));
	out(`latency: p50 ${ms(s.latencyMs.p50)}, p95 ${ms(s.latencyMs.p95)}`);
	out(`tokens: ${s.tokens.input} in, ${s.tokens.output} out; cost ${usd(s.costUsd)}${costKnown ? '' : ` (no price known for ${report.model.provider}:${report.model.name}: add it to pricing.yaml)`}`);
	out(`run: ${s.runId} (${runFile})`);
	if (s.failed || s.regressions.length) {
		out(`FAILED: ${plural(s.failed, 'fixture')} failed${s.regressions.length ? `, ${plural(s.regressions.length, 'regression')}` : ''}`);
	} else {
		out(`passed: all ${plural(s.total, 'fixture')}`);
	}
}

/** `--timeout` / `--max-retries` as provider options (the SDKs' own timeout and retries). Throws UsageError on bad values. */
export function providerCallOptions(opts: { timeout?: string; maxRetries?: string }): { timeoutMs?: number; maxRetries?: number } {
	const out: { timeoutMs?: number; maxRetries?: number } = {};
	if (opts.timeout !== undefined) out.timeoutMs = parsePositiveInt(opts.timeout, '--timeout');
	if (opts.maxRetries !== undefined) {
		if (!/^[0-9]+$/.test(opts.maxRetries.trim())) throw new UsageError(`--max-retries "${opts.maxRetries}" is invalid: give a whole number of at least 0`);
		out.maxRetries = Number(opts.maxRetries);
	}
	return out;
}

async function test(promptId: string, opts: TestOptions, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	cacheFixtureParses(store, opts);
	const concurrency = opts.concurrency !== undefined ? parsePositiveInt(opts.concurrency, '--concurrency') : 4;
	const override = opts.model !== undefined ? parseModelOption(opts.model) : undefined;
	const say = opts.json ? note : out;

	const target = await chooseTarget(store, promptId, opts.version);
	let resolved = target.resolved;
	const original = resolved.spec.model;
	const notes: string[] = [];
	// `--model` naming the prompt's own model is no override: same spec, same hash, valid evidence.
	if (override && resolved.spec.consensus?.models && !(override.provider === original.provider && override.name === original.name)) {
		throw new UsageError(`--model: "${promptId}" votes across consensus.models (${resolved.spec.consensus.models.map((m) => `${m.provider}:${m.name}`).join(', ')}): change those models in prompt.yaml to try others`);
	}
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

	// Checked once (every problem named); the run goes through the checked fixtures, or reads them again when many.
	const checked = await checkFixturesKeeping(store, promptId, resolved.spec);
	const fixtureCount = checked.count;
	if (fixtureCount === 0) {
		throw new ConfigError(
			`no fixtures: add some under ${storeItem(store, promptId, 'fixtures')} or import them ("prompt-release fixtures import ${promptId} FILE.jsonl")`,
		);
	}
	const model = resolved.spec.model;
	say(`testing ${promptId} ${target.label} with ${model.provider}:${model.name}: ${plural(fixtureCount, 'fixture')}, concurrency ${concurrency}`);
	for (const line of notes) say(line);

	const { createProvider } = await import('../../lib/providers');
	// Keys and base URLs: the prompt's model.baseUrl, else the SDKs' own environment variables.
	const rpm = opts.rpm !== undefined ? parsePositiveInt(opts.rpm, '--rpm') : undefined;
	const callOptions = { ...providerCallOptions(opts), ...(rpm ? { requestsPerMinute: rpm } : {}) };
	const primary = createProvider(model, callOptions);
	// A consensus across providers (e.g. one OpenAI and one Anthropic model) sends each voter to its own provider.
	const base = needsRouting(resolved.spec) ? new RoutingProvider(primary, (m) => createProvider(m, callOptions)) : primary;
	const answers = answersFor(model, opts, concurrency, base, { quiet: opts.json === true });
	if (resolved.spec.consensus) say(`consensus: ${votersOf(resolved.spec).length} answers per fixture (${resolved.spec.consensus.samples ? `${resolved.spec.consensus.samples} samples of ${model.provider}:${model.name}` : resolved.spec.consensus.models!.map((m) => `${m.provider}:${m.name}`).join(', ')}), rule ${ruleText(resolved.spec.consensus.rule)}`);
	say(`answers: ${answers.describe}`);
	const { run: baseline, label: baselineLabel } = await chooseBaseline(store, promptId, opts.baseline);
	const policy = await loadPolicy(store, promptId);
	const repeat = opts.repeat !== undefined ? parsePositiveInt(opts.repeat, '--repeat') : policy.repeat;
	if (repeat > 1) say(`repeat: each fixture runs ${repeat} times`);
	const pricing = await store.readPricing();
	const progress = startProgress({ label: 'fixtures', total: fixtureCount, quiet: opts.json });
	const runId = newRunId();
	const fetched = new FetchedSpan();
	// Results go to the store as they come (one JSON line each); nothing is visible until the summary is committed.
	const writer = await store.createRunWriter(promptId, runId);
	let report: RunHeader;
	let stored: string | undefined;
	try {
		// Ctrl-C / SIGTERM: the run stops, its partial results are removed, exit 130 / 143 (bin/shared/interrupt.ts).
		report = await interruptible(
			{
				what: 'the run',
				...(opts.batch ? { batchIds: () => answers.batching?.batchIds ?? [] } : {}),
				stop: () => {
					progress.stop();
					answers.stop();
				},
				stored: () => stored,
			},
			async (signal) => {
				let header = await streamFixtureRun({
					resolved,
					fixtures: checked.fixtures,
					provider: answers.provider,
					concurrency: answers.concurrency,
					pricing,
					baseline,
					repeat,
					compare: policy.compare,
					runId,
					signal,
					sink: (r) => writer.append(r),
					onResult: (r) => {
						fetched.add(r);
						progress.tick();
					},
				});
				if (answers.batching?.batchIds.length) header = { ...header, batchIds: [...answers.batching.batchIds] };
				await writer.commit(header);
				stored = `run ${runId} (${storeItem(store, promptId, 'runs', `${runId}.json`)})`;
				return header;
			},
		);
	} catch (error) {
		await writer.discard().catch(() => undefined);
		// No key, a rejected key, an unknown model, a refused connection: every fixture would fail the
		// same way, so this is a configuration error, not a test result. Nothing is stored.
		if (!isFatalProviderError(error)) throw error;
		throw new ConfigError(`cannot test "${promptId}" with ${model.provider}:${model.name}: ${error.message}. No run was stored.`);
	} finally {
		progress.stop();
		answers.stop();
	}
	const runFile = storeItem(store, promptId, 'runs', `${report.runId}.json`);

	if (opts.json) out(JSON.stringify(summaryJson(report.summary), null, 2));
	else {
		await printResults(store, report, runFile);
		printReport(report, runFile, baseline, baselineLabel, priceOf(pricing, model.provider, model.name) !== undefined, fetched);
	}
	if (opts.junit) {
		// JUnit lists every fixture: written one testcase at a time as the stored results are read back.
		await writeJunit(path.resolve(opts.junit), report, store.readRunResults(promptId, report.runId));
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
		.option('--concurrency <n>', 'fixtures run at the same time (the upper bound: calls are also paced by the provider\'s rate-limit answers)', '4')
		.option('--rpm <n>', 'cap model calls at n requests per minute')
		.option('--json', 'print only the summary as one JSON object')
		.option('--junit <file>', 'also write a JUnit XML report to this file')
		.option('--baseline <version|runId>', "compare for regressions with the newest run of this version, or with this run (default: the run behind production's release)")
		.option('--repeat <n>', "run each fixture n times (default: the policy's repeat, else 1); a fixture passes only if all n attempts pass and agree")
		.option('--timeout <ms>', 'per-request timeout of each model call, in milliseconds (default 60000)')
		.option('--max-retries <n>', "the SDK's retries of a call on 408/409/429/5xx, timeouts and connection errors, with its backoff (default 2)")
		.addOption(registryOption());
	answerOptions(cmd).action(action(test));
}
