/**
 * The evaluation bundle: everything a reviewer needs about one stored run, typed, built from the run,
 * its baseline run and the two prompt specs. Rendered on demand as Markdown, HTML or JSON.
 */
import { ConfigError } from '../errors';
import { contentHash } from '../hash';
import { diffPrompts, metricDelta, type MetricDelta, type PromptDiff } from '../diff';
import { valuesEqual } from '../schema';
import type { RegistryStore } from '../registry/store';
import type { Approval } from '../approvals';
import { agreementRows, classesOf } from './accuracy';
import type { ClassMetrics, FixtureResult, OutputValue, PromptSpec, RunReport } from '../types';

export const BUNDLE_FORMAT = 1;

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

export interface BundleInput {
	run: RunReport;
	baseline?: RunReport;
	runSpec?: PromptSpec;
	baselineSpec?: PromptSpec;
	notes?: string[];
	now?: Date;
	/** Approvals recorded in the release history for this run. */
	approvals?: Approval[];
}

function rate(passed: number, total: number): number {
	return total === 0 ? 0 : Math.round((passed / total) * 10_000) / 10_000;
}

function runInfo(r: RunReport): RunInfo {
	return {
		runId: r.runId,
		version: r.version,
		contentHash: r.contentHash,
		model: `${r.model.provider}:${r.model.name}`,
		kind: r.kind ?? 'test',
		startedAt: r.startedAt,
		finishedAt: r.finishedAt,
		repeat: r.repeat ?? 1,
	};
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Per-field outcome of one result: stored `fields`, else derived (object outputs key by key, scalars as "value"). */
export function resultFields(r: FixtureResult): Record<string, boolean> {
	if (r.fields && Object.keys(r.fields).length) return r.fields;
	if (isRecord(r.expected)) {
		const out: Record<string, boolean> = {};
		const actual = isRecord(r.actual) ? r.actual : undefined;
		for (const k of Object.keys(r.expected)) out[k] = actual !== undefined && valuesEqual(r.expected[k], actual[k] ?? null);
		return out;
	}
	return { value: r.passed };
}

function groupRates(results: FixtureResult[], key: (r: FixtureResult) => Array<[string, boolean]>): Map<string, { total: number; passed: number }> {
	const groups = new Map<string, { total: number; passed: number }>();
	for (const r of results) {
		for (const [name, ok] of key(r)) {
			const g = groups.get(name) ?? { total: 0, passed: 0 };
			g.total++;
			if (ok) g.passed++;
			groups.set(name, g);
		}
	}
	return groups;
}

function rateRows(current: Map<string, { total: number; passed: number }>, baseline?: Map<string, { total: number; passed: number }>): RateRow[] {
	return [...current.entries()]
		.sort(([a], [b]) => a.localeCompare(b))
		.map(([name, g]) => {
			const row: RateRow = { name, total: g.total, passed: g.passed, passRate: rate(g.passed, g.total) };
			const b = baseline?.get(name);
			if (b) {
				row.baselinePassRate = rate(b.passed, b.total);
				row.delta = Math.round((row.passRate - row.baselinePassRate) * 10_000) / 10_000;
			}
			return row;
		});
}

const STATUS_ORDER: Record<FixtureStatus, number> = { regression: 0, fixed: 1, 'still-failing': 2, passing: 3 };

/** Build the bundle from what is already loaded (pure; see loadBundle for the registry version). */
export function buildBundle(input: BundleInput): EvaluationBundle {
	const { run, baseline } = input;
	const before = new Map((baseline?.results ?? []).map((r) => [r.fixtureId, r]));
	const rows: FixtureRow[] = run.results.map((r) => {
		const b = before.get(r.fixtureId);
		const status: FixtureStatus = r.passed ? (b && !b.passed ? 'fixed' : 'passing') : b?.passed ? 'regression' : 'still-failing';
		return {
			fixtureId: r.fixtureId,
			segment: r.segment,
			status,
			inBaseline: b !== undefined,
			expected: r.expected,
			actual: r.actual,
			...(b ? { baselineActual: b.actual } : {}),
			...(r.reason !== undefined ? { reason: r.reason } : {}),
			latencyMs: r.latencyMs,
			fields: resultFields(r),
			...(r.attempts !== undefined ? { attempts: r.attempts } : {}),
			...(r.attemptsPassed !== undefined ? { attemptsPassed: r.attemptsPassed } : {}),
			...(r.consensus ? { consensus: r.consensus } : {}),
		};
	});
	rows.sort((x, y) => STATUS_ORDER[x.status] - STATUS_ORDER[y.status] || x.fixtureId.localeCompare(y.fixtureId));

	const bySegment = (r: FixtureResult): Array<[string, boolean]> => [[r.segment, r.passed]];
	const byField = (r: FixtureResult): Array<[string, boolean]> => Object.entries(resultFields(r));
	const byTag = (r: FixtureResult): Array<[string, boolean]> => (r.tags ?? []).map((t) => [t, r.passed]);
	const overallBase = baseline ? rate(baseline.results.filter((r) => r.passed).length, baseline.results.length) : undefined;
	const overall: RateRow = { name: 'overall', total: run.results.length, passed: run.results.filter((r) => r.passed).length, passRate: 0 };
	overall.passRate = rate(overall.passed, overall.total);
	if (overallBase !== undefined) {
		overall.baselinePassRate = overallBase;
		overall.delta = Math.round((overall.passRate - overallBase) * 10_000) / 10_000;
	}

	const s = run.summary;
	const b = baseline?.summary;
	// Tokens and cost are summed over every attempt: compare them per attempt (each run by its own repeat).
	const runRepeat = Math.max(1, run.repeat ?? 1);
	const baseRepeat = Math.max(1, baseline?.repeat ?? 1);
	const perAttempt = (total: number, repeat: number, digits: number): number => Math.round((total / repeat) * 10 ** digits) / 10 ** digits;
	const notes = [...(input.notes ?? [])];
	if (run.baselineRunId && !baseline && !notes.some((n) => n.includes(run.baselineRunId!))) notes.push(`baseline run ${run.baselineRunId} could not be read: no deltas, fixes or regressions shown`);
	if (!run.baselineRunId && !baseline) notes.push('no baseline run (nothing was on production when this run was made): no deltas, fixes or regressions shown');
	notes.push(...provenanceNotes(run));

	return {
		format: BUNDLE_FORMAT,
		promptId: run.promptId,
		generatedAt: (input.now ?? new Date()).toISOString(),
		run: runInfo(run),
		...(baseline ? { baseline: runInfo(baseline) } : {}),
		notes,
		passRate: {
			overall,
			segments: rateRows(groupRates(run.results, bySegment), baseline ? groupRates(baseline.results, bySegment) : undefined),
			fields: rateRows(groupRates(run.results, byField), baseline ? groupRates(baseline.results, byField) : undefined),
			tags: rateRows(groupRates(run.results, byTag), baseline ? groupRates(baseline.results, byTag) : undefined),
		},
		...(input.approvals?.length ? { approvals: input.approvals } : {}),
		...agreementRows(run, baseline),
		...classesOf(run, input.runSpec, 'classes'),
		...(baseline ? classesOf(baseline, input.baselineSpec ?? input.runSpec, 'baselineClasses') : {}),
		regressions: rows.filter((r) => r.status === 'regression'),
		fixes: rows.filter((r) => r.status === 'fixed'),
		stillFailing: rows.filter((r) => r.status === 'still-failing'),
		fixtures: rows,
		metricsPerAttempt: runRepeat > 1 || (baseline !== undefined && baseRepeat > 1),
		metrics: {
			latencyP50Ms: metricDelta(s.latencyMs.p50, b?.latencyMs.p50, 1),
			latencyP95Ms: metricDelta(s.latencyMs.p95, b?.latencyMs.p95, 1),
			inputTokens: metricDelta(perAttempt(s.tokens.input, runRepeat, 2), b && perAttempt(b.tokens.input, baseRepeat, 2), 0),
			outputTokens: metricDelta(perAttempt(s.tokens.output, runRepeat, 2), b && perAttempt(b.tokens.output, baseRepeat, 2), 0),
			costUsd: metricDelta(perAttempt(s.costUsd, runRepeat, 8), b && perAttempt(b.costUsd, baseRepeat, 8)),
		},
		...(input.runSpec && input.baselineSpec
			? {
					promptDiff: diffPrompts(input.baselineSpec, input.runSpec, {
						from: baseline ? versionLabel(baseline) : 'baseline',
						to: versionLabel(run),
					}),
				}
			: {}),
	};
}

export function versionLabel(run: Pick<RunReport, 'version'>): string {
	return run.version === 'draft' ? 'draft' : `version ${run.version}`;
}

/**
 * The prompt a run used, as far as the registry still knows it, with a note when it is not exact:
 * a draft edited since, or a run made with another model (`test --model`, `migrate`).
 */
/** Where a run's answers came from, when not all fresh and direct: the response cache (and how old), the batch API. */
export function provenanceNotes(run: RunReport): string[] {
	const notes: string[] = [];
	const cached = run.results.filter((r) => r.cached);
	if (cached.length) {
		const oldest = cached.map((r) => r.fetchedAt).filter((t): t is string => t !== undefined).sort()[0];
		notes.push(`${cached.length} of ${run.results.length} answers came from the response cache${oldest ? ` (oldest fetched ${oldest})` : ''}, not from the model during this run`);
	}
	const batched = run.results.filter((r) => r.batch).length;
	if (batched) notes.push(`${batched} of ${run.results.length} answers came through the provider's batch API${run.batchIds?.length ? ` (${run.batchIds.join(', ')})` : ''}, priced at half the list price`);
	return notes;
}

export async function specOfRun(store: RegistryStore, run: RunReport): Promise<{ spec?: PromptSpec; notes: string[] }> {
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

/** Load a run (default: the newest), its baseline run and both prompts, and build the bundle. */
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
	const run = await store.readRun(promptId, id);
	const notes: string[] = [];
	let baseline: RunReport | undefined;
	if (run.baselineRunId) {
		try {
			baseline = await store.readRun(promptId, run.baselineRunId);
		} catch (error) {
			if (!(error instanceof Error)) throw error;
			notes.push(`baseline run ${run.baselineRunId}: ${error.message}`);
		}
	}
	const mine = await specOfRun(store, run);
	notes.push(...mine.notes);
	let baselineSpec: PromptSpec | undefined;
	if (baseline) {
		const theirs = await specOfRun(store, baseline);
		baselineSpec = theirs.spec;
		notes.push(...theirs.notes.map((n) => `baseline: ${n}`));
	}
	// Approvals name the run they approved: list those of this run.
	const approvals = (await store.readReleases(promptId)).history
		.filter((e) => e.action === 'approve' && e.runId === run.runId)
		.map((e): Approval => ({ by: e.by, at: e.at, channel: e.channel, runId: e.runId, ...(e.reason ? { reason: e.reason } : {}) }));
	return buildBundle({ run, baseline, runSpec: mine.spec, baselineSpec, notes, now, approvals });
}
