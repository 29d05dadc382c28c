/**
 * The evaluation bundle built one result at a time (docs/adr/0031): the baseline run's results first, then
 * the run's. What is kept grows only with what the bundle shows — per fixture of the run a compact row, per
 * fixture of the baseline whether it passed and what it answered — plus running counts (rates per segment,
 * field and tag, agreement, confusion matrices, where answers came from). A 100,000-fixture run is reported
 * without holding either run's results.
 */
import { AgreementBuilder } from '../accuracy/agreement';
import { ClassMetricsBuilder } from '../accuracy/classes';
import { diffPrompts, metricDelta } from '../diff';
import { valuesEqual } from '../schema';
import { callsOf } from '../provenance';
import type { Approval } from '../approvals';
import type { AgreementSummary, ClassMetrics, FixtureResult, OutputValue, PromptSpec, RunHeader } from '../types';
import type { EvaluationBundle, FixtureRow, FixtureStatus, RateRow, RunInfo } from './bundle';

/** The version of the bundle's JSON shape. */
export const BUNDLE_FORMAT = 1;

/** What the bundle is built from, besides the results. */
export interface BundleHeaders {
	/** The run's summary document (a whole `RunReport` works too; its results are not read from here). */
	run: RunHeader;
	baseline?: RunHeader;
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

export function versionLabel(run: Pick<RunHeader, 'version'>): string {
	return run.version === 'draft' ? 'draft' : `version ${run.version}`;
}

function runInfo(r: RunHeader): RunInfo {
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

type Groups = Map<string, { total: number; passed: number }>;

function count(groups: Groups, name: string, ok: boolean): void {
	const g = groups.get(name) ?? { total: 0, passed: 0 };
	g.total++;
	if (ok) g.passed++;
	groups.set(name, g);
}

function rateRows(current: Groups, baseline?: Groups): RateRow[] {
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

/** The counts of one run's side of the bundle: overall, per segment, field and tag, agreement, classes, provenance. */
class Side {
	total = 0;
	passed = 0;
	readonly segments: Groups = new Map();
	readonly fields: Groups = new Map();
	readonly tags: Groups = new Map();
	readonly agreement = new AgreementBuilder();
	readonly classes: ClassMetricsBuilder;
	/** Model calls behind the results (lib/provenance.ts), those answered from the response cache, and those sent through the batch API. */
	calls = 0;
	cached = 0;
	oldestCached: string | undefined;
	batched = 0;

	constructor(spec: PromptSpec | undefined) {
		this.classes = new ClassMetricsBuilder(spec?.output);
	}

	add(r: FixtureResult): void {
		this.total++;
		if (r.passed) this.passed++;
		count(this.segments, r.segment, r.passed);
		for (const [name, ok] of Object.entries(resultFields(r))) count(this.fields, name, ok);
		for (const tag of r.tags ?? []) count(this.tags, tag, r.passed);
		this.agreement.add(r);
		this.classes.add(r);
		const calls = callsOf(r);
		this.calls += calls.calls;
		if (calls.cached) {
			this.cached += calls.cached;
			if (r.fetchedAt !== undefined && (this.oldestCached === undefined || r.fetchedAt < this.oldestCached)) this.oldestCached = r.fetchedAt;
		}
		this.batched += calls.batched;
	}

	/** Per-class metrics under the prompt's declared output, else as the run's summary stored them. */
	classMetrics(header: RunHeader): Record<string, ClassMetrics> | undefined {
		return (this.classes.applies ? this.classes.result() : undefined) ?? header.summary.classes;
	}
}

const STATUS_ORDER: Record<FixtureStatus, number> = { regression: 0, fixed: 1, 'still-failing': 2, passing: 3 };

/** Where a run's answers came from, when not all fresh and direct: the response cache (and how old), the batch API. */
function provenanceNotes(run: RunHeader, side: Side): string[] {
	const notes: string[] = [];
	if (side.cached) {
		notes.push(`${side.cached} of ${side.calls} answers came from the response cache${side.oldestCached ? ` (oldest fetched ${side.oldestCached})` : ''}, not from the model during this run`);
	}
	if (side.batched) notes.push(`${side.batched} of ${side.calls} answers came through the provider's batch API${run.batchIds?.length ? ` (${run.batchIds.join(', ')})` : ''}, priced at half the list price`);
	return notes;
}

function agreementRows(now: AgreementSummary | undefined, before: AgreementSummary | undefined): Pick<EvaluationBundle, 'agreement'> {
	if (!now) return {};
	const row = (name: string, g: { total: number; agreed: number }, b?: { total: number; agreed: number }): RateRow => {
		const r: RateRow = { name, total: g.total, passed: g.agreed, passRate: rate(g.agreed, g.total) };
		if (b) {
			r.baselinePassRate = rate(b.agreed, b.total);
			r.delta = Math.round((r.passRate - r.baselinePassRate) * 10_000) / 10_000;
		}
		return r;
	};
	return {
		agreement: {
			overall: row('overall', now, before),
			segments: Object.entries(now.segments).map(([name, g]) => row(name, g, before?.segments[name])),
			meanVoteShare: now.meanVoteShare,
		},
	};
}

/**
 * Builds an `EvaluationBundle`: call `addBaseline` for every result of the baseline run (when there is one),
 * then `add` for every result of the run, then `bundle()`. The same bundle as from whole runs.
 */
export class BundleBuilder {
	private readonly run: Side;
	private readonly baseline: Side | undefined;
	/** The baseline's answer per fixture (the last result of an id wins, as in a map of the results). */
	private readonly before = new Map<string, { passed: boolean; actual: OutputValue | null }>();
	private readonly rows: FixtureRow[] = [];

	constructor(private readonly input: BundleHeaders) {
		this.run = new Side(input.runSpec);
		this.baseline = input.baseline ? new Side(input.baselineSpec ?? input.runSpec) : undefined;
	}

	/** One result of the baseline run (all of them before the first `add`). */
	addBaseline(r: FixtureResult): void {
		if (!this.baseline) throw new Error('addBaseline: the bundle has no baseline run');
		this.baseline.add(r);
		this.before.set(r.fixtureId, { passed: r.passed, actual: r.actual });
	}

	/** One result of the run. */
	add(r: FixtureResult): void {
		this.run.add(r);
		const b = this.before.get(r.fixtureId);
		const status: FixtureStatus = r.passed ? (b && !b.passed ? 'fixed' : 'passing') : b?.passed ? 'regression' : 'still-failing';
		this.rows.push({
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
		});
	}

	/** The bundle of every result added. */
	bundle(): EvaluationBundle {
		const { input, run: side, baseline: baseSide } = this;
		const run = input.run;
		const baseline = input.baseline;
		const rows = this.rows;
		rows.sort((x, y) => STATUS_ORDER[x.status] - STATUS_ORDER[y.status] || x.fixtureId.localeCompare(y.fixtureId));

		const overallBase = baseSide ? rate(baseSide.passed, baseSide.total) : undefined;
		const overall: RateRow = { name: 'overall', total: side.total, passed: side.passed, passRate: rate(side.passed, side.total) };
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
		notes.push(...provenanceNotes(run, side));
		const classes = side.classMetrics(run);
		const baselineClasses = baseline && baseSide ? baseSide.classMetrics(baseline) : undefined;

		return {
			format: BUNDLE_FORMAT,
			promptId: run.promptId,
			generatedAt: (input.now ?? new Date()).toISOString(),
			run: runInfo(run),
			...(baseline ? { baseline: runInfo(baseline) } : {}),
			notes,
			passRate: {
				overall,
				segments: rateRows(side.segments, baseSide?.segments),
				fields: rateRows(side.fields, baseSide?.fields),
				tags: rateRows(side.tags, baseSide?.tags),
			},
			...(input.approvals?.length ? { approvals: input.approvals } : {}),
			...agreementRows(side.agreement.result(), baseSide?.agreement.result()),
			...(classes ? { classes } : {}),
			...(baselineClasses ? { baselineClasses } : {}),
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
}
