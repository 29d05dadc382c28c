/**
 * The evaluation bundle: everything a reviewer needs about one stored run, typed, built from the run,
 * its baseline run and the two prompt specs. Rendered on demand as Markdown, HTML or JSON.
 */
import { ConfigError } from '../errors';
import { contentHash } from '../hash';
import type { MetricDelta, PromptDiff } from '../diff';
import type { RegistryStore } from '../registry/store';
import type { Approval } from '../approvals';
import { BundleBuilder, versionLabel, type BUNDLE_FORMAT, type BundleHeaders } from './bundle-builder';
import type { ClassMetrics, OutputValue, PromptSpec, RunHeader, RunReport } from '../types';

export { BUNDLE_FORMAT, BundleBuilder, resultFields, versionLabel, type BundleHeaders } from './bundle-builder';

export interface RunInfo {
	runId: string;
	version: number | 'draft';
	contentHash: string;
	model: string;
	kind: 'test' | 'migrate';
	startedAt: string;
	finishedAt: string;
	repeat: number;
}

/** A pass rate now, and before when the baseline has that group. */
export interface RateRow {
	name: string;
	total: number;
	passed: number;
	passRate: number;
	baselinePassRate?: number;
	/** passRate − baselinePassRate */
	delta?: number;
}

/**
 * regression: passed in the baseline run, fails now · fixed: failed before, passes now ·
 * still-failing: fails now and failed (or was absent) before · passing: passes now, and before or new.
 */
export type FixtureStatus = 'regression' | 'fixed' | 'still-failing' | 'passing';

export interface FixtureRow {
	fixtureId: string;
	segment: string;
	status: FixtureStatus;
	/** False when the baseline run has no result for this fixture (or there is no baseline). */
	inBaseline: boolean;
	expected: OutputValue;
	actual: OutputValue | null;
	/** What the baseline run answered, when it ran this fixture. */
	baselineActual?: OutputValue | null;
	reason?: string;
	latencyMs: number;
	/** Per output field: matched or not. */
	fields: Record<string, boolean>;
	attempts?: number;
	attemptsPassed?: number;
	/** Consensus prompts: how many voters there were and how many agreed (over repeats: the weakest attempt). */
	consensus?: { voters: number; agreed: number; reached: boolean };
}

export interface EvaluationBundle {
	format: typeof BUNDLE_FORMAT;
	promptId: string;
	generatedAt: string;
	run: RunInfo;
	baseline?: RunInfo;
	/** Anything the reader must know: a changed draft, a missing baseline, a model override. */
	notes: string[];
	passRate: {
		overall: RateRow;
		segments: RateRow[];
		/** Indicator-level accuracy: one row per output field ("value" for scalar outputs). */
		fields: RateRow[];
		/** One row per fixture tag (hard negatives such as `adversarial`); empty when no fixture has tags. */
		tags: RateRow[];
	};
	/**
	 * Classification outputs (boolean, enum, and such properties of objects): confusion matrix and per-class
	 * precision, recall and F1 per field ("value" for scalars), now and in the baseline run.
	 */
	classes?: Record<string, ClassMetrics>;
	baselineClasses?: Record<string, ClassMetrics>;
	/**
	 * Consensus prompts: the share of fixtures whose voters reached consensus, overall and per segment (rows use
	 * `passed` for the fixtures that agreed), with the baseline's when it voted too.
	 */
	agreement?: { overall: RateRow; segments: RateRow[]; meanVoteShare: number };
	/** Who approved exactly this run for release (`prompt-release approve`), oldest first; approvals of other runs are not listed. */
	approvals?: Approval[];
	/** Regressions first, then fixes, then still failing (each sorted by id). */
	regressions: FixtureRow[];
	fixes: FixtureRow[];
	stillFailing: FixtureRow[];
	/** Every fixture, in the order above followed by the passing ones. */
	fixtures: FixtureRow[];
	/**
	 * True when either run repeated its fixtures (`repeat` > 1): the stored token and cost figures are
	 * sums over every attempt, so `inputTokens`, `outputTokens` and `costUsd` (and their deltas) are
	 * divided by each run's own repeat — per attempt of the whole fixture set — to compare like with like.
	 */
	metricsPerAttempt: boolean;
	metrics: {
		latencyP50Ms: MetricDelta;
		latencyP95Ms: MetricDelta;
		inputTokens: MetricDelta;
		outputTokens: MetricDelta;
		costUsd: MetricDelta;
	};
	/** The prompt diff against the baseline's prompt; absent without a baseline or its prompt. */
	promptDiff?: PromptDiff;
}

/** Whole runs (results in memory) and what else the bundle shows. */
export interface BundleInput extends Omit<BundleHeaders, 'run' | 'baseline'> {
	run: RunReport;
	baseline?: RunReport;
}

/** Build the bundle from whole runs already loaded (pure; loadBundle reads stored runs one result at a time). */
export function buildBundle(input: BundleInput): EvaluationBundle {
	const builder = new BundleBuilder(input);
	for (const r of input.baseline?.results ?? []) builder.addBaseline(r);
	for (const r of input.run.results) builder.add(r);
	return builder.bundle();
}

/**
 * The prompt a run used, as far as the registry still knows it, with a note when it is not exact:
 * a draft edited since, or a run made with another model (`test --model`, `migrate`).
 */
export async function specOfRun(store: RegistryStore, run: RunHeader): Promise<{ spec?: PromptSpec; notes: string[] }> {
	const notes: string[] = [];
	const label = `run ${run.runId}`;
	let spec: PromptSpec;
	try {
		spec = run.version === 'draft' ? await store.readDraft(run.promptId) : (await store.readVersion(run.promptId, run.version)).prompt;
	} catch (error) {
		if (!(error instanceof Error)) throw error;
		notes.push(`the prompt of ${label} (${versionLabel(run)}) cannot be read: ${error.message}`);
		return { notes };
	}
	const hash = contentHash(spec);
	if (hash === run.contentHash) return { spec, notes };
	const model = spec.model;
	if (model.provider !== run.model.provider || model.name !== run.model.name) {
		const swapped: PromptSpec = { ...spec, model: { ...model, provider: run.model.provider, name: run.model.name } };
		notes.push(
			`${label} ran ${versionLabel(run)} with model ${run.model.provider}:${run.model.name} instead of ${model.provider}:${model.name}` +
				`${run.kind === 'migrate' ? ' (a migration)' : ' (a model override)'}; the prompt shown is ${versionLabel(run)} with that model`,
		);
		return { spec: swapped, notes };
	}
	if (run.version === 'draft') {
		notes.push(`the draft changed since ${label} (run hash ${run.contentHash}, draft now ${hash}): the prompt shown is the current draft, not exactly what ran`);
	} else {
		notes.push(`version ${run.version} hashes to ${hash}, but ${label} recorded ${run.contentHash}: the prompt shown may not be exactly what ran`);
	}
	return { spec, notes };
}

/**
 * Load a run (default: the newest), its baseline run and both prompts, and build the bundle. Runs are read
 * as their summary documents and then one result at a time (the baseline's, then the run's): memory grows
 * with the rows the bundle lists, never with whole runs. A baseline that cannot be read (its summary or any
 * of its results) becomes a note and the bundle is built without it. Throws ConfigError when the prompt has
 * no runs or the run cannot be read.
 */
export async function loadBundle(store: RegistryStore, promptId: string, runId?: string, now?: Date): Promise<EvaluationBundle> {
	let id = runId;
	if (id === undefined) {
		const ids = await store.listRuns(promptId);
		if (ids.length === 0) {
			await store.readDraft(promptId); // an unknown prompt gets "not found"
			throw new ConfigError(`prompt "${promptId}" has no stored runs yet: run "prompt-release test ${promptId}" first`);
		}
		id = ids[ids.length - 1];
	}
	const run = await store.readRunHeader(promptId, id);
	const notes: string[] = [];
	let baseline: RunHeader | undefined;
	if (run.baselineRunId) {
		try {
			baseline = await store.readRunHeader(promptId, run.baselineRunId);
		} catch (error) {
			if (!(error instanceof Error)) throw error;
			notes.push(`baseline run ${run.baselineRunId}: ${error.message}`);
		}
	}
	const mine = await specOfRun(store, run);
	let baselineSpec: PromptSpec | undefined;
	const theirNotes: string[] = [];
	if (baseline) {
		const theirs = await specOfRun(store, baseline);
		baselineSpec = theirs.spec;
		theirNotes.push(...theirs.notes.map((n) => `baseline: ${n}`));
	}
	// Approvals name the run they approved: list those of this run.
	const approvals = (await store.readReleases(promptId)).history
		.filter((e) => e.action === 'approve' && e.runId === run.runId)
		.map((e): Approval => ({ by: e.by, at: e.at, channel: e.channel, runId: e.runId, ...(e.reason ? { reason: e.reason } : {}) }));
	const headers = (withBaseline: boolean): BundleHeaders => ({
		run,
		...(withBaseline ? { baseline, baselineSpec } : {}),
		runSpec: mine.spec,
		notes: [...notes, ...mine.notes, ...(withBaseline ? theirNotes : [])],
		now,
		approvals,
	});
	let builder = new BundleBuilder(headers(baseline !== undefined));
	if (baseline) {
		try {
			for await (const r of store.readRunResults(promptId, baseline.runId)) builder.addBaseline(r);
		} catch (error) {
			if (!(error instanceof Error)) throw error;
			notes.push(`baseline run ${baseline.runId}: ${error.message}`);
			builder = new BundleBuilder(headers(false));
		}
	}
	for await (const r of store.readRunResults(promptId, run.runId)) builder.add(r);
	return builder.bundle();
}
