/**
 * Production outcomes: nodes record per item which arm served it and whether the answer was valid, invalid
 * or later corrected; the recorder buffers in memory (no I/O on the item path) and appends batches to an
 * append-only outcome log. Items served while the channel runs a canary go to the canary's log, after
 * which the recorder checks the policy's freeze rule and freezes the canary by itself when the canary arm
 * does measurably worse than the stable arm. Items a channel serves without a canary go to the channel's
 * served log ({@link servedLogId}, ADR 0042), which no freeze rule reads.
 */
import { loadPolicy, type FreezeRule } from './policy';
import { freezeCanary } from './release';
import type { RegistryStore } from './registry/store';
import type { Arm, OutcomeRecord } from './types';

export type Outcome = OutcomeRecord['outcome'];

export interface ArmStats {
	/** Items served (valid + invalid). */
	items: number;
	valid: number;
	invalid: number;
	/** Served items a person corrected afterwards (Record Correction). */
	corrected: number;
	/** invalid / items (0 without items). */
	invalidRate: number;
	/** corrected / items (0 without items). */
	correctionRate: number;
}

export type CanaryStats = Record<Arm, ArmStats>;

/** Prefix of served log ids; canary ids (`canary-<timestamp>-<hex>`) never start with it (lib/registry/formats). */
export const SERVED_LOG_PREFIX = 'served-';

/** What a log id must look like in every store (the run id rule). */
const LOG_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * The id of the outcome log of items `channel` served without a canary in force: `served-<channel>`.
 * Undefined when the channel name does not fit a log id (letters, digits, `_`, `-`; nodes only serve
 * channel names of at most 64 such characters, so every channel a node serves fits).
 */
export function servedLogId(channel: string): string | undefined {
	const id = `${SERVED_LOG_PREFIX}${channel}`;
	return channel && LOG_ID.test(id) ? id : undefined;
}

function empty(): ArmStats {
	return { items: 0, valid: 0, invalid: 0, corrected: 0, invalidRate: 0, correctionRate: 0 };
}

/** Per-arm statistics of an outcome log. Corrections count against the arm that served the corrected item. */
export function armStats(records: readonly OutcomeRecord[]): CanaryStats {
	const stats: CanaryStats = { stable: empty(), canary: empty() };
	for (const r of records) {
		const s = stats[r.arm];
		if (!s) continue;
		if (r.outcome === 'valid') s.valid++;
		else if (r.outcome === 'invalid') s.invalid++;
		else if (r.outcome === 'corrected') s.corrected++;
	}
	for (const s of Object.values(stats)) {
		s.items = s.valid + s.invalid;
		s.invalidRate = s.items ? s.invalid / s.items : 0;
		s.correctionRate = s.items ? Math.min(1, s.corrected / s.items) : 0;
	}
	return stats;
}

function pct(rate: number): string {
	return `${(rate * 100).toFixed(1)}%`;
}

function points(n: number): string {
	return `${Math.round(n * 10) / 10}`;
}

/**
 * Why the canary must freeze under `rule`, or undefined. A rule applies once the canary arm served at
 * least `minItems` items; it is breached when the canary's rate exceeds the stable arm's by more than
 * the limit (percentage points).
 */
export function evaluateFreeze(stats: CanaryStats, rule: FreezeRule | undefined): string | undefined {
	if (!rule) return undefined;
	const canary = stats.canary;
	const stable = stats.stable;
	if (canary.items < Math.max(1, rule.minItems)) return undefined;
	const checks: Array<[string, number | undefined, number, number]> = [
		['invalid rate', rule.maxInvalidRatePointsAbove, canary.invalidRate, stable.invalidRate],
		['correction rate', rule.maxCorrectionRatePointsAbove, canary.correctionRate, stable.correctionRate],
	];
	for (const [name, limit, c, s] of checks) {
		if (limit === undefined) continue;
		const above = (c - s) * 100;
		if (above > limit + 1e-9) {
			return `canary ${name} ${pct(c)} is ${points(above)} points above stable's ${pct(s)} (limit ${points(limit)} points) after ${canary.items} canary items`;
		}
	}
	return undefined;
}

/** What a recorder logs through (the n8n node's logger, or console). */
export interface OutcomeLogger {
	warn(message: string): void;
	info?(message: string): void;
}

export interface OutcomeRecorderOptions {
	now?: () => Date;
	logger?: OutcomeLogger;
	/** The freeze rule of a prompt (default: the policy's `freeze`). */
	freezeRule?: (store: RegistryStore, promptId: string) => Promise<FreezeRule | undefined>;
	/** Freezes a canary (default: lib/release freezeCanary); true when this call froze it. */
	freeze?: (store: RegistryStore, promptId: string, channel: string, canaryId: string, reason: string) => Promise<boolean>;
	/** Called after this recorder froze a canary (the nodes drop the channel from the release cache). */
	onFrozen?: (event: FreezeEvent) => void;
	/** Append attempts per batch before it is kept for the next flush (default 3). */
	attempts?: number;
	/**
	 * Least time between two freeze checks (each reads the canary's whole outcome log) of one canary by this
	 * recorder (default 5000 ms; 0 checks after every flush). A flush that brings the canary's item count
	 * across the rule's minItems is checked at once; a check skipped within the interval runs when it ends.
	 */
	freezeCheckIntervalMs?: number;
	/**
	 * Most records kept per log while appends fail (default 100,000): beyond it the oldest are dropped and the
	 * warning says how many, so a registry that stays unwritable (read-only folder, database down for days)
	 * cannot grow a process's memory without bound.
	 */
	maxPendingPerLog?: number;
}

export const DEFAULT_MAX_PENDING_PER_LOG = 100_000;

export interface FreezeEvent {
	promptId: string;
	channel: string;
	canaryId: string;
	reason: string;
}

export interface FlushResult {
	appended: number;
	/** Records whose append failed; kept in the buffer for the next flush. */
	pending: number;
	frozen: FreezeEvent[];
	errors: string[];
}

/** Which log a batch goes to: a canary's (the freeze rule is checked after appends) or a channel's served log (never checked). */
type LogKind = 'canary' | 'served';

interface Batch {
	promptId: string;
	channel: string;
	/** The canary id, or the channel's served log id. */
	logId: string;
	kind: LogKind;
	records: OutcomeRecord[];
}

/** What the last freeze check of a canary learnt, to decide whether the next flush must check again. */
interface CheckState {
	/** When it ran (ms, by the recorder's clock). */
	at: number;
	rule: FreezeRule | undefined;
	/** Canary items in the log at that check. */
	canaryItems: number;
	/** Canary items this recorder appended since. */
	appendedSince: number;
	/** The deferred check, when one was skipped within the interval. */
	timer?: ReturnType<typeof setTimeout>;
}

const DEFAULT_FREEZE_CHECK_INTERVAL_MS = 5000;

function keyOf(b: Pick<Batch, 'promptId' | 'channel' | 'logId' | 'kind'>): string {
	return `${b.promptId}\0${b.channel}\0${b.kind}\0${b.logId}`;
}

/** Served canary items (valid or invalid) among records: what minItems counts. */
function canaryItems(records: readonly OutcomeRecord[]): number {
	return records.filter((r) => r.arm === 'canary' && r.outcome !== 'corrected').length;
}

/**
 * Buffers outcomes per log (canary, or channel served without one) and appends them in batches. One
 * recorder per registry store (and so one outcome file per process and log with the file store). Flushes
 * run one after another; a batch whose append fails stays buffered for the next flush, it is never dropped.
 */
export class OutcomeRecorder {
	private buffer = new Map<string, Batch>();
	private chain: Promise<unknown> = Promise.resolve();
	private checks = new Map<string, CheckState>();

	constructor(
		readonly store: RegistryStore,
		private readonly options: OutcomeRecorderOptions = {},
	) {}

	/** Buffer one outcome of an item served while `channel` ran canary `canaryId` (no I/O). */
	record(promptId: string, channel: string, canaryId: string, arm: Arm, version: number, outcome: Outcome): void {
		this.push({ promptId, channel, logId: canaryId, kind: 'canary' }, arm, version, outcome);
	}

	/**
	 * Buffer one outcome of an item `channel` served (stable, `version`) without a canary in force, for its
	 * served log (no I/O, never a freeze check). A channel name that fits no log id is skipped with a warning.
	 */
	recordServed(promptId: string, channel: string, version: number, outcome: Outcome): void {
		const logId = servedLogId(channel);
		if (!logId) {
			this.warn(`prompt-release: outcome of "${promptId}" on channel "${channel}" not recorded: the channel name is not made of at most 93 letters, digits, "_" and "-"`);
			return;
		}
		this.push({ promptId, channel, logId, kind: 'served' }, 'stable', version, outcome);
	}

	private push(log: Omit<Batch, 'records'>, arm: Arm, version: number, outcome: Outcome): void {
		const key = keyOf(log);
		let batch = this.buffer.get(key);
		if (!batch) {
			batch = { ...log, records: [] };
			this.buffer.set(key, batch);
		}
		batch.records.push({ at: (this.options.now?.() ?? new Date()).toISOString(), arm, version, outcome });
	}

	/** Records waiting for a flush. */
	get size(): number {
		let n = 0;
		for (const b of this.buffer.values()) n += b.records.length;
		return n;
	}

	/**
	 * Append everything buffered, then evaluate the freeze rule of every canary appended to (throttled, see
	 * `freezeCheckIntervalMs`; served logs are never checked). Never throws.
	 */
	async flush(): Promise<FlushResult> {
		return await this.serialized(() => this.flushNow());
	}

	/** Cancel deferred freeze checks and forget past ones (the next flush checks at once). */
	close(): void {
		for (const state of this.checks.values()) if (state.timer) clearTimeout(state.timer);
		this.checks.clear();
	}

	/** Flushes and deferred checks run one after another. */
	private async serialized<T>(task: () => Promise<T>): Promise<T> {
		const run = this.chain.then(task, task);
		this.chain = run.catch(() => undefined);
		return await run;
	}

	private nowMs(): number {
		return (this.options.now?.() ?? new Date()).getTime();
	}

	private get interval(): number {
		return Math.max(0, this.options.freezeCheckIntervalMs ?? DEFAULT_FREEZE_CHECK_INTERVAL_MS);
	}

	/** Whether a flush that appended `batch` must check the freeze rule now. */
	private mustCheck(batch: Batch): boolean {
		const state = this.checks.get(keyOf(batch));
		if (!state || this.interval === 0) return true;
		state.appendedSince += canaryItems(batch.records);
		if (this.nowMs() - state.at >= this.interval) return true;
		// This flush brought the canary across minItems: the first check the rule applies to runs now.
		const min = state.rule ? Math.max(1, state.rule.minItems) : undefined;
		return min !== undefined && state.canaryItems < min && state.canaryItems + state.appendedSince >= min;
	}

	/** Run a skipped check when the interval ends, unless one is due already. */
	private defer(batch: Batch): void {
		const state = this.checks.get(keyOf(batch));
		if (!state || state.timer) return;
		const delay = Math.max(0, state.at + this.interval - this.nowMs());
		const canary: Batch = { ...batch, records: [] };
		state.timer = setTimeout(() => {
			state.timer = undefined;
			// Frozen: onFrozen and the logger report it; errors are logged.
			void this.serialized(async () => await this.checkAndReport(canary, { appended: 0, pending: 0, frozen: [], errors: [] }));
		}, delay);
		// Never keeps a process alive.
		state.timer.unref?.();
	}

	private async checkAndReport(batch: Batch, result: FlushResult): Promise<void> {
		try {
			const event = await this.checkFreeze(batch);
			if (event) result.frozen.push(event);
		} catch (error) {
			// The next flush checks again.
			this.forget(batch);
			const message = `prompt-release: could not evaluate the freeze rule of "${batch.promptId}" canary ${batch.logId}: ${error instanceof Error ? error.message : String(error)}`;
			result.errors.push(message);
			this.warn(message);
		}
	}

	private forget(batch: Batch): void {
		const key = keyOf(batch);
		const state = this.checks.get(key);
		if (state?.timer) clearTimeout(state.timer);
		this.checks.delete(key);
	}

	private warn(message: string): void {
		(this.options.logger ?? console).warn(message);
	}

	private async flushNow(): Promise<FlushResult> {
		const batches = [...this.buffer.values()].filter((b) => b.records.length > 0);
		this.buffer = new Map();
		const result: FlushResult = { appended: 0, pending: 0, frozen: [], errors: [] };
		const attempts = Math.max(1, this.options.attempts ?? 3);
		const appended: Batch[] = [];
		for (const batch of batches) {
			let lastError: unknown;
			let ok = false;
			for (let attempt = 0; attempt < attempts && !ok; attempt++) {
				try {
					if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
					await this.store.appendOutcomes(batch.promptId, batch.logId, batch.records);
					ok = true;
				} catch (error) {
					lastError = error;
				}
			}
			if (ok) {
				result.appended += batch.records.length;
				appended.push(batch);
			} else {
				// Keep them, ahead of anything recorded meanwhile.
				const key = keyOf(batch);
				const newer = this.buffer.get(key);
				const kept = [...batch.records, ...(newer?.records ?? [])];
				const cap = Math.max(1, this.options.maxPendingPerLog ?? DEFAULT_MAX_PENDING_PER_LOG);
				const dropped = Math.max(0, kept.length - cap);
				this.buffer.set(key, { ...batch, records: dropped ? kept.slice(dropped) : kept });
				result.pending += batch.records.length - Math.min(dropped, batch.records.length);
				const log = batch.kind === 'canary' ? `canary ${batch.logId}` : `channel "${batch.channel}" (served log ${batch.logId})`;
				const lost = dropped ? `; ${dropped} oldest dropped: more than ${cap} waiting` : '';
				const message = `prompt-release: could not append ${batch.records.length} ${batch.kind} outcome(s) of "${batch.promptId}" ${log} (kept for the next flush${lost}): ${lastError instanceof Error ? lastError.message : String(lastError)}`;
				result.errors.push(message);
				this.warn(message);
			}
		}
		// Served logs have no canary arm to compare: no freeze check, whatever the policy says.
		for (const batch of appended.filter((b) => b.kind === 'canary')) {
			if (this.mustCheck(batch)) await this.checkAndReport(batch, result);
			else this.defer(batch);
		}
		return result;
	}

	private async checkFreeze(batch: Batch): Promise<FreezeEvent | undefined> {
		const ruleOf = this.options.freezeRule ?? (async (store: RegistryStore, promptId: string) => (await loadPolicy(store, promptId)).freeze);
		const at = this.nowMs();
		const rule = await ruleOf(this.store, batch.promptId);
		const state: CheckState = { at, rule, canaryItems: 0, appendedSince: 0 };
		const remember = (): void => {
			const previous = this.checks.get(keyOf(batch));
			if (previous?.timer) clearTimeout(previous.timer);
			this.checks.set(keyOf(batch), state);
		};
		if (!rule) {
			remember();
			return undefined;
		}
		const stats = armStats(await this.store.readOutcomes(batch.promptId, batch.logId));
		state.canaryItems = stats.canary.items;
		remember();
		const reason = evaluateFreeze(stats, rule);
		if (!reason) return undefined;
		const freeze = this.options.freeze ?? (async (store: RegistryStore, promptId: string, channel: string, canaryId: string, why: string) => await freezeCanary(store, promptId, channel, canaryId, why, { by: 'prompt-release (freeze rule)' }));
		const froze = await freeze(this.store, batch.promptId, batch.channel, batch.logId, reason);
		if (!froze) return undefined;
		const event: FreezeEvent = { promptId: batch.promptId, channel: batch.channel, canaryId: batch.logId, reason };
		this.options.logger?.info?.(`prompt-release: canary ${batch.logId} of "${batch.promptId}" on "${batch.channel}" frozen: ${reason}`);
		this.options.onFrozen?.(event);
		return event;
	}
}
