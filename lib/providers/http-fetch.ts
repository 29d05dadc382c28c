/**
 * The HTTP transport of the provider SDKs: a `fetch` for the openai and @anthropic-ai/sdk clients (both take
 * one, `ClientOptions.fetch`) over node:http / node:https keep-alive agents (docs/adr/0053-sdk-http-transport.md).
 *
 * Why not Node's global fetch (undici): a request handed to it while the process is busy is written to the
 * socket only when the event loop next goes idle. When 16 answers come back together (a node running 16
 * items at a time) each answer's processing starts the next request, yet none of those requests leaves before
 * all 16 answers are processed: every round of calls waits for the whole round's CPU. Measured with the
 * openai SDK, 16 at a time, 200 ms model latency, 2.5 ms of work per answer: the server saw a round's
 * requests arrive together 60 ms after the first answer with global fetch, one by one as they were made
 * with this transport (6 rounds: 1,515 ms vs 1,309 ms); in a real n8n, Extract Signal's rounds took 250 ms
 * instead of 200. A request here is written when it is made. It also costs less CPU per call (about 330 µs
 * against 470 µs with the SDK, measured the same way at 0 ms latency).
 *
 * What it does not do is left to the global fetch, unchanged: a `Request` object as input, bodies other than
 * text or bytes (FormData file uploads, streams), following redirects (a 3xx answer is sent again through
 * fetch), and any set-up that routes fetch elsewhere — a proxy in the environment (HTTP_PROXY, HTTPS_PROXY,
 * ALL_PROXY, any case) or a global undici dispatcher someone installed (a proxy or retry agent, not the
 * plain Agent Node creates on the first fetch; n8n 2.41 installs none), so
 * corporate proxies keep working exactly as before. Errors reject as undici's do: a network error as
 * `TypeError('fetch failed')` whose `cause` carries the Node error and its `code`, a body cut short as
 * `TypeError('terminated')`, which the SDKs and ./errors.ts read. An abort rejects with the signal's reason.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

/** Node's global fetch, as the SDKs and the limiter call it. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Bodies up to this size are read whole before the Response is handed out; larger ones stream. */
const BUFFER_LIMIT = 1024 * 1024;
/**
 * Free keep-alive sockets are closed after this idle time, below Node servers' default keep-alive timeout
 * (5 s) and matching undici's default, so a request is never written to a socket the server is closing.
 */
const IDLE_SOCKET_MS = 4000;

const agents = {
	'http:': new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo', timeout: IDLE_SOCKET_MS }),
	'https:': new https.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo', timeout: IDLE_SOCKET_MS }),
};

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'];
/** Where undici keeps a dispatcher set with setGlobalDispatcher (undici lib/global.js). */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/**
 * True when fetch may be routed through a proxy or a custom dispatcher: then the global fetch serves every
 * request. Node creates a plain `Agent` as the global dispatcher the first time anything calls fetch, so an
 * `Agent` there is the default; any other kind (ProxyAgent, EnvHttpProxyAgent, RetryAgent, MockAgent, …) was
 * installed on purpose.
 */
export function fetchIsRedirected(env: NodeJS.ProcessEnv = process.env): boolean {
	if (PROXY_VARIABLES.some((name) => Boolean(env[name]?.trim()))) return true;
	const dispatcher = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
	return dispatcher !== undefined && (dispatcher as { constructor?: { name?: string } } | null)?.constructor?.name !== 'Agent';
}

/** The body as bytes when this transport can send it; undefined when the global fetch must. */
function bodyBytes(body: RequestInit['body']): Buffer | null | undefined {
	if (body === undefined || body === null) return null;
	if (typeof body === 'string') return Buffer.from(body, 'utf8');
	if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	if (body instanceof ArrayBuffer) return Buffer.from(body);
	return undefined;
}

function fetchFailed(cause: unknown): TypeError {
	return new TypeError('fetch failed', { cause });
}

/** A body cut short (the server closed the connection mid-answer), as undici reports it. */
function terminated(cause: unknown): TypeError {
	return new TypeError('terminated', { cause });
}

function decoded(res: http.IncomingMessage): Readable {
	switch (String(res.headers['content-encoding'] ?? '').trim().toLowerCase()) {
		case 'gzip':
		case 'x-gzip':
			return res.pipe(zlib.createGunzip());
		case 'deflate':
			return res.pipe(zlib.createInflate());
		case 'br':
			return res.pipe(zlib.createBrotliDecompress());
		default:
			return res;
	}
}

/** The answer as a fetch Response: read whole when small, else streamed from what was read so far on. */
function toResponse(res: http.IncomingMessage, method: string, signal: AbortSignal | undefined): Promise<Response> {
	const headers = new Headers();
	for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
	const init = { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers };
	if (method === 'HEAD' || init.status === 204 || init.status === 304) {
		res.resume();
		return Promise.resolve(new Response(null, init));
	}
	const body = decoded(res);
	return new Promise<Response>((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const onData = (chunk: Buffer): void => {
			chunks.push(chunk);
			size += chunk.length;
			if (size > BUFFER_LIMIT) stream();
		};
		const onEnd = (): void => resolve(new Response(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), init));
		const onError = (error: Error): void => reject(signal?.aborted ? signal.reason : terminated(error));
		body.on('data', onData).once('end', onEnd).once('error', onError);
		/** Too big to hold: hand out a streaming Response that starts with the chunks read so far. */
		const stream = (): void => {
			body.pause();
			body.off('data', onData).off('end', onEnd).off('error', onError);
			const web = new ReadableStream<Uint8Array>({
				start(controller) {
					for (const chunk of chunks) controller.enqueue(chunk);
					chunks.length = 0;
					body.on('data', (chunk: Buffer) => {
						controller.enqueue(chunk);
						if ((controller.desiredSize ?? 1) <= 0) body.pause();
					});
					body.once('end', () => controller.close());
					body.once('error', (error) => controller.error(signal?.aborted ? signal.reason : terminated(error)));
				},
				pull() {
					body.resume();
				},
				cancel(reason) {
					body.destroy(reason instanceof Error ? reason : undefined);
					res.destroy();
				},
			});
			resolve(new Response(web, init));
		};
	});
}

/**
 * `fetch(input, init)` for the SDK clients (see the file comment): same arguments, same Response and errors as
 * the global fetch for what the SDKs send. Falls back to the global fetch where noted above.
 */
export const httpFetch: FetchLike = async (input, init = {}) => {
	if (typeof input !== 'string' && !(input instanceof URL)) return fetch(input, init);
	const bytes = bodyBytes(init.body);
	if (bytes === undefined || fetchIsRedirected()) return fetch(input, init);
	const url = input instanceof URL ? input : new URL(input);
	const agent = agents[url.protocol as keyof typeof agents];
	if (!agent) return fetch(input, init);
	const signal = init.signal ?? undefined;
	if (signal?.aborted) throw signal.reason;
	const method = (init.method ?? 'GET').toUpperCase();
	const headers: Record<string, string> = {};
	new Headers(init.headers).forEach((value, name) => {
		headers[name] = value;
	});
	if (bytes && headers['content-length'] === undefined) headers['content-length'] = String(bytes.length);

	const response = await new Promise<Response>((resolve, reject) => {
		const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers, agent });
		const onAbort = (): void => {
			req.destroy();
			reject(signal!.reason);
		};
		signal?.addEventListener('abort', onAbort, { once: true });
		req.once('response', (res) => {
			toResponse(res, method, signal).then(resolve, reject);
			res.once('close', () => signal?.removeEventListener('abort', onAbort));
		});
		req.once('error', (error) => {
			signal?.removeEventListener('abort', onAbort);
			reject(signal?.aborted ? signal.reason : fetchFailed(error));
		});
		req.end(bytes ?? undefined);
	});
	// fetch follows redirects; an API endpoint that redirects is rare enough to let fetch do it.
	if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
		await response.body?.cancel();
		return fetch(input, init);
	}
	return response;
};
