/**
 * OpenAI Batch API (https://platform.openai.com/docs/guides/batch): the requests go up as one JSONL file
 * (`POST /files`, purpose `batch`; one line `{custom_id, method: "POST", url, body}` per request), then
 * `POST /batches` with `completion_window: "24h"`; `GET /batches/{id}` until `completed` (or `failed`,
 * `expired`, `cancelled`); answers are the lines of `output_file_id` (`{custom_id, response: {status_code,
 * body}, error}`), failed requests those of `error_file_id`. Shapes: openai-node `resources/batches.ts`, `files.ts`.
 */
import type OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import { ProviderError } from '../errors';
import { batchNotFound, type BatchApi, type BatchItem, type BatchStatus } from '../batch/types';
import { toProviderError, type ProviderErrorContext } from './errors';
import { isObject } from './sdk-base';
import { openaiSdk } from './sdks';
import type { ProviderRequest, ProviderResponse } from './types';

/** What the batch path needs from OpenAIProvider. */
export interface OpenAIWire {
	wireRequest(request: ProviderRequest): { endpoint: '/chat/completions' | '/responses'; body: unknown };
	readWire(request: ProviderRequest, result: unknown, context: ProviderErrorContext): ProviderResponse;
}

const RUNNING = new Set(['validating', 'in_progress', 'finalizing', 'cancelling']);

function parseLines(text: string): unknown[] {
	return text
		.split('\n')
		.filter((line) => line.trim())
		.map((line) => {
			try {
				return JSON.parse(line) as unknown;
			} catch {
				return undefined;
			}
		});
}

export function openAIBatchApi(client: OpenAI, wire: OpenAIWire, context: ProviderErrorContext): BatchApi {
	const wrap = (error: unknown): ProviderError => (error instanceof ProviderError ? error : toProviderError(error, context));
	const label = `${context.provider} batch at ${context.baseURL}`;
	/** A 404 for the batch or its files means the provider does not know it (BatchNotFoundError); anything else is wrapped. */
	const wrapLookup = (error: unknown, what: string): ProviderError => batchNotFound(error, label, what) ?? wrap(error);
	return {
		label,
		async submit(items: BatchItem[]): Promise<string> {
			const endpoints = new Set(items.map((item) => wire.wireRequest(item.request).endpoint));
			if (endpoints.size !== 1) throw new ProviderError('one batch cannot mix Chat Completions and Responses requests');
			const endpoint = [...endpoints][0];
			const jsonl = items.map((item) => JSON.stringify({ custom_id: item.customId, method: 'POST', url: `/v1${endpoint}`, body: wire.wireRequest(item.request).body })).join('\n');
			try {
				const file = await client.files.create({ file: await openaiSdk().toFile(Buffer.from(`${jsonl}\n`, 'utf8'), 'prompt-release-batch.jsonl'), purpose: 'batch' });
				const batch = await client.batches.create({ input_file_id: file.id, endpoint: `/v1${endpoint}`, completion_window: '24h' });
				return batch.id;
			} catch (error) {
				throw wrap(error);
			}
		},
		async status(id: string): Promise<BatchStatus> {
			let batch: Batch;
			try {
				batch = await client.batches.retrieve(id);
			} catch (error) {
				throw wrapLookup(error, `batch ${id}`);
			}
			const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
			const state = RUNNING.has(batch.status) ? 'running' : batch.status === 'failed' ? 'failed' : 'ended';
			const detail = batch.errors?.data?.map((e) => `${e.code ?? 'error'}: ${e.message ?? ''}${e.line ? ` (line ${e.line})` : ''}`).join('; ');
			return { id, state, total: counts.total, done: counts.completed + counts.failed, providerStatus: batch.status, ...(detail ? { detail } : {}) };
		},
		async results(id: string, items: BatchItem[]): Promise<Map<string, ProviderResponse | ProviderError>> {
			const byId = new Map(items.map((item) => [item.customId, item.request]));
			const out = new Map<string, ProviderResponse | ProviderError>();
			let batch: Batch;
			try {
				batch = await client.batches.retrieve(id);
			} catch (error) {
				throw wrapLookup(error, `batch ${id}`);
			}
			for (const fileId of [batch.output_file_id, batch.error_file_id]) {
				if (!fileId) continue;
				let text: string;
				try {
					text = await (await client.files.content(fileId)).text();
				} catch (error) {
					throw wrapLookup(error, `file ${fileId} (the answers of batch ${id})`);
				}
				for (const line of parseLines(text)) {
					if (!isObject(line) || typeof line.custom_id !== 'string') continue;
					const request = byId.get(line.custom_id);
					if (!request) continue;
					const response = isObject(line.response) ? line.response : undefined;
					const status = typeof response?.status_code === 'number' ? response.status_code : undefined;
					if (status === 200) {
						try {
							out.set(line.custom_id, wire.readWire(request, response?.body, context));
						} catch (error) {
							out.set(line.custom_id, wrap(error));
						}
					} else if (status !== undefined) {
						out.set(line.custom_id, wrap(openaiSdk().APIError.generate(status, response?.body as object, undefined, new Headers())));
					} else {
						const err = isObject(line.error) ? line.error : {};
						out.set(line.custom_id, new ProviderError(`${context.provider} batch ${id}: request failed (${String(err.code ?? 'no code')}: ${String(err.message ?? 'no message')})`));
					}
				}
			}
			return out;
		},
	};
}
