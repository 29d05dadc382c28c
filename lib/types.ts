/**
 * Core data types shared by the registry, the runner, the CLI and the n8n nodes.
 * Framework-free: nothing here imports n8n.
 */

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
	source: FixtureSource;
	note?: string;
	recorded?: { version: number | 'draft'; modelOutput: unknown; at: string };
}

export type HistoryAction = 'release' | 'rollback';

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
}

export interface ChannelPointer {
	version: number;
	contentHash: string;
	since: string;
	runId?: string;
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
	spec: PromptSpec;
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
	model: string;
	provider: ProviderName;
	latencyMs: number;
	inputTokens: number;
	outputTokens: number;
	costUsd: number;
	/** Number of model calls made (1, or 2 when a repair was needed). */
	calls: number;
	repaired: boolean;
}

export type CallResult =
	| { valid: true; value: OutputValue; rawOutput: string; meta: CallMeta }
	| { valid: false; reason: string; rawOutput: string | null; meta: CallMeta };

export interface FixtureResult {
	fixtureId: string;
	/** sha256 of the fixture's inputs (canonical JSON) as run, so the gate sees fixtures edited after the run. */
	inputsHash?: string;
	segment: string;
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
	regressions: string[];
	latencyMs: { p50: number; p95: number };
	tokens: { input: number; output: number };
	costUsd: number;
	runId: string;
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
	/** The run this one was compared with for regressions (the production release's run). */
	baselineRunId?: string;
	summary: RunSummary;
	results: FixtureResult[];
}
