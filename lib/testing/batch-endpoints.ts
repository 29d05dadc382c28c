/**
 * The batch endpoints of the loopback model server, in the providers' wire shapes:
 *
 * - OpenAI: `POST /files` (multipart, purpose `batch`), `GET /files/{id}`, `GET /files/{id}/content`,
 *   `POST /batches`, `GET /batches/{id}`, `POST /batches/{id}/cancel`;
 * - Anthropic: `POST /messages/batches`, `GET /messages/batches/{id}`, `GET /messages/batches/{id}/results`.
 *
 * A batch reports itself in progress for the first `polls` status requests, then answers every line at
 * once — each exactly like a direct call (the scripted queue, injected faults, then the rules), with the same
 * finish reasons and error bodies — and reports itself ended. Shapes: openai-node `resources/batches.ts`,
 * `resources/files.ts`; anthropic-sdk-typescript `resources/messages/batches.ts`.
 */
import { randomUUID } from 'node:crypto';

/** The answer to one line, as a direct call would get it. */
export type LineAnswer = (api: 'chat' | 'responses' | 'messages', body: Record<string, unknown>) => { status: number; body: unknown };

export interface BatchReply {
	status: number;
	/** A JSON value, or text sent as is (JSONL). */
	body: unknown;
	contentType?: string;
}

interface StoredBatch {
	id: string;
	provider: 'openai' | 'anthropic';
	created: number;
	polls: number;
	lines: Array<{ customId: string; api: 'chat' | 'responses' | 'messages'; body: Record<string, unknown> }>;
	endpoint?: string;
	inputFileId?: string;
	/** Set once answered. */
	outputs?: Array<{ customId: string; status: number; body: unknown }>;
	outputFileId?: string;
	errorFileId?: string;
	cancelled?: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function newId(prefix: string): string {
	return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

/** The `file` part of a multipart/form-data body. */
function multipartFile(raw: string, contentType: string): string | undefined {
	const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
	if (!boundary) return undefined;
	for (const part of raw.split(`--${boundary[1] ?? boundary[2]}`)) {
		const split = part.indexOf('\r\n\r\n');
		if (split < 0) continue;
		if (!/name="file"/i.test(part.slice(0, split))) continue;
		return part.slice(split + 4).replace(/\r\n$/, '');
	}
	return undefined;
}

const API_OF_URL: Record<string, 'chat' | 'responses'> = { '/v1/chat/completions': 'chat', '/v1/responses': 'responses' };
const ANTHROPIC_ERROR_STATUS: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 429: 'rate_limit_error', 529: 'overloaded_error' };

export class BatchEndpoints {
	/** Status requests a batch answers "in progress" before it ends. */
	polls: number;
	readonly batches = new Map<string, StoredBatch>();
	private readonly files = new Map<string, { name: string; text: string }>();
	private readonly answer: LineAnswer;
	private readonly baseUrl: () => string;

	constructor(answer: LineAnswer, baseUrl: () => string, polls = 1) {
		this.answer = answer;
		this.baseUrl = baseUrl;
		this.polls = polls;
	}

	/** The reply when the route is a batch endpoint, else undefined. */
	handle(method: string, route: string, contentType: string, raw: string, body: unknown): BatchReply | undefined {
		let m: RegExpExecArray | null;
		if (method === 'POST' && route === '/files') return this.upload(raw, contentType);
		if (method === 'GET' && (m = /^\/files\/([^/]+)\/content$/.exec(route))) {
			const file = this.files.get(m[1]);
			return file ? { status: 200, body: file.text, contentType: 'application/octet-stream' } : this.openaiMissing(`No such File object: ${m[1]}`);
		}
		if (method === 'GET' && (m = /^\/files\/([^/]+)$/.exec(route))) {
			const file = this.files.get(m[1]);
			return file ? { status: 200, body: this.fileObject(m[1], file) } : this.openaiMissing(`No such File object: ${m[1]}`);
		}
		if (method === 'POST' && route === '/batches') return this.createOpenAI(body);
		if ((m = /^\/batches\/([^/]+)(\/cancel)?$/.exec(route))) {
			const batch = this.batches.get(m[1]);
			if (!batch || batch.provider !== 'openai') return this.openaiMissing(`No batch found with id '${m[1]}'.`);
			if (method === 'POST' && m[2]) batch.cancelled = true;
			else this.poll(batch);
			return { status: 200, body: this.openaiBatch(batch) };
		}
		if (method === 'POST' && route === '/messages/batches') return this.createAnthropic(body);
		if (method === 'GET' && (m = /^\/messages\/batches\/([^/]+)(\/results)?$/.exec(route))) {
			const batch = this.batches.get(m[1]);
			if (!batch || batch.provider !== 'anthropic') return { status: 404, body: { type: 'error', error: { type: 'not_found_error', message: `batch ${m[1]} not found` } } };
			if (m[2]) {
				if (!batch.outputs) return { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'batch has not ended' } } };
				return { status: 200, body: batch.outputs.map((o) => JSON.stringify(this.anthropicResult(o))).join('\n') + '\n', contentType: 'application/binary' };
			}
			this.poll(batch);
			return { status: 200, body: this.anthropicBatch(batch) };
		}
		return undefined;
	}

	private openaiMissing(message: string): BatchReply {
		return { status: 404, body: { error: { message, type: 'invalid_request_error', param: null, code: null } } };
	}

	private upload(raw: string, contentType: string): BatchReply {
		const text = multipartFile(raw, contentType);
		if (text === undefined) return { status: 400, body: { error: { message: 'test model server: expected multipart/form-data with a "file" part', type: 'invalid_request_error', param: 'file', code: null } } };
		const id = newId('file-');
		const file = { name: /filename="([^"]+)"/.exec(raw)?.[1] ?? 'upload.jsonl', text };
		this.files.set(id, file);
		return { status: 200, body: this.fileObject(id, file) };
	}

	private fileObject(id: string, file: { name: string; text: string }): Record<string, unknown> {
		return { id, object: 'file', bytes: Buffer.byteLength(file.text), created_at: Math.floor(Date.now() / 1000), filename: file.name, purpose: 'batch', status: 'processed' };
	}

	private createOpenAI(body: unknown): BatchReply {
		const inputFileId = isRecord(body) ? String(body.input_file_id ?? '') : '';
		const file = this.files.get(inputFileId);
		if (!file) return this.openaiMissing(`No such File object: ${inputFileId}`);
		const lines: StoredBatch['lines'] = [];
		for (const line of file.text.split('\n')) {
			if (!line.trim()) continue;
			const parsed = JSON.parse(line) as Record<string, unknown>;
			const api = API_OF_URL[String(parsed.url)];
			if (!api || !isRecord(parsed.body)) return { status: 400, body: { error: { message: `test model server: unsupported batch line url ${String(parsed.url)}`, type: 'invalid_request_error', param: null, code: null } } };
			lines.push({ customId: String(parsed.custom_id), api, body: parsed.body });
		}
		const batch: StoredBatch = { id: newId('batch_'), provider: 'openai', created: Math.floor(Date.now() / 1000), polls: 0, lines, endpoint: isRecord(body) ? String(body.endpoint) : '', inputFileId };
		this.batches.set(batch.id, batch);
		return { status: 200, body: this.openaiBatch(batch) };
	}

	private createAnthropic(body: unknown): BatchReply {
		const requests = isRecord(body) && Array.isArray(body.requests) ? body.requests : undefined;
		if (!requests?.length) return { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'requests: expected a non-empty list' } } };
		const lines = requests.filter(isRecord).map((r) => ({ customId: String(r.custom_id), api: 'messages' as const, body: isRecord(r.params) ? r.params : {} }));
		const batch: StoredBatch = { id: newId('msgbatch_'), provider: 'anthropic', created: Math.floor(Date.now() / 1000), polls: 0, lines };
		this.batches.set(batch.id, batch);
		return { status: 200, body: this.anthropicBatch(batch) };
	}

	/** One status request: after `polls` of them the batch is answered, line by line. */
	private poll(batch: StoredBatch): void {
		batch.polls++;
		if (batch.outputs || batch.polls <= this.polls) return;
		batch.outputs = batch.lines.map((line) => ({ customId: line.customId, ...this.answer(line.api, line.body) }));
		if (batch.provider === 'openai') {
			const line = (o: { customId: string; status: number; body: unknown }) =>
				JSON.stringify({ id: newId('batch_req_'), custom_id: o.customId, response: { status_code: o.status, request_id: newId('req_'), body: o.body }, error: null });
			const ok = batch.outputs.filter((o) => o.status === 200);
			const failed = batch.outputs.filter((o) => o.status !== 200);
			if (ok.length) this.files.set((batch.outputFileId = newId('file-')), { name: 'batch_output.jsonl', text: ok.map(line).join('\n') + '\n' });
			if (failed.length) this.files.set((batch.errorFileId = newId('file-')), { name: 'batch_errors.jsonl', text: failed.map(line).join('\n') + '\n' });
		}
	}

	private openaiBatch(b: StoredBatch): Record<string, unknown> {
		const ended = b.outputs !== undefined;
		const failed = b.outputs?.filter((o) => o.status !== 200).length ?? 0;
		return {
			id: b.id,
			object: 'batch',
			endpoint: b.endpoint,
			errors: null,
			input_file_id: b.inputFileId,
			completion_window: '24h',
			status: b.cancelled ? 'cancelled' : ended ? 'completed' : b.polls === 0 ? 'validating' : 'in_progress',
			output_file_id: b.outputFileId ?? null,
			error_file_id: b.errorFileId ?? null,
			created_at: b.created,
			in_progress_at: b.polls > 0 ? b.created : null,
			expires_at: b.created + 86_400,
			completed_at: ended ? Math.floor(Date.now() / 1000) : null,
			request_counts: { total: b.lines.length, completed: ended ? b.lines.length - failed : 0, failed },
			metadata: null,
		};
	}

	private anthropicBatch(b: StoredBatch): Record<string, unknown> {
		const ended = b.outputs !== undefined;
		const errored = b.outputs?.filter((o) => o.status !== 200).length ?? 0;
		const iso = (s: number) => new Date(s * 1000).toISOString();
		return {
			id: b.id,
			type: 'message_batch',
			processing_status: ended ? 'ended' : 'in_progress',
			request_counts: { processing: ended ? 0 : b.lines.length, succeeded: ended ? b.lines.length - errored : 0, errored, canceled: 0, expired: 0 },
			ended_at: ended ? new Date().toISOString() : null,
			created_at: iso(b.created),
			expires_at: iso(b.created + 86_400),
			archived_at: null,
			cancel_initiated_at: null,
			results_url: ended ? `${this.baseUrl()}/v1/messages/batches/${b.id}/results` : null,
		};
	}

	private anthropicResult(o: { customId: string; status: number; body: unknown }): Record<string, unknown> {
		if (o.status === 200) return { custom_id: o.customId, result: { type: 'succeeded', message: o.body } };
		const error = isRecord(o.body) && o.body.type === 'error' ? o.body : { type: 'error', error: { type: ANTHROPIC_ERROR_STATUS[o.status] ?? 'api_error', message: `HTTP ${o.status}` } };
		return { custom_id: o.customId, result: { type: 'errored', error } };
	}
}
