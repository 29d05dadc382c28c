import type { ReviewCase, ReviewClosing, ReviewRequest, ReviewStatus } from '../review/types';
import type { FreezeRule } from '../policy';
import type { ClassThresholds } from '../accuracy/class-rules';
import type { ConfigError } from '../errors';
import type { CompareRule, Fixture, FixtureResult, FrozenVersion, OutcomeRecord, PromptSpec, ReleasesState, RunHeader, RunReport } from '../types';

/**
 * Writes one run as it happens: results are appended one at a time (in fixture order) and nothing is
 * visible to readers until `commit` stores the summary document. Memory stays flat however many results.
 */
export interface RunWriter {
	append(result: FixtureResult): Promise<void>;
	/** Make the run visible; throws ConfigError when a run with that id exists, or when the run was discarded. */
	commit(header: RunHeader): Promise<void>;
	/**
	 * Drop everything appended (the run never becomes visible); later appends and commits are refused. Safe to
	 * call at any time, also while an append or the commit is under way (Ctrl-C): it waits for that write, and
	 * resolves to false, dropping nothing, when the commit finished first (the run is stored); else true.
	 */
	discard(): Promise<boolean>;
}

/** A version and the content hash the caller holds for it (see `RegistryStore.recordFixtureForInputs`). */
export interface VersionGuard {
	version: number;
	contentHash: string;
}

/**
 * The fixture a correction writes over `existing` (the fixture that already covers its inputs): that
 * fixture's id, and its segment and note where the correction brings none. Key order as fixtures are written.
 */
export function mergeCorrection(existing: Fixture | undefined, fixture: Fixture): Fixture {
	const segment = fixture.segment ?? existing?.segment;
	const note = fixture.note ?? existing?.note;
	const tags = fixture.tags?.length ? fixture.tags : existing?.tags;
	return {
		id: existing?.id ?? fixture.id,
		inputs: fixture.inputs,
		expected: fixture.expected,
		...(segment ? { segment } : {}),
		...(tags?.length ? { tags } : {}),
		source: fixture.source,
		...(note ? { note } : {}),
		...(fixture.recorded ? { recorded: fixture.recorded } : {}),
	};
}

/** Prices in USD per million tokens, keyed `provider:model` or just `model`. */
export type PriceTable = Record<string, { input: number; output: number }>;

/** A `policy.yaml` as written: every key optional (defaults and precedence: lib/policy.ts). */
export interface PolicyFile {
	maxRegressions?: number;
	minPassRate?: number;
	maxCostIncreasePct?: number;
	maxP95LatencyIncreasePct?: number;
	repeat?: number;
	compare?: Record<string, CompareRule>;
	freeze?: FreezeRule;
	maxEvidenceAgeHours?: number;
	requireTags?: string[];
	approvals?: number;
	minAgreement?: number;
	minRecall?: ClassThresholds;
	minPrecision?: ClassThresholds;
	minF1?: ClassThresholds;
}

/**
 * The seam between the registry logic and where the registry lives.
 * Files in a folder (FileRegistryStore, one n8n host) or PostgreSQL (PostgresRegistryStore, n8n queue mode).
 * Every read validates what it returns; every write is atomic.
 */
export interface RegistryStore {
	/** Where the registry lives, for messages (a folder path or a connection label). */
	readonly location: string;

	listPrompts(): Promise<string[]>;
	readDraft(promptId: string): Promise<PromptSpec>;
	writeDraft(spec: PromptSpec): Promise<void>;

	listVersions(promptId: string): Promise<number[]>;
	/** Throws ConfigError when the content no longer matches its hash. */
	readVersion(promptId: string, version: number): Promise<FrozenVersion>;
	/** Create-only: returns false (writing nothing) when that version already exists. */
	createVersion(promptId: string, frozen: FrozenVersion): Promise<boolean>;

	/** Fixtures, validated against `spec` when given (inputs and expected). */
	listFixtures(promptId: string, spec?: PromptSpec): Promise<Fixture[]>;
	/**
	 * The same fixtures one at a time, in id order, without holding them all. A fixture that fails its check
	 * throws, unless `onProblem` is given: then it is reported there and skipped.
	 */
	streamFixtures(promptId: string, spec?: PromptSpec, onProblem?: (error: ConfigError) => void): AsyncIterable<Fixture>;
	readFixture(promptId: string, fixtureId: string, spec?: PromptSpec): Promise<Fixture | undefined>;
	/**
	 * Create or replace the fixture with that id (upsert; safe from many processes at once). Resolves to true
	 * when this call created it, false when it replaced one: decided atomically by the write itself, so of many
	 * writers of a new id exactly one sees true.
	 */
	writeFixture(promptId: string, fixture: Fixture): Promise<boolean>;
	/** The fixture whose inputs equal `inputs` (canonical JSON), if any: corrections update it rather than add a contradicting one. */
	findFixtureByInputs(promptId: string, inputs: Record<string, unknown>): Promise<Fixture | undefined>;
	/**
	 * A correction's fixture in one step (Record Correction's hot path; one query on PostgreSQL). The fixture
	 * that covers `fixture.inputs` — the one with id `fixture.id` (derived from the inputs), else the one found
	 * by inputs — is replaced by `fixture` under its own id, keeping its segment and note where `fixture` has
	 * none (`mergeCorrection`); with no such fixture, `fixture` is created. With `guard`, nothing is written
	 * and undefined is returned unless that version still has that content hash in storage, checked in the
	 * same step (the caller's cached copy of the version is then out of date). A pending review case of the
	 * same inputs (`reviewCaseId(fixture.inputs)`) is resolved with the fixture's id in the same step.
	 */
	recordFixtureForInputs(promptId: string, fixture: Fixture, guard?: VersionGuard): Promise<{ fixture: Fixture; created: boolean } | undefined>;

	/**
	 * Queue items for a person (lib/review/types.ts). One case per prompt and inputs (`reviewCaseId`): queueing
	 * inputs again counts one more occurrence and keeps the latest answer and reason; queueing a closed case
	 * opens it again. Safe from many processes at once; nothing is lost.
	 */
	queueReviews(promptId: string, requests: ReviewRequest[]): Promise<void>;
	/** The prompt's review cases, first seen first; with `status`, only those. */
	listReviews(promptId: string, status?: ReviewStatus): Promise<ReviewCase[]>;
	/** How many cases the prompt has per status (0 for none), without reading their bodies where the store can (status, metrics). */
	countReviews(promptId: string): Promise<Record<ReviewStatus, number>>;
	/**
	 * Close a pending case (resolved by a correction, or dismissed with a reason). Resolves to the case as
	 * stored afterwards — unchanged when it was already closed (the first closing wins) — or undefined when
	 * no case has that id. `recordFixtureForInputs` resolves the case of the same inputs in the same step.
	 */
	closeReview(promptId: string, caseId: string, closing: ReviewClosing): Promise<ReviewCase | undefined>;

	readReleases(promptId: string): Promise<ReleasesState>;
	/** Read-modify-write under a lock, so concurrent releases/rollbacks never lose an entry. */
	updateReleases(promptId: string, mutate: (state: ReleasesState) => ReleasesState | Promise<ReleasesState>): Promise<ReleasesState>;

	/** Store a whole run at once (through a RunWriter). Throws ConfigError when the run id exists. */
	writeRun(report: RunReport): Promise<void>;
	/** Start writing a run whose results arrive one at a time (the runner's streaming path). */
	createRunWriter(promptId: string, runId: string): Promise<RunWriter>;
	/** A run with every result in memory: for small runs; large ones read `readRunHeader` + `readRunResults`. */
	readRun(promptId: string, runId: string): Promise<RunReport>;
	/** The run's summary document without results (cheap whatever the run's size). */
	readRunHeader(promptId: string, runId: string): Promise<RunHeader>;
	/** The run's results one at a time, in stored order; runs stored as one document are read the same way. */
	readRunResults(promptId: string, runId: string): AsyncIterable<FixtureResult>;
	/** Run ids, oldest first. */
	listRuns(promptId: string): Promise<string[]>;

	/**
	 * The canary outcome log: append-only, safe with many processes (each writes its own file / rows).
	 * Records are appended in batches by the nodes; read back whole for arm statistics.
	 */
	appendOutcomes(promptId: string, canaryId: string, records: OutcomeRecord[]): Promise<void>;
	readOutcomes(promptId: string, canaryId: string): Promise<OutcomeRecord[]>;

	/**
	 * The gate policy file, validated: registry-wide (`policy.yaml` at the root) without a prompt id,
	 * else that prompt's own `<prompt>/policy.yaml`. Empty when the file does not exist.
	 */
	readPolicy(promptId?: string): Promise<PolicyFile>;
	/** Replace the policy (registry-wide without a prompt id); written by `publish`. */
	writePolicy(policy: PolicyFile, promptId?: string): Promise<void>;

	/** The registry's price table overrides (`pricing.yaml`), empty when none. */
	readPricing(): Promise<PriceTable>;
	/** Replace the price table overrides; written by `publish`. */
	writePricing(prices: PriceTable): Promise<void>;
}
