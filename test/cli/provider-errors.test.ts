/** Provider errors through `prompt-release test` as a user meets them: what the message names, what the exit code and the stored run are. */
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { cli, exists, makeRegistry, promptYaml, RULES, serverEnv, write, type FixtureSpec } from './helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
});
afterAll(async () => server.close());
beforeEach(() => server.reset());

const completions = () => server.requests.filter((r) => r.method === 'POST');

/** The price-change prompt on an OpenAI-compatible server that only the prompt file names. */
function compatiblePrompt(baseUrl: string): string {
	return promptYaml().replace('  provider: openai\n', `  provider: openai-compatible\n  baseUrl: ${baseUrl}\n`);
}

test('a base URL on a port fetch refuses (10080) is fatal: exit 2 naming the bad port, no run stored, no request made', async () => {
	const { cwd, promptDir } = await makeRegistry();
	await write(promptDir, 'prompt.yaml', compatiblePrompt('http://127.0.0.1:10080/v1'));
	expect((await cli(['commit', 'price-change'], cwd)).code).toBe(0);
	const result = await cli(['test', 'price-change', '--concurrency', '1'], cwd, serverEnv(server));
	expect(result.code).toBe(2);
	expect(result.stderr).toContain('cannot call openai-compatible at http://127.0.0.1:10080/v1: fetch refuses port 10080');
	expect(result.stderr).toContain('run the server on another port');
	expect(result.stderr).not.toMatch(/check that the server is running/);
	expect(result.stderr).toContain('No run was stored.');
	expect(await exists(path.join(promptDir, 'runs'))).toBe(false);
});

test('a 401 from an OpenAI-compatible server named by model.baseUrl names OPENAI_COMPATIBLE_API_KEY, the key that server gets', async () => {
	const { cwd, promptDir } = await makeRegistry();
	await write(promptDir, 'prompt.yaml', compatiblePrompt(server.openaiBaseUrl));
	expect((await cli(['commit', 'price-change'], cwd)).code).toBe(0);
	server.enqueue({ kind: 'status', status: 401 });
	const env = serverEnv(server, { OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_COMPATIBLE_API_KEY: 'compat-key-123' });
	const result = await cli(['test', 'price-change', '--concurrency', '1', '--max-retries', '0'], cwd, env);
	expect(result.code).toBe(2);
	expect(result.stderr).toContain('rejected the API key: set a valid key in OPENAI_COMPATIBLE_API_KEY (HTTP 401');
	expect(result.stderr).not.toContain('OPENAI_API_KEY');
	expect(completions()).toHaveLength(1);
	expect(completions()[0].headers.authorization).toBe('Bearer compat-key-123');
});

test('a fault run at --concurrency 32 prints no MaxListenersExceededWarning, even where AbortSignals warn at 10 listeners (Node before 24)', async () => {
	const fixtures: FixtureSpec[] = Array.from({ length: 96 }, (_, i) => ({ id: `f${i}`, subject: `mail ${i}`, body: 'Please find our new price list attached.', expected: true }));
	const { cwd } = await makeRegistry({ fixtures });
	server.setFaults({ rateLimited: 0.5, serverError: 0.3, reset: 0.05, retryAfterMs: 5, seed: 3 });
	try {
		const preload = path.resolve(__dirname, '..', 'support', 'abort-signals-warn-at-10.cjs');
		const result = await cli(['test', 'price-change', '--concurrency', '32', '--max-retries', '2', '--timeout', '5000'], cwd, serverEnv(server, { NODE_OPTIONS: `--require ${preload}` }));
		expect(result.code === 0 || result.code === 1).toBe(true);
		expect(result.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/);
	} finally {
		server.setFaults(undefined);
	}
}, 60_000);
