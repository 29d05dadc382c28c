/**
 * The batch seam: what a provider's batch API (OpenAI Batch, Anthropic Message Batches) offers the
 * batching provider (lib/batch/batching-provider.ts). Answers come back as the same ProviderResponse a
 * direct call gives, so they go through the same reading (lib/answer/read.ts) and report building.
 */
import { ProviderError } from '../errors';
import { readServerDetail } from '../providers/errors';
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
	/** Where the batch stands. Throws BatchNotFoundError when the provider answers 404 for the batch id. */
	status(id: string): Promise<BatchStatus>;
	/**
	 * The answers of an ended batch by custom id: a ProviderResponse, or the ProviderError that request got
	 * (classified like a direct call's: a 404 model is fatal, a 429/5xx transient). Ids without a line are absent.
	 * Throws BatchNotFoundError when the provider answers 404 for the batch (or its output file).
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

/**
 * The provider answered HTTP 404 for a batch id (OpenAI `No batch found with id …`, Anthropic `not_found_error`):
 * it does not know the batch — expired and deleted, cancelled, another account, or a restarted (test) server.
 * Distinct from a server that cannot be reached (a connection error): there the batch may still be running.
 */
export class BatchNotFoundError extends ProviderError {
	/** The provider's own words, e.g. `No batch found with id 'batch_abc'.` */
	readonly detail: string;
	constructor(message: string, detail: string) {
		super(message, 404, { category: 'fatal' });
		this.detail = detail;
	}
}

/**
 * A BatchNotFoundError when an SDK error is an HTTP 404, else undefined.
 * `what` names what was asked for, e.g. `batch batch_abc` or `output file file-123 of batch batch_abc`.
 */
export function batchNotFound(error: unknown, label: string, what: string): BatchNotFoundError | undefined {
	// Only the SDK's own error: a ProviderError here was made from an answer line, not from the lookup of the batch.
	if (error instanceof ProviderError || error === null || typeof error !== 'object' || (error as { status?: unknown }).status !== 404) return undefined;
	const raw = error as { error?: unknown; message?: unknown };
	const fallback = typeof raw.message === 'string' ? raw.message.replace(/^404\s+/, '') : 'not found';
	const detail = readServerDetail(raw.error, fallback).message;
	return new BatchNotFoundError(`${label} does not know ${what} (HTTP 404: ${detail})`, detail);
}
