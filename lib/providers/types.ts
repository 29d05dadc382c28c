import type { ModelSpec, ProviderName, Usage } from '../types';

/** One chat turn sent to the model. The system text travels separately. */
export interface ChatTurn {
	role: 'user' | 'assistant';
	content: string;
}

export interface ProviderRequest {
	model: ModelSpec;
	system: string;
	/** Usually one user turn; a repair call adds the rejected answer and the error. */
	messages: ChatTurn[];
	/**
	 * JSON Schema of the wire object (always an object; a scalar output is wrapped as `{"value": …}`).
	 * OpenAI sends it as `response_format: json_schema` (strict), Anthropic as the input schema of one forced tool.
	 */
	jsonSchema: Record<string, unknown>;
	/** A short name for the schema / tool (letters, digits, `_`, `-`). */
	schemaName: string;
	signal?: AbortSignal;
	/**
	 * Which repeat attempt this call belongs to (1-based; policy `repeat` / `--repeat`). Not sent to the model:
	 * the response cache keys attempts 2…N apart, so N repeats stay N independent answers.
	 */
	attempt?: number;
}

/**
 * How an answer ended, in one vocabulary for every provider:
 * - `stop`: the model finished its answer (OpenAI `stop`, Responses `completed`, Anthropic `end_turn` / `tool_use` / `stop_sequence`);
 * - `length`: cut off by the output token cap (OpenAI `length`, Responses `incomplete` + `max_output_tokens`,
 *   Anthropic `max_tokens`) or by the context window (Anthropic `model_context_window_exceeded`);
 * - `content_filter`: stopped by the provider's content filter (OpenAI `content_filter`, Responses `incomplete` + `content_filter`);
 * - `refusal`: the model declined (OpenAI `message.refusal`, a Responses `refusal` part, Anthropic `refusal`);
 * - `tool_calls`: the model called a tool instead of answering (OpenAI `tool_calls` / `function_call`);
 * - `paused`: the provider paused the turn (Anthropic `pause_turn`; a Responses `in_progress` / `queued` status);
 * - `other`: a word not listed here (vLLM `abort`, OpenRouter `error`, a Responses `failed` / `cancelled` status,
 *   a new word), or no word where the provider always sends one (OpenAI, Anthropic): not a finished answer;
 * - `unknown`: an OpenAI-compatible server sent no finish reason (Ollama, LM Studio, llama.cpp often do not).
 * Sources: OpenAI Chat Completions and Responses API references, Anthropic Messages API "stop_reason" reference.
 */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'refusal' | 'tool_calls' | 'paused' | 'other' | 'unknown';

export interface AnswerEnd {
	reason: FinishReason;
	/** The provider's own word, as sent (`finish_reason`, `incomplete_details.reason` / `status`, `stop_reason`); null when absent. */
	providerReason: string | null;
}

export interface ProviderResponse {
	/** The model's answer as text: the JSON content, or the forced tool's input serialised as JSON. Empty when there is none. */
	text: string;
	usage: Usage;
	/** Model name the provider reports (may differ from the requested alias). */
	model?: string;
	/** How the answer ended. */
	end: AnswerEnd;
	/** The model's refusal text when it declined (`end.reason === 'refusal'`); may be empty. */
	refusal?: string;
	/** Output tokens the model spent on reasoning, when the provider reports them (OpenAI reasoning models). */
	reasoningTokens?: number;
	/** When the answer was fetched from the provider (ISO 8601); set by the response cache and the batch path. */
	fetchedAt?: string;
	/** Set when the answer was read from the response cache (lib/cache) instead of calling the provider. */
	cached?: true;
	/**
	 * Set when the answer came through the provider's batch API: priced at the batch rate (lib/pricing.ts). Kept
	 * in the response cache, so a cached answer costs what it cost when fetched; with `cached` it was not sent now.
	 */
	batch?: true;
}

/** The seam every LLM backend implements. */
export interface Provider {
	readonly name: ProviderName;
	complete(request: ProviderRequest): Promise<ProviderResponse>;
	/** The base URL a call for `model` goes to (part of the response cache key). Never throws for a missing key. */
	baseUrlFor?(model: ModelSpec): string;
}

export interface ProviderOptions {
	apiKey?: string;
	baseUrl?: string;
	/** Per-request timeout in ms (passed to the SDK). Default 60 000. */
	timeoutMs?: number;
	/** Retries on 408/409/429/5xx and connection errors, with the SDK's own backoff (honours Retry-After). Default 2. */
	maxRetries?: number;
	/** Extra headers sent with every request. */
	headers?: Record<string, string>;
	/**
	 * Pace calls with the process-wide adaptive limiter of the endpoint and key (AIMD on 429, Retry-After,
	 * the providers' rate-limit headers). Default true; false sends every call at once (the caller's own
	 * concurrency only).
	 */
	adaptive?: boolean;
	/** Optional cap in requests per minute, shared by every caller in the process that asks for the same cap on the same endpoint and key. */
	requestsPerMinute?: number;
}
