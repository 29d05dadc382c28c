/** `prompt-release model-server`: the project's deterministic test model, for demos and CI. Not an LLM. */
import * as path from 'node:path';
import type { Command } from 'commander';
import type { ServerRateLimit } from '../../lib/testing/server-rate-limit';
import { action, UsageError } from '../shared/exit';
import { note, out, plural } from '../shared/output';
import { parsePositiveInt, parsePositiveNumber, shownPath } from '../shared/registry';

interface ServerOptions {
	rules?: string;
	port: string;
	host: string;
	rateLimitRps?: string;
	tokensPerMinute?: string;
	latencyMs?: string;
}

/** `--rate-limit-rps` / `--tokens-per-minute` as the server's rate limit; undefined when neither is given. */
export function rateLimitOption(opts: Pick<ServerOptions, 'rateLimitRps' | 'tokensPerMinute'>): ServerRateLimit | undefined {
	const limit: ServerRateLimit = {};
	if (opts.rateLimitRps !== undefined) limit.requestsPerSecond = parsePositiveNumber(opts.rateLimitRps, '--rate-limit-rps');
	if (opts.tokensPerMinute !== undefined) limit.tokensPerMinute = parsePositiveInt(opts.tokensPerMinute, '--tokens-per-minute');
	return Object.keys(limit).length ? limit : undefined;
}

function describeLimit(limit: ServerRateLimit): string {
	const parts = [
		...(limit.requestsPerSecond !== undefined ? [`${limit.requestsPerSecond} requests/s`] : []),
		...(limit.tokensPerMinute !== undefined ? [`${limit.tokensPerMinute} tokens/min`] : []),
	];
	return `rate limit ${parts.join(' and ')}: beyond it a completion gets 429 with retry-after, and every completion carries x-ratelimit-* / anthropic-ratelimit-* headers`;
}

async function modelServer(opts: ServerOptions): Promise<number> {
	const port = opts.port === '0' ? 0 : parsePositiveInt(opts.port, '--port');
	if (port > 65535) throw new UsageError(`--port ${port} is invalid: use 1 to 65535, or 0 for a free port`);
	const rateLimit = rateLimitOption(opts);
	const latencyMs = opts.latencyMs !== undefined ? (opts.latencyMs.trim() === '0' ? 0 : parsePositiveInt(opts.latencyMs, '--latency-ms')) : undefined;
	const { startModelServer } = await import('../../lib/testing/model-server');
	const server = await startModelServer({
		port,
		host: opts.host,
		...(opts.rules ? { rules: path.resolve(opts.rules) } : {}),
		...(rateLimit ? { rateLimit } : {}),
		...(latencyMs ? { latencyMs } : {}),
		// A server a user leaves running must not keep every request it ever answered.
		record: false,
	});
	const source = opts.rules ? shownPath(opts.rules) : 'no rules file (every answer is {"value": null}; pass --rules FILE)';
	out(`Deterministic test model (not an LLM) listening on ${server.url} — OpenAI base URL ${server.openaiBaseUrl}, Anthropic base URL ${server.anthropicBaseUrl}; answers from ${source}`);
	if (rateLimit) out(`  ${describeLimit(rateLimit)}`);
	if (latencyMs) out(`  every completion answered after ${latencyMs} ms`);
	out(`  e.g. OPENAI_BASE_URL=${server.openaiBaseUrl} OPENAI_API_KEY=test prompt-release test <prompt>`);
	out('  stop with Ctrl-C');
	await new Promise<void>((resolve) => {
		const stop = (): void => {
			process.off('SIGINT', stop);
			process.off('SIGTERM', stop);
			void server.close().then(resolve);
		};
		process.on('SIGINT', stop);
		process.on('SIGTERM', stop);
	});
	note(`model-server: answered ${plural(server.completions, 'completion request')}${rateLimit ? `, ${server.rateLimitRejections} of them with 429 (rate limit)` : ''}`);
	return 0;
}

export function register(program: Command): void {
	program
		.command('model-server')
		.description('run the deterministic test model (not an LLM) that speaks the OpenAI and Anthropic APIs on loopback')
		.option('--rules <file>', 'rules YAML: which answer for which prompt and input')
		.option('--port <n>', 'port (0 picks a free one)', '8787')
		.option('--host <host>', 'interface to listen on', '127.0.0.1')
		.option('--rate-limit-rps <n>', 'answer 429 (with retry-after) beyond n completion requests per second, e.g. 20 or 0.5, as providers do; rate-limit headers on every answer')
		.option('--tokens-per-minute <n>', 'answer 429 beyond n tokens per minute (estimated input tokens + the request\'s max tokens, as providers count)')
		.option('--latency-ms <n>', 'answer every completion after n milliseconds, standing in for model latency (default 0)')
		.action(action(modelServer));
}
