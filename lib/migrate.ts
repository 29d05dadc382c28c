/**
 * Model upgrades are migrations: rerun every fixture with the production version's prompt on a new
 * model, compare with the run behind production, store the run (kind `migrate`), check the gate
 * policy and, when asked and the gate passes, freeze the migrated prompt as the next version.
 * Nothing changes in production either way: releases.yaml is never written here, and the draft is
 * never touched.
 */
import { ConfigError, InputError } from './errors';
import { contentHash } from './hash';
import { checkPolicy, loadPolicy, type Policy, type PolicyViolation } from './policy';
import { baselineRun } from './release';
import { freezeSpec } from './registry/commit';
import { resolvePrompt } from './registry/resolve';
import { isFatalProviderError, runFixtures } from './runner';
import type { Provider } from './providers/types';
import type { RegistryStore } from './registry/store';
import type { Fixture, FixtureResult, FrozenVersion, PromptSpec, ProviderName, ResolvedPrompt, RunReport } from './types';

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
	/** Default: every fixture, validated against the migrated prompt (`store.listFixtures(id, spec)`). */
	fixtures?: (spec: PromptSpec) => Promise<Fixture[]>;
	author?: string;
	now?: () => Date;
	/** Called once before the first model call with the number of fixtures to run (progress). */
	onStart?: (total: number) => void;
	onResult?: (result: FixtureResult) => void;
}

export interface MigrateOutcome {
	production: ResolvedPrompt;
	/** The production prompt on the new model. */
	spec: PromptSpec;
	run: RunReport;
	baseline?: RunReport;
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
	const fixtures = options.fixtures ? await options.fixtures(spec) : await store.listFixtures(promptId, spec);
	if (fixtures.length === 0) throw new ConfigError(`prompt "${promptId}" has no fixtures: a migration cannot be checked without them`);
	const policy = await loadPolicy(store, promptId);
	const baseline = await baselineRun(store, promptId, 'production');
	let provider = options.provider ?? options.makeProvider?.(spec.model);
	if (!provider) {
		const { createProvider } = await import('./providers');
		provider = createProvider(spec.model, {});
	}
	const resolved: ResolvedPrompt = { promptId, version: production.version, contentHash: hash, spec };
	let report: RunReport;
	try {
		options.onStart?.(fixtures.length);
		report = await runFixtures({
			resolved,
			fixtures,
			provider,
			concurrency: options.concurrencyFor?.() ?? options.concurrency,
			pricing: await store.readPricing(),
			baseline,
			repeat: policy.repeat,
			compare: policy.compare,
			now: options.now,
			onResult: options.onResult,
		});
	} catch (error) {
		if (!isFatalProviderError(error)) throw error;
		throw new ConfigError(`cannot migrate "${promptId}" to ${label}: ${error.message}. No run was stored.`);
	}
	const batchIds = options.batchIds?.() ?? [];
	report = { ...report, kind: 'migrate', ...(batchIds.length ? { batchIds } : {}) };
	const verdict = checkPolicy(report, baseline, policy, { channel: 'production' });
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
	await store.writeRun(report);
	return {
		production,
		spec,
		run: report,
		baseline,
		policy,
		ok: verdict.ok,
		violations: verdict.violations,
		regressions: report.summary.regressions,
		...(committed ? { committed } : {}),
		...(draftModel ? { draftModel } : {}),
	};
}
