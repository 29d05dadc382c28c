/**
 * The operating numbers a team reviews each week (design: docs/adr/0042), read from what the registry
 * records: stored runs of frozen versions (eval pass rate over time, runs with regressions; runs of the draft
 * are experiments, counted apart), the release history (releases, canaries, promotions, forced releases,
 * rollbacks, freezes, approvals), outcome logs (production invalid and correction rates per version: canary
 * logs, and the served logs of channels without a canary), and the review queue (cases pending now).
 * Nothing is estimated: what is not recorded is reported as such.
 */
import { servedLogId } from '../outcomes';
import type { RegistryStore } from '../registry/store';
import type { HistoryEntry, OutcomeRecord } from '../types';
import { checkWindow, periodKey, type Period } from './window';

export interface PeriodRow {
	/** `2026-11-23` (day), the Monday of the week, or `2026-11` (month). */
	period: string;
	/** Runs of frozen versions started in the period (draft runs are not counted). */
	runs: number;
	/** Mean pass rate (0–1) of those runs (null without runs). */
	meanPassRate: number | null;
	/** Runs of frozen versions with at least one regression against the run behind production. */
	regressionRuns: number;
	releases: number;
	forced: number;
	rollbacks: number;
	freezes: number;
}

export interface VersionOutcomes {
	version: number;
	arm: 'stable' | 'canary';
	/** Which logs the row counts: canary outcome logs (per arm, all channels), or a channel's served log (items served without a canary; arm stable). */
	source: 'canary' | 'served';
	/** The channel of a `served` row. */
	channel?: string;
	items: number;
	invalid: number;
	corrected: number;
	invalidRate: number;
	correctionRate: number;
}

export interface PromptMetrics {
	id: string;
	description: string;
	/** The version on production now, if any. */
	production?: { version: number; since: string; forced: boolean };
	/** Eval numbers from runs of frozen versions only (`test --version N`); draft runs are experiments. */
	evals: {
		/** Runs of frozen versions started in the window. */
		runs: number;
		/** The newest of those runs. */
		latest?: { runId: string; version: number; passRate: number; at: string; regressions: number };
		/** Mean pass rate (0–1) of those runs; null without runs. */
		meanPassRate: number | null;
		/** Runs of the draft (`test --version draft`) started in the window: counted here only, in no rate, period or incident. */
		draftRuns: number;
	};
	/** Counts in the window, by history action. */
	changes: { releases: number; canaries: number; promotions: number; rollbacks: number; freezes: number; approvals: number; forced: number };
	/** Regression incidents: forced releases/canaries/promotions, and runs with regressions. */
	incidents: {
		forced: Array<{ at: string; action: string; channel: string; version: number; by: string; reason?: string }>;
		/** Runs of frozen versions whose summary lists regressions (draft runs are experiments, never incidents). */
		regressionRuns: Array<{ runId: string; at: string; version: number; regressions: number }>;
	};
	periods: PeriodRow[];
	/** Production outcomes in the window: per version and arm from canary logs, per channel and version from served logs (empty when none recorded). */
	outcomes: VersionOutcomes[];
	/** Review cases waiting for a person now (`prompt-release review`), whatever the window. */
	pendingReviews: number;
}

export interface MetricsReport {
	generatedAt: string;
	since: string;
	until: string;
	period: Period;
	/** Whether pending reviews are counted (true since the registry has a review queue: ADR 0050) and what they mean. */
	reviewQueue: { present: boolean; note: string };
	/** What the registry does not record, said once. */
	notes: string[];
	prompts: PromptMetrics[];
}

export interface CollectOptions {
	since: Date;
	until?: Date;
	period?: Period;
	/** Limit to these prompts (default: all). */
	prompts?: string[];
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

function inWindow(at: string, since: Date, until: Date): boolean {
	const t = Date.parse(at);
	return t >= since.getTime() && t <= until.getTime();
}

/** Compact run-id timestamp (`20261121T093000000Z`) of a date, to skip older runs without reading them. */
function runIdStamp(d: Date): string {
	return d.toISOString().replace(/[-:.]/g, '');
}

function rowFor(rows: Map<string, PeriodRow & { passSum: number }>, key: string): PeriodRow & { passSum: number } {
	let row = rows.get(key);
	if (!row) {
		row = { period: key, runs: 0, meanPassRate: null, regressionRuns: 0, releases: 0, forced: 0, rollbacks: 0, freezes: 0, passSum: 0 };
		rows.set(key, row);
	}
	return row;
}

/** Outcome records of one source: every canary log, or the served log of one channel. */
interface SourcedRecords {
	source: VersionOutcomes['source'];
	channel?: string;
	records: OutcomeRecord[];
}

function outcomesByVersion(sources: SourcedRecords[]): VersionOutcomes[] {
	const groups = new Map<string, VersionOutcomes>();
	for (const { source, channel, records } of sources) for (const r of records) {
		const key = `${source}\u0000${channel ?? ''}\u0000${r.version}\u0000${r.arm}`;
		const g = groups.get(key) ?? { version: r.version, arm: r.arm, source, ...(channel === undefined ? {} : { channel }), items: 0, invalid: 0, corrected: 0, invalidRate: 0, correctionRate: 0 };
		if (r.outcome === 'valid') g.items++;
		else if (r.outcome === 'invalid') {
			g.items++;
			g.invalid++;
		} else if (r.outcome === 'corrected') g.corrected++;
		groups.set(key, g);
	}
	return [...groups.values()]
		.map((g) => ({ ...g, invalidRate: g.items ? round(g.invalid / g.items) : 0, correctionRate: g.items ? round(Math.min(1, g.corrected / g.items)) : 0 }))
		.sort((a, b) => a.source.localeCompare(b.source) || (a.channel ?? '').localeCompare(b.channel ?? '') || a.version - b.version || a.arm.localeCompare(b.arm));
}

/** The metrics of one prompt in the window. Throws a ConfigError for a window that starts after it ends or before 1970. */
export async function promptMetrics(store: RegistryStore, promptId: string, options: CollectOptions): Promise<PromptMetrics> {
	const since = options.since;
	const until = options.until ?? new Date();
	checkWindow(since, until);
	const period = options.period ?? 'week';
	const spec = await store.readDraft(promptId);
	const rows = new Map<string, PeriodRow & { passSum: number }>();

	let runs = 0;
	let draftRuns = 0;
	let passSum = 0;
	let latest: PromptMetrics['evals']['latest'];
	const regressionRuns: PromptMetrics['incidents']['regressionRuns'] = [];
	const stamp = runIdStamp(since);
	for (const id of await store.listRuns(promptId)) {
		if (/^\d{8}T\d{9}Z/.test(id) && id.slice(0, 19) < stamp.slice(0, 19)) continue;
		const header = await store.readRunHeader(promptId, id);
		if (!inWindow(header.startedAt, since, until)) continue;
		const version = header.version;
		if (version === 'draft') {
			draftRuns++;
			continue;
		}
		runs++;
		passSum += header.summary.passRate;
		const row = rowFor(rows, periodKey(header.startedAt, period));
		row.runs++;
		row.passSum += header.summary.passRate;
		const regressions = header.summary.regressions?.length ?? 0;
		if (regressions) {
			row.regressionRuns++;
			regressionRuns.push({ runId: header.runId, at: header.startedAt, version, regressions });
		}
		if (!latest || header.startedAt >= latest.at) latest = { runId: header.runId, version, passRate: header.summary.passRate, at: header.startedAt, regressions };
	}

	const releases = await store.readReleases(promptId);
	const changes = { releases: 0, canaries: 0, promotions: 0, rollbacks: 0, freezes: 0, approvals: 0, forced: 0 };
	const forced: PromptMetrics['incidents']['forced'] = [];
	const canaryIds = new Set<string>();
	const channels = new Set<string>(Object.keys(releases.channels));
	for (const e of releases.history as HistoryEntry[]) {
		if (e.canaryId && e.action === 'canary') canaryIds.add(e.canaryId);
		channels.add(e.channel);
		if (!inWindow(e.at, since, until)) continue;
		const row = rowFor(rows, periodKey(e.at, period));
		if (e.action === 'release') {
			changes.releases++;
			row.releases++;
		} else if (e.action === 'canary') changes.canaries++;
		else if (e.action === 'promote') changes.promotions++;
		else if (e.action === 'rollback') {
			changes.rollbacks++;
			row.rollbacks++;
		} else if (e.action === 'freeze') {
			changes.freezes++;
			row.freezes++;
		} else if (e.action === 'approve') changes.approvals++;
		if (e.forced && (e.action === 'release' || e.action === 'canary' || e.action === 'promote')) {
			changes.forced++;
			row.forced++;
			forced.push({ at: e.at, action: e.action, channel: e.channel, version: e.version, by: e.by, ...(e.reason ? { reason: e.reason } : {}) });
		}
	}
	for (const pointer of Object.values(releases.channels)) if (pointer.canary) canaryIds.add(pointer.canary.id);
	const inWindowOf = async (logId: string): Promise<OutcomeRecord[]> => (await store.readOutcomes(promptId, logId)).filter((r) => inWindow(r.at, since, until));
	const sources: SourcedRecords[] = [{ source: 'canary', records: [] }];
	for (const id of canaryIds) sources[0].records.push(...(await inWindowOf(id)));
	// Channels named in the history or the pointers; one whose name fits no log id was never served by a node.
	for (const channel of [...channels].sort()) {
		const id = servedLogId(channel);
		if (id) sources.push({ source: 'served', channel, records: await inWindowOf(id) });
	}

	const production = releases.channels.production;
	const periods = [...rows.values()]
		.sort((a, b) => a.period.localeCompare(b.period))
		.map(({ passSum: sum, ...r }) => ({ ...r, meanPassRate: r.runs ? round(sum / r.runs) : null }));
	return {
		id: promptId,
		description: spec.description,
		...(production ? { production: { version: production.version, since: production.since, forced: production.forced === true } } : {}),
		evals: { runs, ...(latest ? { latest } : {}), meanPassRate: runs ? round(passSum / runs) : null, draftRuns },
		changes,
		incidents: { forced, regressionRuns },
		periods,
		outcomes: outcomesByVersion(sources),
		pendingReviews: (await store.countReviews(promptId)).pending,
	};
}

/** The metrics of every prompt (or the ones asked for) in the window. Throws a ConfigError for a window that starts after it ends or before 1970. */
export async function collectMetrics(store: RegistryStore, options: CollectOptions): Promise<MetricsReport> {
	const until = options.until ?? new Date();
	checkWindow(options.since, until);
	const ids = options.prompts ?? (await store.listPrompts());
	const prompts: PromptMetrics[] = [];
	for (const id of ids) prompts.push(await promptMetrics(store, id, { ...options, until }));
	return {
		generatedAt: until.toISOString(),
		since: options.since.toISOString(),
		until: until.toISOString(),
		period: options.period ?? 'week',
		reviewQueue: { present: true, note: 'pending reviews are the review cases waiting for a person now, whatever the window (prompt-release review)' },
		notes: [
			'eval runs, pass rates and runs with regressions count runs of frozen versions only; runs of the draft (test --version draft) are experiments, counted apart as draft runs',
			'refused releases write nothing to the registry: regression incidents are forced releases and runs with regressions',
			'production invalid and correction rates come from outcome logs: canary logs while a channel runs a canary, served logs (source "served") for items a channel serves without one; pinned versions and drafts are not channels and record none',
		],
		prompts,
	};
}
