/**
 * Core data types shared by the registry, the runner, the CLI and the n8n nodes.
 * Framework-free: nothing here imports n8n.
 */
import type { FinishReason } from './providers/types';
import type { AgreementSummary, ClassMetrics, ConsensusOutcome, ConsensusSpec } from './accuracy/types';

export type { AgreementSummary, ClassMetrics, ClassStats, ConsensusOutcome, ConsensusSpec } from './accuracy/types';

export type ProviderName = 'openai' | 'anthropic' | 'openai-compatible';

export interface ModelSpec {
	provider: ProviderName;
	name: string;
	temperature: number;
	maxTokens: number;
	/** Base URL for OpenAI-compatible servers (Ollama, vLLM, …) or a proxy. */
	baseUrl?: string;
	/** OpenAI only: which API to call. Defaults to chat completions. */
	api?: 'chat' | 'responses';
}

export type InputType = 'string' | 'number' | 'boolean';

export interface InputSpec {
	type: InputType;
	required: boolean;
	description?: string;
}

/** A declared scalar output: what a signal may return. */
export type ScalarSchema =
	| { type: 'boolean'; nullable?: boolean; description?: string }
	| {
			type: 'integer' | 'number';
			minimum?: number;
			maximum?: number;
			nullable?: boolean;
			description?: string;
	  }
	| { type: 'string'; enum: string[]; nullable?: boolean; description?: string }
	| { type: 'string'; format: 'date'; nullable?: boolean; description?: string }
	| { type: 'string'; maxLength?: number; nullable?: boolean; description?: string };

export interface ObjectSchema {
	type: 'object';
	properties: Record<string, ScalarSchema>;
	description?: string;
}

export type OutputSchema = ScalarSchema | ObjectSchema;

export type ScalarValue = boolean | number | string | null;
export type OutputValue = ScalarValue | Record<string, ScalarValue>;

/** The editable draft (`prompt.yaml`) and the content of every frozen version. */
export interface PromptSpec {
	id: string;
	description: string;
	model: ModelSpec;
	inputs: Record<string, InputSpec>;
	instructions: string;
	template: string;
	output: OutputSchema;
	limitations: string;
	/** Optional: answers that must agree before a value is valid (absent: one answer, as before; old versions hash as before). */
	consensus?: ConsensusSpec;
	/** Carried verbatim; not interpreted by this version. */
	tools?: unknown;
	/** Carried verbatim; not interpreted by this version. */
	retrieval?: unknown;
}

/** `versions/<N>.yaml`: immutable once written. */
export interface FrozenVersion {
	version: number;
	contentHash: string;
	createdAt: string;
	author?: string;
	message?: string;
	prompt: PromptSpec;
}

export type FixtureSource = 'manual' | 'correction' | 'import';

export interface Fixture {
	id: string;
	inputs: Record<string, unknown>;
	expected: OutputValue;
	segment?: string;
	/** Free labels for hard cases (`ambiguous`, `adversarial`, `long-context`, `quoted-thread`, …): pass rates are reported per tag and policy `requireTags` asks for them. */
	tags?: string[];
	source: FixtureSource;
	note?: string;
	recorded?: { version: number | 'draft'; modelOutput: unknown; at: string };
	/** Per-field comparison overriding the prompt's policy (key "value" for scalar outputs). */
	compare?: Record<string, CompareRule>;
}

/**
 * How an expected value is compared with the answer: exact (default), numeric tolerance,
 * case-insensitive text, or any one of several accepted values.
 */
export type CompareRule =
	| 'exact'
	| 'caseInsensitive'
	| { tolerance: { absolute?: number; relative?: number } }
	| { oneOf: ScalarValue[] };

/**
 * release: a version takes a channel (100 %). rollback: the channel goes back (or a canary ends).
 * canary: a version serves part of a channel's traffic. promote: the canary takes 100 %.
 * freeze: a canary breached a freeze rule and all traffic went back to stable by itself.
 * approve: a person other than the author approved `version` (and its gating run `runId`) for `channel`;
 * the channel does not change.
 */
export type HistoryAction = 'release' | 'rollback' | 'canary' | 'promote' | 'freeze' | 'approve';

export interface HistoryEntry {
	at: string;
	action: HistoryAction;
	channel: string;
	/** The version the channel points to after this entry. */
	version: number;
	/** The version the channel pointed to before (absent on the first release). */
	from?: number;
	by: string;
	reason?: string;
	runId?: string;
	contentHash?: string;
	/** Released with --force past a refusing gate: shown loudly in status. */
	forced?: boolean;
	/** canary entries: the share of traffic, or the routing keys, that got the canary. */
	percent?: number;
	segments?: string[];
	/** canary/freeze/promote entries: the canary concerned. */
	canaryId?: string;
}

/** The canary arm of a channel: a second version serving part of the traffic, routed sticky by key. */
export interface CanaryArm {
	/** Unique per canary start; names its outcome log and salts its routing hash. */
	id: string;
	version: number;
	contentHash: string;
	since: string;
	runId?: string;
	/** Share of routing keys (0 < percent < 100) that get the canary… */
	percent?: number;
	/** …or exactly these routing keys (e.g. internal, acme-metals). One of the two is set. */
	segments?: string[];
	/** Set when a freeze rule was breached: all traffic goes to stable until promote or rollback. */
	frozen?: { at: string; reason: string };
}

export interface ChannelPointer {
	/** The stable version: all traffic, or all traffic the canary does not take. */
	version: number;
	contentHash: string;
	since: string;
	runId?: string;
	forced?: boolean;
	canary?: CanaryArm;
}

export type Arm = 'stable' | 'canary';

/** One outcome of one served item, appended by nodes to the canary's outcome log. */
export interface OutcomeRecord {
	at: string;
	arm: Arm;
	version: number;
	outcome: 'valid' | 'invalid' | 'corrected';
}

/** `releases.yaml` */
export interface ReleasesState {
	channels: Record<string, ChannelPointer>;
	history: HistoryEntry[];
}

/** Which prompt text answers a call. */
export interface ResolvedPrompt {
	promptId: string;
	version: number | 'draft';
	contentHash: string;
	/** The channel that was asked for, when the call named one. */
	channel?: string;
	/** Which arm of the channel served it (absent for pinned versions and drafts). */
	arm?: Arm;
	/** The canary in force when `arm` was decided. */
	canaryId?: string;
	spec: PromptSpec;
	/** Served from a warm cache while the registry could not be read (stale-if-error): last good read and the error. */
	stale?: { since: string; reason: string };
}

export interface Usage {
	inputTokens: number;
	outputTokens: number;
}

/** Metadata every call carries, valid or not. */
export interface CallMeta {
	prompt: string;
	version: number | 'draft';
	contentHash: string;
	channel?: string;
	arm?: Arm;
	model: string;
	provider: ProviderName;
	latencyMs: number;
	inputTokens: number;
	outputTokens: number;
	costUsd: number;
	/** Number of model calls made (1, or 2 when a repair was needed). */
	calls: number;
	repaired: boolean;
	/** How each call's answer ended, in call order (see FinishReason in lib/providers/types.ts). */
	finishReasons: FinishReason[];
	/** What the answer reading tolerated to find the value (a dropped <think> block, a code fence, …), when anything. */
	tolerated?: string[];
	/** The release was served from a warm cache while the registry could not be read (stale-if-error). */
	registryStale?: { since: string; reason: string };
	/** Set when every call was answered from the response cache (lib/cache): the model was asked nothing. */
	cached?: true;
	/** Calls answered from the response cache (absent when none). */
	cachedCalls?: number;
	/** When the oldest answer behind this result was fetched from the provider (ISO 8601), when known. */
	fetchedAt?: string;
	/** Set when a call was sent through the provider's batch API by this run (see `batchedCalls`). */
	batch?: true;
	/** Calls sent through the provider's batch API by this run (absent when none; a cached answer was not sent). */
	batchedCalls?: number;
	/** Prompts with `consensus`: how the votes went (tokens, cost and calls above are summed over every voter; latency is the wall time of the parallel calls). */
	consensus?: ConsensusOutcome;
}

export type CallResult =
	| { valid: true; value: OutputValue; rawOutput: string; meta: CallMeta }
	| {
			valid: false;
			reason: string;
			rawOutput: string | null;
			meta: CallMeta;
			/** The model declined to answer (`reason` starts with "refused: "). */
			refused?: boolean;
			/** A transient provider failure outlived the SDK's retries: the same call may succeed later. */
			retryable?: boolean;
	  };

export interface FixtureResult {
	fixtureId: string;
	/** sha256 of the fixture's inputs (canonical JSON) as run, so the gate sees fixtures edited after the run. */
	inputsHash?: string;
	/** sha256 of the comparison rules (policy + fixture `compare`) the result was judged with; the gate refuses a run judged with other rules. */
	compareHash?: string;
	segment: string;
	/** The fixture's tags when it ran (absent when it had none). */
	tags?: string[];
	passed: boolean;
	expected: OutputValue;
	actual: OutputValue | null;
	valid: boolean;
	reason?: string;
	rawOutput: string | null;
	latencyMs: number;
	inputTokens: number;
	outputTokens: number;
	costUsd: number;
	repaired: boolean;
	/** Per output field ("value" for scalars): did that field match? */
	fields?: Record<string, boolean>;
	/** How each model call's answer ended, in call order (absent in runs stored before finish reasons were recorded). */
	finishReasons?: FinishReason[];
	/** What the answer reading tolerated to find the value (a dropped <think> block, a code fence, …), when anything. */
	tolerated?: string[];
	/** The model declined to answer. */
	refused?: boolean;
	/** The fixture failed on a transient provider failure (rate limit, server error, timeout) that outlived the retries. */
	retryable?: boolean;
	/** With policy `repeat` N > 1: how many of the N attempts passed (the fixture passes only if all did). */
	attemptsPassed?: number;
	attempts?: number;
	/** Model calls behind this result: every attempt, repair call and voter (0 after an input error; absent in runs stored before it was recorded). */
	calls?: number;
	/**
	 * Set when every call behind this result was answered from the response cache: the model was asked nothing
	 * for it. (In runs stored before `calls` was recorded: some answer behind it came from the cache.)
	 */
	cached?: boolean;
	/** How many of `calls` were answered from the response cache (absent when none). */
	cachedCalls?: number;
	/**
	 * When the oldest answer behind this result was fetched from the provider (ISO 8601). The gate's
	 * `maxEvidenceAgeHours` judges cached answers by it; absent in runs stored before it was recorded.
	 */
	fetchedAt?: string;
	/**
	 * Set when this run sent a call behind this result through the provider's batch API (`--batch`). Cost is
	 * at the batch rate for those calls, and for cached answers that were fetched through it.
	 */
	batch?: boolean;
	/** How many of `calls` this run sent through the batch API (absent when none; a cached answer was not sent). */
	batchedCalls?: number;
	/** Prompts with `consensus`: voters, the largest agreeing group, and whether the rule was met (over every attempt with `repeat`: the weakest). */
	consensus?: { voters: number; agreed: number; reached: boolean };
}

export interface SegmentSummary {
	total: number;
	passed: number;
	failed: number;
	passRate: number;
}

export interface RunSummary {
	total: number;
	passed: number;
	failed: number;
	passRate: number;
	segments: Record<string, SegmentSummary>;
	/** Indicator-level accuracy: pass rate per output field ("value" for scalars). */
	fields?: Record<string, SegmentSummary>;
	/** Prompts with `consensus`: share of fixtures whose answers reached consensus, overall and per segment. */
	agreement?: AgreementSummary;
	/** Pass rates per fixture tag (absent when no fixture has tags). */
	tags?: Record<string, SegmentSummary>;
	/** Classification outputs only: confusion matrix and per-class precision/recall/F1 per field ("value" for scalars). */
	classes?: Record<string, ClassMetrics>;
	regressions: string[];
	latencyMs: { p50: number; p95: number };
	tokens: { input: number; output: number };
	costUsd: number;
	runId: string;
	/**
	 * Results whose every call was answered from the response cache (before `calls` was recorded: results with
	 * any cached answer); absent in runs stored before the cache existed.
	 */
	cached?: number;
	/** Results with a call this run sent through the provider's batch API (`--batch`); absent when none. */
	batched?: number;
	/**
	 * Model calls behind the run's results (every attempt, repair call and voter): answered from the response
	 * cache, asked of the model by this run (`fresh` = total − cached), and of those sent through the batch API.
	 * Absent in runs stored before it was recorded.
	 */
	calls?: CallCounts;
}

/** How a run's model calls were answered (RunSummary.calls). */
export interface CallCounts {
	total: number;
	cached: number;
	fresh: number;
	batched: number;
}

/** The one run-report type: stored as `runs/<runId>.json`, printed by `test --json`. */
export interface RunReport {
	runId: string;
	promptId: string;
	version: number | 'draft';
	contentHash: string;
	model: { provider: ProviderName; name: string };
	startedAt: string;
	finishedAt: string;
	/** The run this one was compared with for regressions (the production release's run, or --baseline). */
	baselineRunId?: string;
	/** Each fixture was run this many times (policy `repeat`); default 1. */
	repeat?: number;
	/** What produced the run: `test` (default) or `migrate` (a model change). */
	kind?: 'test' | 'migrate';
	/** Set when the run went through the provider's batch API: the batch ids, in submission order. */
	batchIds?: string[];
	summary: RunSummary;
	results: FixtureResult[];
}

/**
 * A run without its results: what `runs/<runId>.json` holds since results are stored as JSON lines
 * beside it (`runs/<runId>.results.jsonl`). Read results one at a time with `RegistryStore.readRunResults`.
 */
export type RunHeader = Omit<RunReport, 'results'>;
