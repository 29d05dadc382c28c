/**
 * Anthropic Message Batches (https://docs.claude.com/en/docs/build-with-claude/batch-processing):
 * `POST /v1/messages/batches` with `{requests: [{custom_id, params}]}` (params = a Messages request body;
 * custom_id `^[a-zA-Z0-9_-]{1,64}$`), `GET /v1/messages/batches/{id}` until `processing_status: "ended"`,
 * then the JSONL at `results_url`: `{custom_id, result: {type: succeeded, message} | {type: errored, error}
 * | {type: canceled} | {type: expired}}`. Shapes: anthropic-sdk-typescript `resources/messages/batches.ts`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageBatch } from '@anthropic-ai/sdk/resources/messages/batches';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages/messages';
import { ProviderError } from '../errors';
import { batchNotFound, type BatchApi, type BatchItem, type BatchStatus } from '../batch/types';
import { toProviderError, type ProviderErrorContext } from './errors';
import { isObject } from './sdk-base';
import { anthropicSdk } from './sdks';
import type { ProviderRequest, ProviderResponse } from './types';

/** What the batch path needs from AnthropicProvider. */
export interface AnthropicWire {
	wireRequest(request: ProviderRequest): MessageCreateParamsNonStreaming;
	readWire(request: ProviderRequest, result: unknown, baseURL: string): ProviderResponse;
}

/** The HTTP status behind each Anthropic error type (Anthropic "Errors" reference), so a batch line's error is classified like a direct call's. */
const STATUS_OF_TYPE: Record<string, number> = {
	invalid_request_error: 400,
	authentication_error: 401,
	billing_error: 402,
	permission_error: 403,
	not_found_error: 404,
	request_too_large: 413,
	rate_limit_error: 429,
	api_error: 500,
	overloaded_error: 529,
};

export function anthropicBatchApi(client: Anthropic, wire: AnthropicWire, context: ProviderErrorContext): BatchApi {
	const wrap = (error: unknown): ProviderError => (error instanceof ProviderError ? error : toProviderError(error, context));
	const label = `anthropic message batch at ${context.baseURL}`;
	/** A 404 (`not_found_error`) for the batch means the provider does not know it (BatchNotFoundError); anything else is wrapped. */
	const wrapLookup = (error: unknown, id: string): ProviderError => batchNotFound(error, label, `batch ${id}`) ?? wrap(error);
	return {
		label,
		async submit(items: BatchItem[]): Promise<string> {
			try {
				const batch = await client.messages.batches.create({ requests: items.map((item) => ({ custom_id: item.customId, params: wire.wireRequest(item.request) })) });
				return batch.id;
			} catch (error) {
				throw wrap(error);
			}
		},
		async status(id: string): Promise<BatchStatus> {
			let batch: MessageBatch;
			try {
				batch = await client.messages.batches.retrieve(id);
			} catch (error) {
				throw wrapLookup(error, id);
			}
			const c = batch.request_counts;
			const done = c.succeeded + c.errored + c.canceled + c.expired;
			return { id, state: batch.processing_status === 'ended' ? 'ended' : 'running', total: done + c.processing, done, providerStatus: batch.processing_status };
		},
		async results(id: string, items: BatchItem[]): Promise<Map<string, ProviderResponse | ProviderError>> {
			const byId = new Map(items.map((item) => [item.customId, item.request]));
			const out = new Map<string, ProviderResponse | ProviderError>();
			try {
				for await (const line of await client.messages.batches.results(id)) {
					const request = byId.get(line.custom_id);
					if (!request) continue;
					const result = line.result;
					if (result.type === 'succeeded') {
						try {
							out.set(line.custom_id, wire.readWire(request, result.message, context.baseURL));
						} catch (error) {
							out.set(line.custom_id, wrap(error));
						}
					} else if (result.type === 'errored') {
						const body: unknown = result.error;
						const inner = isObject(body) && isObject(body.error) ? body.error : undefined;
						const status = STATUS_OF_TYPE[String(inner?.type ?? '')] ?? 500;
						out.set(line.custom_id, wrap(anthropicSdk().APIError.generate(status, body as object, undefined, new Headers())));
					} else {
						out.set(line.custom_id, new ProviderError(`anthropic message batch ${id}: request ${result.type} before it was processed: run again`));
					}
				}
			} catch (error) {
				throw wrapLookup(error, id);
			}
			return out;
		},
	};
}
