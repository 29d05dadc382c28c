/**
 * The SDKs' HTTP transport (lib/providers/http-fetch.ts) against real HTTP servers on loopback: what it sends
 * and reads, that a request is written when it is made (not when the event loop next goes idle, as the global
 * fetch does), how failures and aborts end, and what it leaves to the global fetch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { fetchIsRedirected, httpFetch } from '../lib/providers/http-fetch';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const servers: Server[] = [];
afterAll(async () => {
	for (const s of servers) {
		s.closeAllConnections();
		await new Promise((r) => s.close(r));
	}
});

async function serve(handler: Handler): Promise<string> {
	const server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
	});
	servers.push(server);
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(JSON.stringify(body));
};

describe('httpFetch', () => {
	it('sends method, headers and body as given, and reads status, headers and body', async () => {
		const seen: Array<{ method?: string; headers: IncomingMessage['headers']; body: string }> = [];
		const url = await serve((req, body, res) => {
			seen.push({ method: req.method, headers: req.headers, body });
			json(res, 201, { ok: true, echo: JSON.parse(body) }, { 'x-ratelimit-remaining-requests': '99', 'set-cookie': 'a=1' });
		});
		const payload = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Größe ✓' }] });
		const res = await httpFetch(`${url}/v1/chat/completions`, {
			method: 'POST',
			headers: new Headers({ 'Content-Type': 'application/json', Authorization: 'Bearer sk-test' }),
			body: payload,
		});
		expect(res.status).toBe(201);
		expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('99');
		expect(await res.json()).toEqual({ ok: true, echo: JSON.parse(payload) });
		expect(seen[0]).toMatchObject({ method: 'POST', body: payload, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'content-length': String(Buffer.byteLength(payload)) } });
		// Not the global fetch: it would add its own request headers.
		expect(seen[0].headers['sec-fetch-mode']).toBeUndefined();
	});

	it('writes a request when it is made, even while the process stays busy afterwards', async () => {
		// The server runs in another process and notes when each request arrives (epoch ms).
		const child: ChildProcess = spawn(
			process.execPath,
			[
				'-e',
				`const http = require('node:http');
				const s = http.createServer((req, res) => { const at = Date.now(); req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ at })); }); });
				s.listen(0, '127.0.0.1', () => process.send(s.address().port));`,
			],
			{ stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
		);
		try {
			const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
			const url = `http://127.0.0.1:${port}/`;
			await (await httpFetch(url, { method: 'POST', body: '{}' })).json(); // a keep-alive connection is open
			const busyMs = 400;
			let madeAt = 0;
			const arrival = new Promise<{ at: number }>((resolve, reject) => {
				setImmediate(() => {
					madeAt = Date.now();
					httpFetch(url, { method: 'POST', body: '{"n":2}' }).then((r) => r.json() as Promise<{ at: number }>).then(resolve, reject);
				});
				setImmediate(() => {
					const end = Date.now() + busyMs; // the next callback keeps the event loop busy
					while (Date.now() < end);
				});
			});
			const { at } = await arrival;
			expect(at - madeAt).toBeLessThan(busyMs / 2);
		} finally {
			child.kill();
		}
	});

	it('keeps its own transport in a process that used the global fetch before (Node then holds its default Agent)', async () => {
		const url = await serve((req, _body, res) => json(res, 200, { viaFetch: req.headers['sec-fetch-mode'] !== undefined }));
		// A plain Node process (jest runs tests in a separate realm, whose globalThis Node's fetch never touches).
		const script = `const { httpFetch } = require(${JSON.stringify(require.resolve('../dist/lib/providers/http-fetch.js'))});
			(async () => {
				const first = await (await fetch(${JSON.stringify(`${url}/`)})).json();
				const then = await (await httpFetch(${JSON.stringify(`${url}/`)}, { method: 'POST', body: '{}' })).json();
				process.stdout.write(JSON.stringify({ first, then }));
			})();`;
		const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
		let out = '';
		child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
		await new Promise((r) => child.once('close', r));
		expect(JSON.parse(out)).toEqual({ first: { viaFetch: true }, then: { viaFetch: false } });
	});

	it('reads large and compressed answers', async () => {
		const big = 'x'.repeat(3 * 1024 * 1024);
		const url = await serve((req, _body, res) => {
			if (req.url === '/big') return json(res, 200, { big });
			res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
			res.end(gzipSync(JSON.stringify({ zipped: true })));
		});
		expect(((await (await httpFetch(`${url}/big`)).json()) as { big: string }).big).toHaveLength(big.length);
		expect(await (await httpFetch(`${url}/gz`)).json()).toEqual({ zipped: true });
	});

	it('fails as the global fetch does: refused connection, body cut short, abort', async () => {
		const closed = await serve(() => undefined);
		const port = new URL(closed).port;
		servers.pop()!.close();
		const refused = await httpFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(TypeError);
		expect(refused).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });

		const url = await serve((req, _body, res) => {
			if (req.url === '/cut') {
				res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
				res.write('{"half":', () => res.socket?.destroy());
			}
			// '/hang': never answers
		});
		expect(await httpFetch(`${url}/cut`).catch((e: unknown) => e)).toMatchObject({ name: 'TypeError', message: 'terminated' });

		const controller = new AbortController();
		const reason = new DOMException('The operation timed out.', 'AbortError');
		setTimeout(() => controller.abort(reason), 50);
		expect(await httpFetch(`${url}/hang`, { signal: controller.signal }).catch((e: unknown) => e)).toBe(reason);
		const already = new AbortController();
		already.abort(new Error('gave up'));
		await expect(httpFetch(`${url}/hang`, { signal: already.signal })).rejects.toThrow('gave up');
	});

	it('leaves to the global fetch: form uploads, redirects, and everything while a proxy is configured', async () => {
		const url = await serve((req, body, res) => {
			if (req.url === '/old') {
				res.writeHead(307, { location: '/new' });
				res.end();
				return;
			}
			json(res, 200, { path: req.url, viaFetch: req.headers['sec-fetch-mode'] !== undefined, type: req.headers['content-type'], body });
		});
		const form = new FormData();
		form.append('purpose', 'batch');
		expect(await (await httpFetch(`${url}/files`, { method: 'POST', body: form })).json()).toMatchObject({ viaFetch: true, type: expect.stringMatching(/^multipart\/form-data/) });
		expect(await (await httpFetch(`${url}/old`)).json()).toMatchObject({ path: '/new', viaFetch: true });

		// Node installs a plain Agent as the global dispatcher on the first fetch: that is no redirection; any other kind is.
		const dispatcherKey = Symbol.for('undici.globalDispatcher.1');
		const defaultDispatcher = (globalThis as Record<symbol, unknown>)[dispatcherKey];
		class Agent {}
		class ProxyAgent {}
		try {
			(globalThis as Record<symbol, unknown>)[dispatcherKey] = new Agent();
			expect(fetchIsRedirected({})).toBe(false);
			(globalThis as Record<symbol, unknown>)[dispatcherKey] = new ProxyAgent();
			expect(fetchIsRedirected({})).toBe(true);
		} finally {
			(globalThis as Record<symbol, unknown>)[dispatcherKey] = defaultDispatcher;
		}
		expect(fetchIsRedirected({ https_proxy: 'http://proxy.internal:3128' })).toBe(true);
		const saved = process.env.HTTPS_PROXY;
		process.env.HTTPS_PROXY = 'http://proxy.internal:3128';
		try {
			expect(await (await httpFetch(`${url}/plain`, { method: 'POST', body: '{}' })).json()).toMatchObject({ viaFetch: true });
		} finally {
			if (saved === undefined) delete process.env.HTTPS_PROXY;
			else process.env.HTTPS_PROXY = saved;
		}
		expect(await (await httpFetch(`${url}/plain`, { method: 'POST', body: '{}' })).json()).toMatchObject({ viaFetch: false });
	});
});
