/**
 * Bounded, paced webhook traffic over loopback: at most `count` requests, at most `concurrency` in
 * flight, at least `intervalMs` between two request starts, no new request after `deadlineMs`. Every
 * exchange is kept with its send and receive times, so a test can compare each answer with what the
 * registry said at that moment.
 */

type Json = Record<string, any>;

export interface Exchange {
	/** Index of the request (0-based, in send order). */
	i: number;
	/** Date.now() when the request was sent / its answer was read. */
	sentAt: number;
	receivedAt: number;
	/** HTTP status, 0 when the request failed without one. */
	status: number;
	/** Parsed JSON answer (undefined when it was not JSON). */
	body: Json | undefined;
	/** Raw answer text or the error message, for failure reports. */
	text: string;
}

export interface TrafficOptions {
	url: string;
	count: number;
	concurrency: number;
	intervalMs: number;
	/** Absolute time (Date.now()) after which no request starts. */
	deadline: number;
	/** The JSON body of request i. */
	body(i: number): Json;
	/** Called just before request i is sent (e.g. to roll back halfway); awaited. */
	beforeSend?(i: number): Promise<void> | void;
	/** Checked before each send: true stops sending (requests in flight still finish). */
	stop?(): boolean;
	/** Per-request timeout (default 60 s). */
	timeoutMs?: number;
}

/** Sends the traffic and resolves with every exchange, in send order. */
export async function sendTraffic(opts: TrafficOptions): Promise<Exchange[]> {
	const exchanges: Exchange[] = [];
	let next = 0;
	let lastStart = 0;
	let gate: Promise<void> = Promise.resolve();

	/** Claims the next request index, spacing starts by intervalMs (one claim at a time). */
	const claim = async (): Promise<number | undefined> => {
		const turn = gate.then(async () => {
			const wait = lastStart + opts.intervalMs - Date.now();
			if (wait > 0) await new Promise((r) => setTimeout(r, wait));
			if (next >= opts.count || Date.now() > opts.deadline || opts.stop?.()) return undefined;
			const i = next++;
			await opts.beforeSend?.(i);
			lastStart = Date.now();
			return i;
		});
		gate = turn.then(
			() => undefined,
			() => undefined,
		);
		return await turn;
	};

	const lane = async (): Promise<void> => {
		for (;;) {
			const i = await claim();
			if (i === undefined) return;
			const sentAt = Date.now();
			let status = 0;
			let text = '';
			try {
				const res = await fetch(opts.url, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify(opts.body(i)),
					signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
				});
				status = res.status;
				text = await res.text();
			} catch (error) {
				text = error instanceof Error ? error.message : String(error);
			}
			let body: Json | undefined;
			try {
				body = JSON.parse(text) as Json;
			} catch {
				body = undefined;
			}
			exchanges.push({ i, sentAt, receivedAt: Date.now(), status, body, text: text.slice(0, 2000) });
		}
	};

	await Promise.all(Array.from({ length: opts.concurrency }, lane));
	return exchanges.sort((a, b) => a.i - b.i);
}

/** Waits (bounded) until n8n has registered a production webhook: POSTs until the answer is not 404. */
export async function waitForWebhook(url: string, body: Json, timeoutMs = 90_000): Promise<void> {
	const until = Date.now() + timeoutMs;
	for (;;) {
		const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
		await res?.text();
		if (res && res.status !== 404) return;
		if (Date.now() > until) throw new Error(`webhook ${url} was never registered`);
		await new Promise((r) => setTimeout(r, 500));
	}
}
