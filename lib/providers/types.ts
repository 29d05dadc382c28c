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
}

export interface ProviderResponse {
	/** The model's answer as text: the JSON content, or the forced tool's input serialised as JSON. */
	text: string;
	usage: Usage;
	/** Model name the provider reports (may differ from the requested alias). */
	model?: string;
}

/** The seam every LLM backend implements. */
export interface Provider {
	readonly name: ProviderName;
	complete(request: ProviderRequest): Promise<ProviderResponse>;
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
}
