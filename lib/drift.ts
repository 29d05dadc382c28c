/**
 * Silent model drift: a model updated behind an unchanged name answers differently with the same prompt.
 * `checkDrift` reruns the released version's fixtures with fresh answers (the caller passes a provider
 * without the response cache) and compares answer by answer with the run behind the release. Any changed
 * answer counts — also when both still pass — because the next email may be the one that flips.
 * Nothing is written to the registry.
 *
 * Streamed like `test` (docs/adr/0031): the released run's results are read once into a compact index (per
 * fixture its inputs hash, validity, value and whether it passed), fixtures are pulled one at a time, and each
 * fresh answer is compared as it arrives. Only counts and the first DRIFT_LISTED changed and not-compared
 * fixtures are kept; their answers in the released run are read again at the end.
 */
import { ConfigError } from './errors';
import { resolvePrompt } from './registry/resolve';
import { fixtureInputsHash } from './runner';
import { streamFixtureRun } from './streamed-run';
import { loadPolicy } from './policy';
import { valuesEqual } from './schema';
import { namedList } from './listing';
import type { Provider } from './providers/types';
import type { RegistryStore } from './registry/store';
import type { Fixture, FixtureResult, OutputValue, RunHeader } from './types';

/** How many changed answers, and how many fixtures not compared, a drift report lists (it counts all). */
export const DRIFT_LISTED = 100;

/** One answer as compared: the value read (null when invalid), whether it was valid and passed, the raw text. */
export interface DriftAnswer {
	value: OutputValue | null;
	valid: boolean;
	passed: boolean;
	rawOutput: string | null;
	reason?: string;
}

export interface DriftChange {
	fixtureId: string;
	segment: string;
	expected: OutputValue;
	/** The answer in the run behind the release. */
	before: DriftAnswer;
	/** The fresh answer. */
	after: DriftAnswer;
}

/** Why a fixture was not compared: added since the release, inputs edited since, or no way to tell (see `DriftSkip.kind`). */
export interface DriftSkip {
	fixtureId: string;
	/**
	 * `new`: not in the released run; `inputs-changed`: its inputs differ from those the released run recorded
	 * (not sent to the model); `inputs-unknown`: the released run predates inputs hashes and the answer
	 * differs, so an edited fixture cannot be told from drift (`before` and `after` give both answers).
	 */
	kind: 'new' | 'inputs-changed' | 'inputs-unknown';
	why: string;
	before?: DriftAnswer;
	after?: DriftAnswer;
}

export interface DriftReport {
	promptId: string;
	channel: string;
	version: number;
	contentHash: string;
	model: { provider: string; name: string };
	/** The run behind the release, and when it finished. */
	releasedRunId: string;
	releasedRunAt: string;
	checkedAt: string;
	/** True when any compared answer changed. */
	changed: boolean;
	/** Fixtures whose answers were compared. */
	compared: number;
	/** How many compared answers changed. */
	changedCount: number;
	/** The first DRIFT_LISTED changed answers, in fixture order (`changedCount` counts them all). */
	changes: DriftChange[];
	/** How many fixtures were not compared. */
	skippedCount: number;
	/** The first DRIFT_LISTED fixtures not compared, with why (`skippedCount` counts them all). */
	skipped: DriftSkip[];
	/** The fresh run's summary document (not stored; no results): pass rate, cost and tokens of the check itself. */
	run: RunHeader;
}

export interface DriftOptions {
	channel?: string;
	/** A provider that asks the model (no response cache: a cached answer cannot show drift). */
	provider: Provider;
	concurrency?: number;
	/**
	 * Fixtures to compare, as a list or pulled one at a time (each read once); default every fixture streamed
	 * from the store, each checked against the released prompt as it is read.
	 */
	fixtures?: Iterable<Fixture> | AsyncIterable<Fixture>;
	now?: () => Date;
	/** Called as each fresh answer arrives (progress). */
	onResult?: (result: FixtureResult) => void;
	/** Called for each fixture not sent to the model (added or edited since the release), as it is read (progress). */
	onSkipped?: (fixtureId: string) => void;
	/** Batch ids the run went through (`--batch`), read after the run to record them in the fresh run. */
	batchIds?: () => string[];
	/** Stops the check (Ctrl-C): the run rejects with RunInterrupted (see RunFixturesOptions.signal). */
	signal?: AbortSignal;
}

const VALID = 1;
const PASSED = 2;
/** The result records a sha256 inputs hash (its digest is kept). */
const HASHED = 4;
/** The result records an inputs hash of another form: no fixture hashes to it, so its inputs changed. */
const FOREIGN_HASH = 8;
const DIGEST_BYTES = 32;
const SHA256_HASH = /^sha256:([0-9a-f]{64})$/;

/** What the drift check keeps of a released result: enough to tell a changed answer, never the raw text. */
interface ReleasedAnswer {
	valid: boolean;
	actual: OutputValue | null;
	passed: boolean;
}

/**
 * The released run's answers, compact for the whole check: per fixture id a slot into a flags byte, the 32-byte
 * inputs digest and the value read — 100,000 fixtures take ~15 MB, an object per result ~45 MB.
 */
export class ReleasedAnswers {
	private readonly slots = new Map<string, number>();
	private flags = new Uint8Array(1024);
	private digests = new Uint8Array(1024 * DIGEST_BYTES);
	private readonly values: Array<OutputValue | null> = [];
	/** The fixtures that passed (the fresh run's regressions are judged against them). */
	readonly passed = new Set<string>();

	/** Keep one released result (a fixture listed twice: the last result counts). */
	add(r: FixtureResult): void {
		let slot = this.slots.get(r.fixtureId);
		if (slot === undefined) {
			slot = this.values.length;
			this.slots.set(r.fixtureId, slot);
			this.values.push(null);
			if (slot >= this.flags.length) this.grow();
		}
		let flags = (r.valid ? VALID : 0) | (r.passed ? PASSED : 0);
		const hash = r.inputsHash === undefined ? undefined : SHA256_HASH.exec(r.inputsHash);
		if (hash) {
			flags |= HASHED;
			this.digests.set(Buffer.from(hash[1], 'hex'), slot * DIGEST_BYTES);
		} else if (r.inputsHash !== undefined) flags |= FOREIGN_HASH;
		this.flags[slot] = flags;
		this.values[slot] = r.valid ? r.actual : null;
		if (r.passed) this.passed.add(r.fixtureId);
		else this.passed.delete(r.fixtureId);
	}

	/** Whether the run has a result for the fixture. */
	has(fixtureId: string): boolean {
		return this.slots.has(fixtureId);
	}

	/** Whether the fixture's result records an inputs hash (runs stored before they were recorded have none). */
	recordsInputs(fixtureId: string): boolean {
		const slot = this.slots.get(fixtureId);
		return slot !== undefined && (this.flags[slot] & (HASHED | FOREIGN_HASH)) !== 0;
	}

	/** The released answer to a fixture; undefined when the run has no result for it. */
	answer(fixtureId: string): ReleasedAnswer | undefined {
		const slot = this.slots.get(fixtureId);
		if (slot === undefined) return undefined;
		const flags = this.flags[slot];
		return { valid: (flags & VALID) !== 0, actual: this.values[slot], passed: (flags & PASSED) !== 0 };
	}

	/**
	 * Whether the fixture's released result ran with these inputs (`fixtureInputsHash`), as `ranWithInputs`
	 * tells it: true or false when the result records its inputs hash, undefined when it records none.
	 */
	ranWithInputs(fixtureId: string, inputsHash: string): boolean | undefined {
		const slot = this.slots.get(fixtureId);
		if (slot === undefined) return undefined;
		const flags = this.flags[slot];
		if (flags & FOREIGN_HASH) return false;
		if (!(flags & HASHED)) return undefined;
		const hash = SHA256_HASH.exec(inputsHash);
		if (!hash) return false;
		const start = slot * DIGEST_BYTES;
		return Buffer.compare(Buffer.from(hash[1], 'hex'), this.digests.subarray(start, start + DIGEST_BYTES)) === 0;
	}

	private grow(): void {
		const flags = new Uint8Array(this.flags.length * 2);
		flags.set(this.flags);
		this.flags = flags;
		const digests = new Uint8Array(this.digests.length * 2);
		digests.set(this.digests);
		this.digests = digests;
	}
}

/** A released answer from the compact index (no raw text) until `fillReleasedAnswers` reads the whole one. */
function compactAnswer(a: ReleasedAnswer): DriftAnswer {
	return { value: a.actual, valid: a.valid, passed: a.passed, rawOutput: null };
}

function answerOf(r: FixtureResult): DriftAnswer {
	return { value: r.valid ? r.actual : null, valid: r.valid, passed: r.passed, rawOutput: r.rawOutput, ...(r.reason ? { reason: r.reason } : {}) };
}

/** Whether two answers to the same fixture differ: validity or value (raw text that reads the same is no change). */
export function answerChanged(before: Pick<FixtureResult, 'valid' | 'actual'>, after: Pick<FixtureResult, 'valid' | 'actual'>): boolean {
	if (before.valid !== after.valid) return true;
	return before.valid ? !valuesEqual(before.actual, after.actual) : false;
}

/** Why a changed answer is not compared when the released run records no inputs hash for its fixture. */
export function unknownInputsWhy(runId: string): string {
	return `cannot tell whether its inputs changed since run ${runId} (the run predates inputs hashes)`;
}

/**
 * Rerun the released version's fixtures and compare each fresh answer with the released run's. Throws
 * ConfigError when the channel has no release or the release records no run (nothing to compare with), a
 * fixture does not fit the released prompt, or the released run cannot be read; and whatever the run throws
 * (a fatal provider error: no key, unknown model).
 */
export async function checkDrift(store: RegistryStore, promptId: string, options: DriftOptions): Promise<DriftReport> {
	const channel = options.channel ?? 'production';
	const pointer = (await store.readReleases(promptId)).channels[channel];
	if (!pointer) throw new ConfigError(`prompt "${promptId}" has nothing released on channel "${channel}": release a version first ("prompt-release release ${promptId} --version N --channel ${channel}")`);
	if (!pointer.runId) {
		throw new ConfigError(`the release of "${promptId}" version ${pointer.version} on "${channel}" records no test run (released before runs were recorded, or forced): test it and release again, so drift has answers to compare with`);
	}
	const releasedRun = await store.readRunHeader(promptId, pointer.runId);
	const runId = releasedRun.runId;
	const resolved = await resolvePrompt(store, promptId, { version: pointer.version });
	// One pass over the released results: a compact answer per fixture, and which passed (for the fresh run's regressions).
	const released = new ReleasedAnswers();
	for await (const r of store.readRunResults(promptId, runId)) released.add(r);
	let skippedCount = 0;
	const skipped: DriftSkip[] = [];
	const skip = (entry: DriftSkip): void => {
		skippedCount++;
		if (skipped.length < DRIFT_LISTED) skipped.push(entry);
	};
	const source = options.fixtures ?? store.streamFixtures(promptId, resolved.spec);
	async function* toCompare(): AsyncGenerator<Fixture> {
		for await (const f of source) {
			if (!released.has(f.id)) skip({ fixtureId: f.id, kind: 'new', why: `not in run ${runId} (added after the release)` });
			else if (released.ranWithInputs(f.id, fixtureInputsHash(f)) === false) skip({ fixtureId: f.id, kind: 'inputs-changed', why: `inputs changed since run ${runId}` });
			else {
				yield f;
				continue;
			}
			options.onSkipped?.(f.id);
		}
	}
	const policy = await loadPolicy(store, promptId);
	let compared = 0;
	let changedCount = 0;
	const changes: DriftChange[] = [];
	const fresh = await streamFixtureRun({
		resolved,
		fixtures: toCompare(),
		provider: options.provider,
		concurrency: options.concurrency,
		pricing: await store.readPricing(),
		baseline: { runId, passed: released.passed },
		compare: policy.compare,
		now: options.now,
		onResult: options.onResult,
		sink: (after) => {
			const before = released.answer(after.fixtureId)!;
			if (!answerChanged(before, after)) compared++;
			// Without an inputs hash the run cannot show the fixture is the one it ran: a different answer may be an edit.
			else if (!released.recordsInputs(after.fixtureId)) {
				skip({ fixtureId: after.fixtureId, kind: 'inputs-unknown', why: unknownInputsWhy(runId), before: compactAnswer(before), after: answerOf(after) });
			}
			else {
				compared++;
				changedCount++;
				if (changes.length < DRIFT_LISTED) changes.push({ fixtureId: after.fixtureId, segment: after.segment, expected: after.expected, before: compactAnswer(before), after: answerOf(after) });
			}
		},
		signal: options.signal,
	});
	await fillReleasedAnswers(store, promptId, runId, [...changes, ...skipped.filter((s) => s.before)]);
	const batchIds = options.batchIds?.() ?? [];
	return {
		promptId,
		channel,
		version: pointer.version,
		contentHash: resolved.contentHash,
		model: { provider: resolved.spec.model.provider, name: resolved.spec.model.name },
		releasedRunId: runId,
		releasedRunAt: releasedRun.finishedAt,
		checkedAt: (options.now?.() ?? new Date()).toISOString(),
		changed: changedCount > 0,
		compared,
		changedCount,
		changes,
		skippedCount,
		skipped,
		run: batchIds.length ? { ...fresh, batchIds } : fresh,
	};
}

/** The listed entries' answers in the released run (`before`), read again from it: only they need the raw text. */
async function fillReleasedAnswers(store: RegistryStore, promptId: string, runId: string, listed: Array<{ fixtureId: string; before?: DriftAnswer }>): Promise<void> {
	// Read once more only when something is listed: a run with no change needs no raw text.
	if (!listed.length) return;
	const wanted = new Map(listed.map((entry) => [entry.fixtureId, entry]));
	for await (const r of store.readRunResults(promptId, runId)) {
		const entry = wanted.get(r.fixtureId);
		if (entry) entry.before = answerOf(r);
	}
}

/** The report as Markdown (for an issue, a chat message or a CI job summary): the listed changes, not-compared fixtures capped. */
export function driftMarkdown(report: DriftReport): string {
	const head = report.changed
		? `### Model drift: \`${report.promptId}\` — ⚠️ ${report.changedCount} of ${report.compared} answers changed`
		: `### Model drift: \`${report.promptId}\` — ✅ no answer changed (${report.compared} compared)`;
	const lines = [
		head,
		'',
		`**Release:** v${report.version} on \`${report.channel}\` · \`${report.model.provider}:${report.model.name}\` · run \`${report.releasedRunId}\` (${report.releasedRunAt})`,
		`**Checked:** ${report.checkedAt}, fresh answers (no cache) · pass rate now ${(report.run.summary.passRate * 100).toFixed(1)}%`,
	];
	const cell = (a: DriftAnswer) => (a.valid ? `\`${JSON.stringify(a.value)}\`${a.passed ? '' : ' ✗'}` : `invalid${a.reason ? `: ${a.reason.replace(/\|/g, '\\|').slice(0, 80)}` : ''}`);
	if (report.changes.length) {
		lines.push('', '| Fixture | Segment | Expected | Before | Now |', '| --- | --- | --- | --- | --- |');
		for (const c of report.changes) lines.push(`| ${c.fixtureId} | ${c.segment} | \`${JSON.stringify(c.expected)}\` | ${cell(c.before)} | ${cell(c.after)} |`);
		if (report.changedCount > report.changes.length) lines.push('', `…and ${report.changedCount - report.changes.length} more changed answers.`);
	}
	if (report.skippedCount) {
		const entries = report.skipped.map((s) => `${s.fixtureId} (${s.why}${s.before && s.after ? `; was ${cell(s.before)}, now ${cell(s.after)}` : ''})`);
		lines.push('', `Not compared: ${namedList(entries, { total: report.skippedCount })}`);
	}
	if (report.skipped.some((s) => s.kind === 'inputs-unknown')) {
		lines.push('', `Run \`${report.releasedRunId}\` predates inputs hashes: an answer that differs there may come from a fixture edited since the release, so it is not called drift.`);
	}
	return `${lines.join('\n')}\n`;
}
