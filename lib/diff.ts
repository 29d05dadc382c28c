/**
 * What changed between two prompt specs: unified diffs of the instructions and the template, and
 * every other field (model, parameters, inputs, output schema, limitations, …) leaf by leaf.
 * Also the evaluation delta between two stored runs. Line diffs come from jsdiff (`diff`).
 */
import { structuredPatch } from 'diff';
import { canonicalJson } from './hash';
import { parseRef, resolvePrompt } from './registry/resolve';
import type { RegistryStore } from './registry/store';
import type { PromptSpec, ResolvedPrompt, RunHeader } from './types';

export interface FieldChange {
	/** Dotted path, e.g. `model.name`, `output.properties.currency.enum`. */
	path: string;
	/** Absent (undefined) when the field did not exist on that side. */
	from?: unknown;
	to?: unknown;
}

export interface PromptDiff {
	/** Unified diff of the instructions; '' when equal. */
	instructions: string;
	/** Unified diff of the template; '' when equal. */
	template: string;
	/** Every other changed field, sorted by path. Long texts (limitations, description) also appear here whole. */
	fields: FieldChange[];
	/** True when nothing differs. */
	same: boolean;
}

export interface UnifiedDiffOptions {
	/** Header names, e.g. `a/instructions (version 1)`. */
	fromLabel?: string;
	toLabel?: string;
	/** Lines of context around each change (default 3). */
	context?: number;
}

function range(start: number, count: number): string {
	// Unified-diff convention: an empty range names the line before it.
	if (count === 0) return `${start - 1},0`;
	return count === 1 ? `${start}` : `${start},${count}`;
}

/** A unified diff (`---`/`+++` headers, `@@` hunks) of two texts; '' when they are equal. */
export function unifiedDiff(from: string, to: string, options: UnifiedDiffOptions = {}): string {
	if (from === to) return '';
	const patch = structuredPatch('a', 'b', from, to, '', '', { context: options.context ?? 3 });
	const out = [`--- ${options.fromLabel ?? 'a'}`, `+++ ${options.toLabel ?? 'b'}`];
	for (const h of patch.hunks) {
		out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`, ...h.lines);
	}
	return `${out.join('\n')}\n`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function collect(path: string, a: unknown, b: unknown, into: FieldChange[]): void {
	if (isPlainObject(a) && isPlainObject(b)) {
		const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
		for (const k of keys) collect(path ? `${path}.${k}` : k, a[k], b[k], into);
		return;
	}
	if (a === undefined && b === undefined) return;
	if (canonicalJson(a) === canonicalJson(b) && (a === undefined) === (b === undefined)) return;
	into.push({ path, ...(a !== undefined ? { from: a } : {}), ...(b !== undefined ? { to: b } : {}) });
}

export interface DiffLabels {
	/** e.g. `version 1`, `draft`, `production (version 3)` */
	from?: string;
	to?: string;
}

/** What changed from `a` to `b`. */
export function diffPrompts(a: PromptSpec, b: PromptSpec, labels: DiffLabels = {}): PromptDiff {
	const label = (side: 'a' | 'b', field: string): string => {
		const name = side === 'a' ? labels.from : labels.to;
		return `${side}/${field}${name ? ` (${name})` : ''}`;
	};
	const instructions = unifiedDiff(a.instructions, b.instructions, { fromLabel: label('a', 'instructions'), toLabel: label('b', 'instructions') });
	const template = unifiedDiff(a.template, b.template, { fromLabel: label('a', 'template'), toLabel: label('b', 'template') });
	const rest = (s: PromptSpec): Record<string, unknown> => {
		const copy: Record<string, unknown> = { ...s };
		delete copy.instructions;
		delete copy.template;
		return copy;
	};
	const fields: FieldChange[] = [];
	collect('', rest(a), rest(b), fields);
	return { instructions, template, fields, same: !instructions && !template && fields.length === 0 };
}

/** A number now, before, and the change. */
export interface MetricDelta {
	current: number;
	baseline?: number;
	/** current − baseline */
	delta?: number;
	/** Relative change in percent; absent when the baseline is 0 or missing. */
	deltaPct?: number;
}

export function metricDelta(current: number, baseline?: number, digits = 8): MetricDelta {
	if (baseline === undefined) return { current };
	const round = (x: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
	return {
		current,
		baseline,
		delta: round(current - baseline),
		...(baseline !== 0 ? { deltaPct: Math.round(((current - baseline) / baseline) * 1000) / 10 } : {}),
	};
}

export interface EvalDelta {
	fromRunId: string;
	toRunId: string;
	passRate: MetricDelta;
	segments: Record<string, MetricDelta & { total: number }>;
	latencyP50Ms: MetricDelta;
	latencyP95Ms: MetricDelta;
	inputTokens: MetricDelta;
	outputTokens: MetricDelta;
	costUsd: MetricDelta;
}

/** The evaluation delta of run `to` against run `from`. Segments only in `from` are reported with current 0 of 0. */
export function evalDelta(from: Pick<RunHeader, 'runId' | 'summary'>, to: Pick<RunHeader, 'runId' | 'summary'>): EvalDelta {
	const a = from.summary;
	const b = to.summary;
	const segments: EvalDelta['segments'] = {};
	for (const name of [...new Set([...Object.keys(b.segments), ...Object.keys(a.segments)])].sort()) {
		const cur = b.segments[name];
		segments[name] = { ...metricDelta(cur?.passRate ?? 0, a.segments[name]?.passRate, 4), total: cur?.total ?? 0 };
	}
	return {
		fromRunId: from.runId,
		toRunId: to.runId,
		passRate: metricDelta(b.passRate, a.passRate, 4),
		segments,
		latencyP50Ms: metricDelta(b.latencyMs.p50, a.latencyMs.p50, 1),
		latencyP95Ms: metricDelta(b.latencyMs.p95, a.latencyMs.p95, 1),
		inputTokens: metricDelta(b.tokens.input, a.tokens.input, 0),
		outputTokens: metricDelta(b.tokens.output, a.tokens.output, 0),
		costUsd: metricDelta(b.costUsd, a.costUsd),
	};
}

export interface RefSide {
	/** What was asked for: `3`, `draft`, `production`. */
	ref: string;
	/** e.g. `version 3`, `draft`, `production (version 3)`. */
	label: string;
	resolved: ResolvedPrompt;
	/** The newest stored run of exactly this content (same version and content hash), if any: its summary document. */
	run?: RunHeader;
}

export interface RefComparison {
	promptId: string;
	a: RefSide;
	b: RefSide;
	diff: PromptDiff;
	/** Present when both sides have a stored run. */
	eval?: EvalDelta;
}

/**
 * The newest stored run of exactly this version and content (runs with another model never match): its
 * summary document only — the comparison needs summaries, so a 100,000-fixture run costs one small read.
 */
export async function newestRunOf(store: RegistryStore, resolved: ResolvedPrompt): Promise<RunHeader | undefined> {
	const ids = await store.listRuns(resolved.promptId);
	for (let i = ids.length - 1; i >= 0; i--) {
		const run = await store.readRunHeader(resolved.promptId, ids[i]);
		if (run.version === resolved.version && run.contentHash === resolved.contentHash) return run;
	}
	return undefined;
}

async function side(store: RegistryStore, promptId: string, ref: string): Promise<RefSide> {
	const parsed = parseRef(ref);
	const resolved = await resolvePrompt(store, promptId, parsed);
	const which = resolved.version === 'draft' ? 'draft' : `version ${resolved.version}`;
	const label = parsed.channel ? `${parsed.channel} (${which})` : which;
	const run = await newestRunOf(store, resolved);
	return { ref, label, resolved, ...(run ? { run } : {}) };
}

/** Compare two references (versions, `draft`, channel names) of one prompt: prompt diff and eval delta. */
export async function compareRefs(store: RegistryStore, promptId: string, a: string, b: string): Promise<RefComparison> {
	const left = await side(store, promptId, a);
	const right = await side(store, promptId, b);
	return {
		promptId,
		a: left,
		b: right,
		diff: diffPrompts(left.resolved.spec, right.resolved.spec, { from: left.label, to: right.label }),
		...(left.run && right.run ? { eval: evalDelta(left.run, right.run) } : {}),
	};
}
