/**
 * A real HTTP model server on the loopback interface that speaks the wire formats of the official SDKs:
 *
 * - `POST /v1/chat/completions` (OpenAI Chat Completions; also `/chat/completions`)
 * - `POST /v1/responses`        (OpenAI Responses API; also `/responses`)
 * - `POST /v1/messages`         (Anthropic Messages; the Anthropic SDK appends `/v1/messages` to its base URL)
 * - `GET  /v1/models`           (OpenAI list shape, or Anthropic's when the request has `anthropic-version`)
 * - the batch APIs: OpenAI `/v1/files` + `/v1/batches`, Anthropic `/v1/messages/batches` (batch-endpoints.ts)
 *
 * Any number of leading `/v1` segments is accepted, so a base URL given with or without `/v1` works.
 * Every request is recorded (method, path, headers, parsed body, time received) for assertions.
 *
 * What it answers, in order:
 * 1. the scripted queue (`enqueue`), one behaviour per completion request — for tests;
 * 2. otherwise the rules (see model-rules.ts for the YAML format) — the deterministic test model for demos and e2e.
 *
 * Token counts are a deterministic estimate: ceil(characters / 4).
 *
 * Run it by hand: `node dist/lib/testing/model-server.js --port 8787 --rules test-model.yaml`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loadRules, ModelRules, type RulesFile } from './model-rules';
import { ServerRateLimiter, type ServerRateLimit } from './server-rate-limit';
import { BatchEndpoints } from './batch-endpoints';
import { seeded } from './seeded';

export { loadRules, ModelRules, validateRules, type Rule, type RulesFile, type CaptureType } from './model-rules';
export type { ServerRateLimit } from './server-rate-limit';

export type Behaviour =
	/**
	 * An answer: the message content (OpenAI) or the tool input (Anthropic; non-JSON text becomes a text block).
	 * `finish` is the API's own word for how it ended, sent as is: Chat `finish_reason` (`stop`, `length`,
	 * `content_filter`, `tool_calls`; null sends `finish_reason: null` as some compatible servers do), Anthropic
	 * `stop_reason` (`end_turn`, `tool_use`, `max_tokens`, `pause_turn`, `model_context_window_exceeded`…), Responses
	 * `incomplete_details.reason` (`max_output_tokens`, `content_filter`: the status becomes `incomplete`).
	 * Default: the normal end. `reasoningTokens` go into the usage details (OpenAI reasoning models).
	 */
	| { kind: 'answer'; text: string; finish?: string | null; reasoningTokens?: number }
	/** The model refuses: `message.refusal` / a `refusal` output part / `stop_reason: 'refusal'`. */
	| { kind: 'refusal'; text: string }
	/** An HTTP error; without `body`, the API's own error shape for that status. */
	| { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
	/** Never answers: the client times out. */
	| { kind: 'hang' }
	/** 200 with a body that is not JSON. */
	| { kind: 'malformed' }
	/** 200 whose JSON body is cut in the middle: the connection drops after half of the announced length. */
	| { kind: 'truncated' }
	/** The connection is reset before any response (ECONNRESET at the client). */
	| { kind: 'reset' }
	/** Exactly this body. */
	| { kind: 'raw'; body: string; status?: number; headers?: Record<string, string> };

export interface RecordedRequest {
	method: string;
	path: string;
	headers: Record<string, string>;
	/** Parsed JSON; the raw text when it is not JSON; undefined when empty. */
	body: unknown;
	/** When the server received the request (Date.now(), ms): for asserting delays between retries. */
	receivedAt: number;
}

export interface ModelServer {
	/** e.g. http://127.0.0.1:PORT */
	url: string;
	/** `${url}/v1`: the OpenAI SDK's baseURL. */
	openaiBaseUrl: string;
	/** `url`: the Anthropic SDK appends `/v1/messages` itself. */
	anthropicBaseUrl: string;
	requests: RecordedRequest[];
	/** How many of each injected fault were served (see ModelServerOptions.faults). */
	faultCounts: Record<FaultKind, number>;
	/** Completion requests answered 429 by the rate limit (ModelServerOptions.rateLimit), since start or setRateLimit. */
	readonly rateLimitRejections: number;
	/** Completion requests answered (any status), since start. */
	readonly completions: number;
	/** The most completion requests in flight at once (arrived, not yet answered), since start or reset. */
	readonly maxInFlight: number;
	/** Replace the delay before every completion answer, ms (ModelServerOptions.latencyMs). */
	setLatency(ms: number): void;
	/** Replace the rate limit (undefined: none); its buckets start full. */
	setRateLimit(limit: ServerRateLimit | undefined): void;
	/** Replace the fault plan (undefined: no faults) and reset its generator and counts. */
	setFaults(plan: FaultPlan | undefined): void;
	enqueue(...behaviours: Behaviour[]): void;
	/** How many status requests a batch answers "in progress" before it ends and answers its lines (default 1). */
	setBatchPolls(polls: number): void;
	/** How many batches were created since start or reset (OpenAI and Anthropic). */
	batchCount(): number;
	/** The ids of those batches, in creation order. */
	batchIds(): string[];
	/** Forget recorded requests, queued behaviours and batches. */
	reset(): void;
	close(): Promise<void>;
}

/**
 * Faults injected into completion requests that the scripted queue does not answer, as shares of requests
 * (0–1, drawn in this order from one seeded generator, so a run is repeatable): 429 with `retry-after` /
 * `retry-after-ms`, 429 without them, 500/502/503, a reset connection, a request that never answers.
 */
export interface FaultPlan {
	rateLimited?: number;
	rateLimitedNoRetryAfter?: number;
	serverError?: number;
	reset?: number;
	hang?: number;
	/** Seed of the generator (default 1). */
	seed?: number;
	/** `retry-after-ms` sent with `rateLimited` (default 20). */
	retryAfterMs?: number;
}

export type FaultKind = 'rateLimited' | 'rateLimitedNoRetryAfter' | 'serverError' | 'reset' | 'hang';

export interface ModelServerOptions {
	port?: number;
	host?: string;
	/** A rules object, or the path of a rules YAML file. */
	rules?: RulesFile | string;
	faults?: FaultPlan;
	/** Delay before every completion answer, ms (default 0): stands in for model latency. */
	latencyMs?: number;
	/**
	 * Enforce rate limits like the providers do (server-rate-limit.ts): requests per second and tokens per
	 * minute; beyond them a 429 with retry-after, and rate-limit headers on every completion response.
	 */
	rateLimit?: ServerRateLimit;
	/** Keep every request in `requests` (default true; benchmarks with 100,000 calls turn it off). */
	record?: boolean;
	/** See ModelServer.setBatchPolls (default 1). */
	batchPolls?: number;
}


const FAULT_ORDER: FaultKind[] = ['rateLimited', 'rateLimitedNoRetryAfter', 'serverError', 'reset', 'hang'];

type Api = 'chat' | 'responses' | 'messages';

interface Completion {
	api: Api;
	model: string;
	body: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function get(value: unknown, ...keys: Array<string | number>): unknown {
	let current = value;
	for (const key of keys) {
		if (current === null || typeof current !== 'object') return undefined;
		current = (current as Record<string | number, unknown>)[key];
	}
	return current;
}

function estimateTokens(text: string): number {
	return Math.ceil(text.length / 4);
}

/** The text of a message `content`: a string, or the `text` of its parts. */
function textOf(content: unknown): string {
	if (typeof content === 'string') return content;
	if (Array.isArray(content)) return content.map((part) => (typeof get(part, 'text') === 'string' ? (get(part, 'text') as string) : '')).join('');
	return '';
}

function turnsOf(call: Completion): Array<{ role: string; content: unknown }> {
	const list = call.api === 'responses' ? call.body.input : call.body.messages;
	if (typeof list === 'string') return [{ role: 'user', content: list }];
	if (!Array.isArray(list)) return [];
	return list.filter(isRecord).map((turn) => ({ role: String(turn.role ?? 'user'), content: turn.content }));
}

function firstUserMessage(call: Completion): string {
	return textOf(turnsOf(call).find((turn) => turn.role === 'user')?.content);
}

function inputText(call: Completion): string {
	const system = call.api === 'chat' ? '' : textOf(call.api === 'responses' ? call.body.instructions : call.body.system);
	return system + turnsOf(call).map((turn) => textOf(turn.content)).join('');
}

/** The prompt id: the json_schema name (OpenAI) or the forced tool's name (Anthropic). */
function promptIdOf(call: Completion): string {
	const name =
		call.api === 'chat'
			? get(call.body, 'response_format', 'json_schema', 'name')
			: call.api === 'responses'
				? get(call.body, 'text', 'format', 'name')
				: (get(call.body, 'tool_choice', 'name') ?? get(call.body, 'tools', 0, 'name'));
	return typeof name === 'string' ? name : '';
}

function id(prefix: string): string {
	return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
	try {
		const value: unknown = JSON.parse(text);
		return isRecord(value) ? value : undefined;
	} catch {
		return undefined;
	}
}

interface AnswerShape {
	refusal?: boolean;
	finish?: string | null;
	reasoningTokens?: number;
}

/** The 200 body of an answer (or a refusal) in the API's own shape. */
function successBody(call: Completion, text: string, shape: AnswerShape = {}): Record<string, unknown> {
	const refusal = shape.refusal === true;
	const reasoningTokens = shape.reasoningTokens ?? 0;
	const inputTokens = estimateTokens(inputText(call));
	const outputTokens = estimateTokens(text) + reasoningTokens;
	const created = Math.floor(Date.now() / 1000);
	if (call.api === 'chat') {
		return {
			id: id('chatcmpl-'),
			object: 'chat.completion',
			created,
			model: call.model,
			choices: [
				{
					index: 0,
					message: { role: 'assistant', content: refusal ? null : text, refusal: refusal ? text : null, annotations: [] },
					logprobs: null,
					finish_reason: shape.finish === undefined ? 'stop' : shape.finish,
				},
			],
			usage: {
				prompt_tokens: inputTokens,
				completion_tokens: outputTokens,
				total_tokens: inputTokens + outputTokens,
				completion_tokens_details: { reasoning_tokens: reasoningTokens },
			},
			system_fingerprint: 'fp_test_model',
		};
	}
	if (call.api === 'responses') {
		const part = refusal ? { type: 'refusal', refusal: text } : { type: 'output_text', text, annotations: [], logprobs: [] };
		const incomplete = typeof shape.finish === 'string' && shape.finish !== 'completed';
		return {
			id: id('resp_'),
			object: 'response',
			created_at: created,
			status: incomplete ? 'incomplete' : 'completed',
			error: null,
			incomplete_details: incomplete ? { reason: shape.finish } : null,
			instructions: call.body.instructions ?? null,
			max_output_tokens: call.body.max_output_tokens ?? null,
			model: call.model,
			output: [{ type: 'message', id: id('msg_'), status: incomplete ? 'incomplete' : 'completed', role: 'assistant', content: text || refusal ? [part] : [] }],
			parallel_tool_calls: true,
			temperature: call.body.temperature ?? null,
			text: call.body.text ?? { format: { type: 'text' } },
			tool_choice: 'auto',
			tools: [],
			top_p: null,
			usage: {
				input_tokens: inputTokens,
				input_tokens_details: { cached_tokens: 0 },
				output_tokens: outputTokens,
				output_tokens_details: { reasoning_tokens: reasoningTokens },
				total_tokens: inputTokens + outputTokens,
			},
		};
	}
	const input = refusal ? undefined : parseObject(text);
	const tool = promptIdOf(call);
	const content =
		input && tool
			? [{ type: 'tool_use', id: id('toolu_'), name: tool, input, caller: { type: 'direct' } }]
			: text
				? [{ type: 'text', text, citations: null }]
				: [];
	return {
		id: id('msg_'),
		type: 'message',
		role: 'assistant',
		model: call.model,
		content,
		stop_reason: refusal ? 'refusal' : shape.finish !== undefined ? shape.finish : content[0]?.type === 'tool_use' ? 'tool_use' : 'end_turn',
		stop_sequence: null,
		usage: { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
	};
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
	400: 'invalid_request_error',
	401: 'authentication_error',
	403: 'permission_error',
	404: 'not_found_error',
	413: 'request_too_large',
	429: 'rate_limit_error',
	500: 'api_error',
	529: 'overloaded_error',
};

/** An error body in the API's own shape. */
function errorBody(api: Api | 'other', status: number, model: string, message?: string): Record<string, unknown> {
	if (api === 'messages') {
		const type = ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
		const text: Record<number, string> = {
			401: 'invalid x-api-key',
			404: `model: ${model}`,
			429: 'Number of request tokens has exceeded your per-minute rate limit',
			500: 'Internal server error',
			529: 'Overloaded',
		};
		return { type: 'error', error: { type, message: message ?? text[status] ?? `test model server: HTTP ${status}` } };
	}
	const [type, code, text] =
		status === 404
			? ['invalid_request_error', 'model_not_found', `The model \`${model}\` does not exist or you do not have access to it.`]
			: status === 401
				? ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.']
				: status === 429
					? ['requests', 'rate_limit_exceeded', `Rate limit reached for ${model}. Please try again later.`]
					: status >= 500
						? ['server_error', null, 'The server had an error while processing your request.']
						: ['invalid_request_error', null, `test model server: HTTP ${status}`];
	return { error: { message: message ?? text, type, param: null, code } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(status, {
		'content-type': 'application/json',
		'content-length': String(Buffer.byteLength(text)),
		'x-request-id': id('req_'),
		'request-id': id('req_'),
		...headers,
	});
	res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

function parseJson(text: string): unknown {
	if (!text) return undefined;
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

/** `/v1/v1/chat/completions?x` → `/chat/completions` */
function routeOf(url: string): string {
	const path = url.split('?')[0];
	return path.replace(/^(\/v1)+(?=\/)/, '').replace(/\/+$/, '') || '/';
}

const ROUTES: Record<string, Api> = { '/chat/completions': 'chat', '/responses': 'responses', '/messages': 'messages' };

export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
	const rulesFile = typeof opts.rules === 'string' ? loadRules(opts.rules) : opts.rules;
	const rules = new ModelRules(rulesFile ?? { rules: [] }, typeof opts.rules === 'string' ? opts.rules : '<rules>');
	const queue: Behaviour[] = [];
	const requests: RecordedRequest[] = [];
	const faultCounts: Record<FaultKind, number> = { rateLimited: 0, rateLimitedNoRetryAfter: 0, serverError: 0, reset: 0, hang: 0 };
	let faults: FaultPlan | undefined;
	let draw = seeded(1);
	const setFaults = (plan: FaultPlan | undefined): void => {
		faults = plan;
		draw = seeded(plan?.seed ?? 1);
		for (const k of FAULT_ORDER) faultCounts[k] = 0;
	};
	setFaults(opts.faults);
	/** The injected fault for this request, if the draw lands on one. */
	const fault = (): Behaviour | undefined => {
		if (!faults) return undefined;
		let r = draw();
		for (const kind of FAULT_ORDER) {
			const share = faults[kind] ?? 0;
			if (r < share) {
				faultCounts[kind]++;
				switch (kind) {
					case 'rateLimited': {
						const ms = faults.retryAfterMs ?? 20;
						return { kind: 'status', status: 429, headers: { 'retry-after-ms': String(ms), 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) } };
					}
					case 'rateLimitedNoRetryAfter':
						return { kind: 'status', status: 429 };
					case 'serverError':
						return { kind: 'status', status: [500, 502, 503][faultCounts.serverError % 3] };
					case 'reset':
						return { kind: 'reset' };
					case 'hang':
						return { kind: 'hang' };
				}
			}
			r -= share;
		}
		return undefined;
	};
	const sockets = new Set<Socket>();
	let limiter = opts.rateLimit ? new ServerRateLimiter(opts.rateLimit) : undefined;
	let completions = 0;
	let inFlight = 0;
	let maxInFlight = 0;
	let latencyMs = Math.max(0, opts.latencyMs ?? 0);

	const act = (call: Completion, behaviour: Behaviour, res: ServerResponse): void => {
		switch (behaviour.kind) {
			case 'answer':
				return send(res, 200, successBody(call, behaviour.text, { finish: behaviour.finish, reasoningTokens: behaviour.reasoningTokens }));
			case 'refusal':
				return send(res, 200, successBody(call, behaviour.text, { refusal: true }));
			case 'status':
				return send(res, behaviour.status, behaviour.body ?? errorBody(call.api, behaviour.status, call.model), behaviour.headers);
			case 'raw':
				return send(res, behaviour.status ?? 200, behaviour.body, behaviour.headers);
			case 'malformed':
				return send(res, 200, '<html><body>502 Bad Gateway: upstream sent garbage</body></html> not json');
			case 'truncated': {
				const full = JSON.stringify(successBody(call, '{"value": true}'));
				res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(full)) });
				res.write(full.slice(0, Math.floor(full.length / 2)), () => res.socket?.destroy());
				return;
			}
			case 'hang':
				return; // the socket stays open until the client gives up or the server closes
			case 'reset':
				res.socket?.resetAndDestroy();
				return;
		}
	};

	const fromRules = (call: Completion): Behaviour => {
		if (!rules.accepts(call.model)) return { kind: 'status', status: 404 };
		return { kind: 'answer', text: rules.answer(promptIdOf(call), firstUserMessage(call), call.model) };
	};

	/** A batch line answered like a direct call; connection-level faults (hang, reset, cut body, non-JSON) become a 500 line. */
	const lineAnswer = (api: Api, body: Record<string, unknown>): { status: number; body: unknown } => {
		const call: Completion = { api, model: typeof body.model === 'string' ? body.model : '', body };
		const behaviour = queue.shift() ?? fault() ?? fromRules(call);
		switch (behaviour.kind) {
			case 'answer':
				return { status: 200, body: successBody(call, behaviour.text, { finish: behaviour.finish, reasoningTokens: behaviour.reasoningTokens }) };
			case 'refusal':
				return { status: 200, body: successBody(call, behaviour.text, { refusal: true }) };
			case 'status':
				return { status: behaviour.status, body: behaviour.body ?? errorBody(api, behaviour.status, call.model) };
			case 'raw':
				return { status: behaviour.status ?? 200, body: parseJson(behaviour.body) };
			default:
				return { status: 500, body: errorBody(api, 500, call.model) };
		}
	};
	let baseUrl = '';
	const batches = new BatchEndpoints(lineAnswer, () => baseUrl, opts.batchPolls ?? 1);

	const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
		const receivedAt = Date.now();
		const raw = await readBody(req);
		const body = parseJson(raw);
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(req.headers)) {
			if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
		}
		const method = req.method ?? 'GET';
		const path = req.url ?? '/';
		if (opts.record !== false) requests.push({ method, path, headers, body, receivedAt });
		const route = routeOf(path);

		if (method === 'GET' && route === '/models') {
			const names = rules.models ?? ['test-model'];
			const listing = headers['anthropic-version']
				? {
						data: names.map((name) => ({ type: 'model', id: name, display_name: name, created_at: '2025-01-01T00:00:00Z' })),
						has_more: false,
						first_id: names[0] ?? null,
						last_id: names[names.length - 1] ?? null,
					}
				: { object: 'list', data: names.map((name) => ({ id: name, object: 'model', created: 0, owned_by: 'test-model-server' })) };
			return send(res, 200, listing);
		}
		const batchReply = batches.handle(method, route, headers['content-type'] ?? '', raw, body);
		if (batchReply) {
			return send(res, batchReply.status, batchReply.body, batchReply.contentType ? { 'content-type': batchReply.contentType } : {});
		}
		const api = ROUTES[route];
		if (method !== 'POST' || !api) {
			return send(res, 404, errorBody('other', 404, '', `test model server: no route for ${method} ${path}`));
		}
		if (!isRecord(body)) {
			return send(res, 400, errorBody(api, 400, '', 'test model server: the request body is not a JSON object'));
		}
		const call: Completion = { api, model: typeof body.model === 'string' ? body.model : '', body };
		completions++;
		inFlight++;
		maxInFlight = Math.max(maxInFlight, inFlight);
		res.once('close', () => inFlight--);
		if (limiter) {
			const cap = [body.max_completion_tokens, body.max_tokens, body.max_output_tokens].find((v) => typeof v === 'number') as number | undefined;
			const decision = limiter.take(estimateTokens(raw) + (cap ?? 0), api === 'messages');
			for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
			if (!decision.ok) return send(res, 429, errorBody(api, 429, call.model));
		}
		if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
		act(call, queue.shift() ?? fault() ?? fromRules(call), res);
	};

	const server: Server = createServer((req, res) => {
		handle(req, res).catch((error: unknown) => {
			if (!res.headersSent) send(res, 500, errorBody('other', 500, '', `test model server: ${String(error)}`));
			else res.destroy();
		});
	});
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});

	const host = opts.host ?? '127.0.0.1';
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(opts.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;
	const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
	baseUrl = url;

	return {
		url,
		openaiBaseUrl: `${url}/v1`,
		anthropicBaseUrl: url,
		requests,
		faultCounts,
		get rateLimitRejections() {
			return limiter?.rejected ?? 0;
		},
		get completions() {
			return completions;
		},
		get maxInFlight() {
			return maxInFlight;
		},
		setLatency: (ms: number) => {
			latencyMs = Math.max(0, ms);
		},
		setRateLimit: (limit: ServerRateLimit | undefined) => {
			limiter = limit ? new ServerRateLimiter(limit) : undefined;
		},
		setFaults,
		enqueue: (...behaviours: Behaviour[]) => {
			queue.push(...behaviours);
		},
		setBatchPolls: (polls: number) => {
			batches.polls = polls;
		},
		batchCount: () => batches.batches.size,
		batchIds: () => [...batches.batches.keys()],
		reset: () => {
			maxInFlight = inFlight;
			queue.length = 0;
			requests.length = 0;
			batches.batches.clear();
		},
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				for (const socket of sockets) socket.destroy();
				server.closeAllConnections();
			}),
	};
}

/** `node model-server.js [--port N] [--host H] [--rules file.yaml]` */
async function main(argv: string[]): Promise<void> {
	const arg = (name: string): string | undefined => {
		const at = argv.indexOf(`--${name}`);
		return at >= 0 ? argv[at + 1] : undefined;
	};
	const port = arg('port');
	const server = await startModelServer({ port: port ? Number(port) : 8787, host: arg('host'), rules: arg('rules') });
	process.stdout.write(`test model server on ${server.url}\n  OPENAI_BASE_URL=${server.openaiBaseUrl}\n  ANTHROPIC_BASE_URL=${server.anthropicBaseUrl}\n`);
	const stop = (): void => {
		void server.close().then(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

if (require.main === module) {
	main(process.argv.slice(2)).catch((error: unknown) => {
		process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
		process.exit(2);
	});
}
