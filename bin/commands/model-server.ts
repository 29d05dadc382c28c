/** `prompt-release model-server`: the project's deterministic test model, for demos and CI. Not an LLM. */
import * as path from 'node:path';
import type { Command } from 'commander';
import { action, UsageError } from '../shared/exit';
import { out } from '../shared/output';
import { parsePositiveInt, shownPath } from '../shared/registry';

interface ServerOptions {
	rules?: string;
	port: string;
	host: string;
}

async function modelServer(opts: ServerOptions): Promise<number> {
	const port = opts.port === '0' ? 0 : parsePositiveInt(opts.port, '--port');
	if (port > 65535) throw new UsageError(`--port ${port} is invalid: use 1 to 65535, or 0 for a free port`);
	const { startModelServer } = await import('../../lib/testing/model-server');
	const server = await startModelServer({ port, host: opts.host, ...(opts.rules ? { rules: path.resolve(opts.rules) } : {}) });
	const source = opts.rules ? shownPath(opts.rules) : 'no rules file (every answer is {"value": null}; pass --rules FILE)';
	out(`Deterministic test model (not an LLM) listening on ${server.url} — OpenAI base URL ${server.openaiBaseUrl}, Anthropic base URL ${server.anthropicBaseUrl}; answers from ${source}`);
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
	return 0;
}

export function register(program: Command): void {
	program
		.command('model-server')
		.description('run the deterministic test model (not an LLM) that speaks the OpenAI and Anthropic APIs on loopback')
		.option('--rules <file>', 'rules YAML: which answer for which prompt and input')
		.option('--port <n>', 'port (0 picks a free one)', '8787')
		.option('--host <host>', 'interface to listen on', '127.0.0.1')
		.action(action(modelServer));
}
