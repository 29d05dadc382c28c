/**
 * The batch seam: what a provider's batch API (OpenAI Batch, Anthropic Message Batches) offers the
 * batching provider (lib/batch/batching-provider.ts). Answers come back as the same ProviderResponse a
 * direct call gives, so they go through the same reading (lib/answer/read.ts) and report building.
 */
import type { ProviderError } from '../errors';
import type { ModelSpec } from '../types';
import type { ProviderRequest, ProviderResponse } from '../providers/types';

/** One request of a batch; `customId` (the response cache key: 64 hex characters) matches its answer. */
export interface BatchItem {
	customId: string;
	request: ProviderRequest;
}

/** Where a batch stands, in one vocabulary for both providers. */
export interface BatchStatus {
	id: string;
	/** running: still processing; ended: answers can be read; failed: the batch as a whole failed (no answers). */
	state: 'running' | 'ended' | 'failed';
	total: number;
	/** Requests processed so far (answered or failed). */
	done: number;
	/** The provider's own status word (`in_progress`, `finalizing`, `ended`, …). */
	providerStatus: string;
	/** Why a failed batch failed, when the provider says. */
	detail?: string;
}

export interface BatchApi {
	/** e.g. `openai batch at https://api.openai.com/v1`, for messages. */
	readonly label: string;
	/** Submit the requests; returns the provider's batch id. Throws a ProviderError when the provider refuses. */
	submit(items: BatchItem[]): Promise<string>;
	status(id: string): Promise<BatchStatus>;
	/**
	 * The answers of an ended batch by custom id: a ProviderResponse, or the ProviderError that request got
	 * (classified like a direct call's: a 404 model is fatal, a 429/5xx transient). Ids without a line are absent.
	 */
	results(id: string, items: BatchItem[]): Promise<Map<string, ProviderResponse | ProviderError>>;
}

/** A provider that can send its calls through a batch API. */
export interface BatchCapable {
	batchApi(model: ModelSpec): BatchApi;
}

export function isBatchCapable(provider: unknown): provider is BatchCapable {
	return provider !== null && typeof provider === 'object' && typeof (provider as { batchApi?: unknown }).batchApi === 'function';
}
