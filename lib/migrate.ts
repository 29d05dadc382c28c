/**
 * Model upgrades are migrations: rerun every fixture with the production version's prompt on a new
 * model, compare with the run behind production, store the run (kind `migrate`), check the gate
 * policy and, when asked and the gate passes, freeze the migrated prompt as the next version.
 * Nothing changes in production either way: releases.yaml is never written here, and the draft is
 * never touched.
 */
import { needsRouting, RoutingProvider } from './accuracy/routing-provider';
import { ConfigError, InputError } from './errors';
import { contentHash } from './hash';
import { checkPolicyFacts, DEFAULT_POLICY, loadPolicy, type Policy, type PolicyViolation } from './policy';
import { baselineRunHeader, baselineView } from './release';
import { baselineFactsOf, RunFactsBuilder } from './run-facts';
import { streamFixtureRun } from './streamed-run';
import { freezeSpec } from './registry/commit';
import { resolvePrompt } from './registry/resolve';
import { isFatalProviderError, newRunId } from './runner';
import type { Provider } from './providers/types';
import type { RegistryStore } from './registry/store';
import type { FixtureResult, FrozenVersion, PromptSpec, ProviderName, ResolvedPrompt, RunHeader } from './types';

export interface MigrationTarget {
	provider: ProviderName;
	name: string;
}

export interface MigrateOptions {
	model: MigrationTarget;
	/** The production prompt on the new model (the CLI passes bin/shared/model.ts `withModel`). */
	withModel: (spec: PromptSpec, model: MigrationTarget) => PromptSpec;
	/** Freeze the migrated prompt as the next version when the gate passes. */
	commit?: boolean;
	concurrency?: number;
	/** Default: createProvider(newModel, {}) — keys and base URLs from the SDKs' environment variables. */
	provider?: Provider;
	/** Builds the provider for the migrated model when `provider` is not given (the CLI adds the response cache / batch API). */
	makeProvider?: (model: PromptSpec['model']) => Provider;
	/** The concurrency to run with, read after the provider was made (batch mode starts every fixture at once). */
	concurrencyFor?: () => number;
	/** Batch ids the run went through (`--batch`), read after the run to record them in the report. */
	batchIds?: () => string[];
	/**
	 * Checks every fixture against the migrated prompt and returns how many there are (the CLI lists every
	 * problem, file and line); the run then streams them (`store.streamFixtures(id, spec)`). Default: count
	 * them while checking, stopping at the first problem.
	 */
	checkFixtures?: (spec: PromptSpec) => Promise<number>;
	author?: string;
	now?: () => Date;
	/** Called once before the first model call with the number of fixtures to run (progress). */
	onStart?: (total: number) => void;
	onResult?: (result: FixtureResult) => void;
	/** Stops the migration run (Ctrl-C): it rejects with RunInterrupted and its partial results are discarded. */
	signal?: AbortSignal;
	/** Called once the run is stored (and the new version frozen, with `commit`), before `migrate` returns. */
	onStored?: (run: RunHeader, committed?: FrozenVersion) => void;
}

export interface MigrateOutcome {
	production: ResolvedPrompt;
	/** The production prompt on the new model. */
	spec: PromptSpec;
	/** The stored run's summary document (its results were written as the run went). */
	run: RunHeader;
	/** The summary document of the run behind production. */
	baseline?: RunHeader;
	policy: Policy;
	ok: boolean;
	violations: PolicyViolation[];
	/** Fixtures that passed in the baseline and fail on the new model. */
	regressions: string[];
	/** Set when --commit was given and the gate passed. */
	committed?: FrozenVersion;
	/**
	 * Set after a commit when the draft (prompt.yaml, never touched here) is not on the new model:
	 * its model, so the caller can warn that the next `commit` of the draft would revert the migration.
	 */
	draftModel?: MigrationTarget;
}

/** How many fixtures there are, each checked against `spec` (throws at the first that does not fit). */
async function countFixtures(store: RegistryStore, promptId: string, spec: PromptSpec): Promise<number> {
	let n = 0;
	for await (const fixture of store.streamFixtures(promptId, spec)) if (fixture) n++;
	return n;
}

/** Freezing a given spec (not the draft) as the next version lives with `commit`. */
export { freezeSpec };

export async function migrate(store: RegistryStore, promptId: string, options: MigrateOptions): Promise<MigrateOutcome> {
	const production = await resolvePrompt(store, promptId, { channel: 'production' });
	const from = production.spec.model;
	const label = `${options.model.provider}:${options.model.name}`;
	if (from.provider === options.model.provider && from.name === options.model.name) {
		throw new InputError(`version ${production.version} of "${promptId}" on production already uses ${label}: nothing to migrate`);
	}
	const spec = options.withModel(production.spec, options.model);
	const hash = contentHash(spec);
	const count = options.checkFixtures ? await options.checkFixtures(spec) : await countFixtures(store, promptId, spec);
	if (count === 0) throw new ConfigError(`prompt "${promptId}" has no fixtures: a migration cannot be checked without them`);
	const policy = await loadPolicy(store, promptId);
	// The baseline as its summary document and the fixtures that passed; the run's results go to the store as
	// they come, and the policy is judged on facts gathered from them (lib/run-facts.ts): memory stays flat.
	const baselineHeader = await baselineRunHeader(store, promptId, 'production');
	const baseline = baselineHeader ? baselineFactsOf({ ...baselineHeader, passed: (await baselineView(store, promptId, baselineHeader.runId)).passed }) : undefined;
	let provider = options.provider ?? options.makeProvider?.(spec.model);
	if (!provider) {
		const { createProvider } = await import('./providers');
		provider = createProvider(spec.model, {});
	}
	if (needsRouting(spec) && !(provider instanceof RoutingProvider)) {
		const { createProvider } = await import('./providers');
		provider = new RoutingProvider(provider, (m) => createProvider(m, {}));
	}
	const resolved: ResolvedPrompt = { promptId, version: production.version, contentHash: hash, spec };
	const runId = newRunId(options.now?.());
	const writer = await store.createRunWriter(promptId, runId);
	let report: RunHeader;
	// The run's start, known before it starts: cached answers are aged against it as the stored run states it.
	const clock = options.now ?? (() => new Date());
	const started = clock();
	let first = true;
	const now = (): Date => (first ? ((first = false), started) : clock());
	const maxAge = policy.maxEvidenceAgeHours ?? DEFAULT_POLICY.maxEvidenceAgeHours;
	const facts = new RunFactsBuilder({ runId, promptId, version: production.version, startedAt: started.toISOString(), model: spec.model, repeat: policy.repeat }, baseline?.passed, maxAge, spec.output);
	try {
		options.onStart?.(count);
		report = await streamFixtureRun({
			resolved,
			fixtures: store.streamFixtures(promptId, spec),
			provider,
			concurrency: options.concurrencyFor?.() ?? options.concurrency,
			pricing: await store.readPricing(),
			...(baseline ? { baseline: { runId: baseline.header.runId, passed: baseline.passed } } : {}),
			repeat: policy.repeat,
			compare: policy.compare,
			now,
			onResult: options.onResult,
			signal: options.signal,
			runId,
			sink: async (r) => {
				facts.add(r);
				await writer.append(r);
			},
		});
	} catch (error) {
		await writer.discard().catch(() => undefined);
		if (!isFatalProviderError(error)) throw error;
		throw new ConfigError(`cannot migrate "${promptId}" to ${label}: ${error.message}. No run was stored.`);
	}
	const batchIds = options.batchIds?.() ?? [];
	report = { ...report, kind: 'migrate', ...(batchIds.length ? { batchIds } : {}) };
	const judged = { ...facts.done(report.finishedAt), header: report, costUsd: report.summary.costUsd, p95: report.summary.latencyMs.p95 };
	const verdict = checkPolicyFacts(judged, baseline, policy, { channel: 'production' });
	let committed: FrozenVersion | undefined;
	if (options.commit && verdict.ok) {
		committed = await freezeSpec(store, promptId, spec, { message: `migrate to ${label}`, author: options.author, now: options.now?.() });
		// The run tested exactly this content: recorded as the new version's run, it is its release evidence.
		report = { ...report, version: committed.version };
	}
	let draftModel: MigrationTarget | undefined;
	if (committed) {
		try {
			const draft = (await store.readDraft(promptId)).model;
			if (draft.provider !== options.model.provider || draft.name !== options.model.name) draftModel = { provider: draft.provider, name: draft.name };
		} catch (error) {
			if (!(error instanceof Error)) throw error; // an unreadable draft: `commit` would refuse it anyway
		}
	}
	await writer.commit(report);
	options.onStored?.(report, committed);
	return {
		production,
		spec,
		run: report,
		...(baselineHeader ? { baseline: baselineHeader } : {}),
		policy,
		ok: verdict.ok,
		violations: verdict.violations,
		regressions: report.summary.regressions,
		...(committed ? { committed } : {}),
		...(draftModel ? { draftModel } : {}),
	};
}
