/** `prompt-release test` against the real loopback model server (started in this process). */
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { contentHash } from '../../lib/hash';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { startModelServer, type ModelServer, type RecordedRequest } from '../../lib/testing/model-server';
import type { RunReport } from '../../lib/types';
import { cli, exists, FIXTURES, makeRegistry, readJson, RULES, serverEnv, write } from './helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
});

afterAll(async () => {
	await server.close();
});

beforeEach(() => server.reset());

/** The server's own token estimate (ceil(characters / 4)) of what a chat request sent. */
function inputTokens(r: RecordedRequest): number {
	const messages = (r.body as { messages: Array<{ content: string }> }).messages;
	return Math.ceil(messages.map((m) => m.content).join('').length / 4);
}

function completions(): RecordedRequest[] {
	return server.requests.filter((r) => r.method === 'POST');
}

test('--json prints exactly the summary; the numbers are those of the server; --junit writes the report', async () => {
	const fixtures = FIXTURES.map((f) => (f.id === 'delay' ? { ...f, segment: 'a<b & "c"' } : f));
	const { cwd, promptDir } = await makeRegistry({ fixtures });
	// A price table with round numbers: $1 per input token, $2 per output token.
	await write(cwd, 'prompts/pricing.yaml', 'models:\n  "openai:gpt-4o-mini": {input: 1000000, output: 2000000}\n');
	const result = await cli(['test', 'price-change', '--json', '--junit', 'reports/junit.xml', '--concurrency', '2'], cwd, serverEnv(server));

	expect(result.code).toBe(1); // `tricky` fails
	const summary = JSON.parse(result.stdout) as Record<string, any>;
	expect(Object.keys(summary)).toEqual(['total', 'passed', 'failed', 'passRate', 'segments', 'classes', 'regressions', 'latencyMs', 'tokens', 'costUsd', 'runId', 'cached', 'calls']);
	expect(summary).toMatchObject({ total: 4, passed: 3, failed: 1, passRate: 0.75, regressions: [], cached: 0, calls: { total: 4, cached: 0, fresh: 4, batched: 0 } });
	expect(summary.segments).toEqual({
		announcement: { total: 2, passed: 2, failed: 0, passRate: 1 },
		'a<b & "c"': { total: 1, passed: 1, failed: 0, passRate: 1 },
		logistics: { total: 1, passed: 0, failed: 1, passRate: 0 },
	});
	const requests = completions();
	expect(requests).toHaveLength(4);
	expect(requests.every((r) => r.path === '/v1/chat/completions')).toBe(true);
	const input = requests.reduce((sum, r) => sum + inputTokens(r), 0);
	const output = 4 * Math.ceil('{"value":true}'.length / 4); // every answer is {"value":true|false}: 4 tokens
	expect(summary.tokens).toEqual({ input, output });
	expect(summary.costUsd).toBe(input * 1 + output * 2);
	expect(Object.keys(summary.latencyMs)).toEqual(['p50', 'p95']);
	expect(summary.latencyMs.p50).toBeGreaterThanOrEqual(0);
	expect(summary.latencyMs.p95).toBeGreaterThanOrEqual(summary.latencyMs.p50);
	expect(result.stderr).toContain('testing price-change the draft (no version committed yet) with openai:gpt-4o-mini: 4 fixtures, concurrency 2');

	// The stored run is the same run: a summary document (run format 2) and one JSON line per result.
	const document = await readJson<{ format: number; resultsFile: string; results?: unknown }>(path.join(promptDir, 'runs', `${summary.runId}.json`));
	expect(document).toMatchObject({ format: 2, resultsFile: `${summary.runId}.results.jsonl` });
	expect(document.results).toBeUndefined();
	const lines = (await fs.readFile(path.join(promptDir, 'runs', document.resultsFile), 'utf8')).trim().split('\n');
	expect(lines).toHaveLength(4);
	const run: RunReport = await new FileRegistryStore(path.dirname(promptDir)).readRun('price-change', summary.runId);
	// The stored summary also carries per-field pass rates (not part of the documented --json keys).
	const { fields, ...stored } = run.summary;
	expect(stored).toEqual(summary);
	expect(fields).toEqual({ value: { total: 4, passed: 3, failed: 1, passRate: 0.75 } });
	expect(run.version).toBe('draft');
	expect(run.results.find((r) => r.fixtureId === 'tricky')).toMatchObject({ passed: false, expected: false, actual: true });

	const xml = await fs.readFile(path.join(cwd, 'reports/junit.xml'), 'utf8');
	expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
	expect(xml).toMatch(/<testsuite name="price-change" tests="4" failures="1" errors="0" skipped="0" time="[0-9.]+" timestamp="[^"]+">/);
	expect(xml.match(/<testcase /g)).toHaveLength(4);
	expect(xml).toMatch(/<testcase name="tricky" classname="logistics" time="[0-9.]+">\s*<failure message="expected false, got true" type="mismatch">expected: false\nactual: true/);
	expect(xml).toMatch(/<testcase name="delay" classname="a&lt;b &amp; &quot;c&quot;" time="[0-9.]+"\/>/);
	expect(xml).toContain(`<property name="runId" value="${summary.runId}"/>`);
	expect((await fs.readdir(path.join(cwd, 'reports'))).sort()).toEqual(['junit.xml']); // no temp file left
});

test('human output: one line per fixture and the summary', async () => {
	const { cwd } = await makeRegistry();
	const result = await cli(['test', 'price-change', '--concurrency', '1'], cwd, serverEnv(server));
	expect(result.code).toBe(1);
	const lines = result.stdout.split('\n');
	expect(lines[0]).toBe('testing price-change the draft (no version committed yet) with openai:gpt-4o-mini: 4 fixtures, concurrency 1');
	expect(lines).toContainEqual(expect.stringMatching(/^✓ increase +announcement +expected true, got true +\(\d+ ms\)$/));
	expect(lines).toContainEqual(expect.stringMatching(/^✓ delay +logistics +expected false, got false +\(\d+ ms\)$/));
	expect(lines).toContainEqual(expect.stringMatching(/^✗ tricky +logistics +expected false, got true +\(\d+ ms\)$/));
	expect(result.stdout).toContain('4 fixtures: 3 passed, 1 failed, pass rate 75.0%');
	expect(result.stdout).toMatch(/segment announcement +2\/2 +100\.0%/);
	expect(result.stdout).toMatch(/segment logistics +1\/2 +50\.0%/);
	expect(result.stdout).toContain('regressions: not checked (no stored run behind production)');
	expect(result.stdout).toMatch(/latency: p50 \d+ ms, p95 \d+ ms/);
	expect(result.stdout).toMatch(/tokens: \d+ in, 16 out; cost \$[0-9.e-]+\n/);
	expect(result.stdout).toMatch(/run: \S+ \(prompts\/price-change\/runs\/\S+\.json\)/);
	expect(result.stdout).toContain('FAILED: 1 fixture failed');
	expect(completions()).toHaveLength(4);
});

test('a fixture missing a variable or with a wrong-typed input stops the run with file:line, like validate: exit 2, no model call, no run', async () => {
	const { cwd, promptDir } = await makeRegistry();
	await write(promptDir, 'fixtures/no-body.yaml', 'id: no-body\ninputs:\n  subject: Price increase\nexpected: true\n');
	await write(promptDir, 'fixtures/typed.yaml', 'id: typed\ninputs:\n  subject: Price increase\n  body: 42\nexpected: true\n');
	const result = await cli(['test', 'price-change'], cwd, serverEnv(server));
	expect(result.code).toBe(2);
	expect(result.stderr).toContain('prompt-release: prompts/price-change/fixtures/no-body.yaml:2 field "inputs": required input "body" is missing');
	expect(result.stderr).toContain('prompt-release: prompts/price-change/fixtures/typed.yaml:4 field "inputs.body": must be a string');
	expect(result.stdout).toBe('');
	expect(completions()).toHaveLength(0);
	expect(await exists(path.join(promptDir, 'runs'))).toBe(false);
	// validate reports the same problems at the same places.
	const validate = await cli(['validate'], cwd);
	expect(validate.code).toBe(2);
	expect(validate.stderr).toContain('no-body.yaml:2 field "inputs": required input "body" is missing');
	expect(validate.stderr).toContain('typed.yaml:4 field "inputs.body": must be a string');
});

// Needs lib/providers/errors.ts to mark a 404 / model_not_found as `fatal` (the provider mapper's job).
test('an unknown model (404 at the provider) is a configuration error: exit 2 naming the model, no run stored', async () => {
	const { cwd, promptDir } = await makeRegistry();
	expect((await cli(['commit', 'price-change'], cwd)).code).toBe(0);
	const result = await cli(['test', 'price-change', '--model', 'openai:no-such-model', '--concurrency', '1'], cwd, serverEnv(server));
	expect(result.code).toBe(2);
	expect(result.stdout).toContain('testing price-change version 1 (the latest; nothing is on production yet) with openai:no-such-model');
	expect(result.stdout).toMatch(/model override: openai:no-such-model instead of openai:gpt-4o-mini\./);
	expect(result.stdout).not.toMatch(/^✗ /m);
	expect(result.stderr).toContain(`prompt-release: cannot test "price-change" with openai:no-such-model: model "no-such-model" is not available at openai (${server.openaiBaseUrl})`);
	expect(result.stderr).toContain('No run was stored.');
	expect(completions().length).toBe(1); // the run stopped at the first answer
	expect(await exists(path.join(promptDir, 'runs'))).toBe(false);
});

test('an exhausted quota (429 insufficient_quota) is fatal: exit 2 with a billing message, no run stored, no advice to lower the concurrency', async () => {
	const { cwd, promptDir } = await makeRegistry();
	expect((await cli(['commit', 'price-change'], cwd)).code).toBe(0);
	const quota = { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } };
	server.enqueue(...Array.from({ length: 20 }, () => ({ kind: 'status' as const, status: 429, body: quota })));
	const result = await cli(['test', 'price-change', '--concurrency', '1'], cwd, serverEnv(server));
	expect(result.code).toBe(2);
	expect(result.stderr).toMatch(/refused the account behind the key \(quota, billing or a deactivated key\/organisation\): check the plan and billing details/);
	expect(result.stderr).not.toMatch(/lower the concurrency/);
	expect(result.stderr).toContain('No run was stored.');
	expect(await exists(path.join(promptDir, 'runs'))).toBe(false);
	// One call and the SDK's retries for the first fixture, then the run stopped.
	expect(completions().length).toBeLessThanOrEqual(3);
});

test('an input too long for the model fails that fixture with the reason; the run goes on and is stored', async () => {
	const { cwd } = await makeRegistry();
	expect((await cli(['commit', 'price-change'], cwd)).code).toBe(0);
	const tooLong = { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } };
	server.enqueue({ kind: 'status', status: 400, body: tooLong });
	const result = await cli(['test', 'price-change', '--concurrency', '1', '--json'], cwd, serverEnv(server));
	expect(result.code).toBe(1);
	const summary = JSON.parse(result.stdout) as { total: number; failed: number };
	expect(summary.failed).toBeGreaterThanOrEqual(1);
	expect(summary.total).toBe(FIXTURES.length);
});

// Needs lib/providers/openai.ts to mark the missing key as `fatal`.
test('no API key is a configuration error: exit 2, no run stored', async () => {
	const { cwd, promptDir } = await makeRegistry();
	const env = serverEnv(server);
	delete (env as Record<string, string | undefined>).OPENAI_API_KEY;
	const result = await cli(['test', 'price-change'], cwd, env);
	expect(result.code).toBe(2);
	expect(result.stderr).toMatch(/^prompt-release: cannot test "price-change" with openai:gpt-4o-mini: no OpenAI API key for model "gpt-4o-mini"/m);
	expect(completions()).toHaveLength(0);
	expect(await exists(path.join(promptDir, 'runs'))).toBe(false);
});

// Needs lib/providers/errors.ts to mark ECONNREFUSED as `fatal`.
test('a refused connection is a configuration error: exit 2, no run stored', async () => {
	const { cwd, promptDir } = await makeRegistry();
	const closed = await new Promise<number>((resolve) => {
		const probe = net.createServer().listen(0, '127.0.0.1', () => {
			const { port } = probe.address() as net.AddressInfo;
			probe.close(() => resolve(port));
		});
	});
	const result = await cli(['test', 'price-change'], cwd, serverEnv(server, { OPENAI_BASE_URL: `http://127.0.0.1:${closed}/v1` }));
	expect(result.code).toBe(2);
	expect(result.stderr).toMatch(new RegExp(`^prompt-release: cannot test "price-change" with openai:gpt-4o-mini: could not connect to openai at http://127\\.0\\.0\\.1:${closed}/v1 \\(ECONNREFUSED\\)`, 'm'));
	expect(await exists(path.join(promptDir, 'runs'))).toBe(false);
});

test('--model naming the prompt\'s own model is no override: no warning, the content hash stays', async () => {
	const { cwd, promptDir } = await makeRegistry();
	const result = await cli(['test', 'price-change', '--model', 'openai:gpt-4o-mini', '--json'], cwd, serverEnv(server));
	expect(result.code).toBe(1); // `tricky` fails
	expect(result.stderr).not.toContain('model override');
	expect(result.stderr).not.toContain('release evidence');
	const [runFile] = await fs.readdir(path.join(promptDir, 'runs'));
	const run = await readJson<RunReport>(path.join(promptDir, 'runs', runFile));
	const draft = await new FileRegistryStore(path.dirname(promptDir)).readDraft('price-change');
	expect(run.contentHash).toBe(contentHash(draft));
	expect(run.model).toEqual({ provider: 'openai', name: 'gpt-4o-mini' });
});

test('--model anthropic:… goes through the Anthropic API with a recomputed hash', async () => {
	const { cwd, promptDir } = await makeRegistry();
	const result = await cli(['test', 'price-change', '--model', 'anthropic:claude-haiku-4-5', '--json'], cwd, serverEnv(server));
	expect(result.code).toBe(1);
	expect(JSON.parse(result.stdout)).toMatchObject({ total: 4, passed: 3, failed: 1 });
	expect(result.stderr).toContain('model override: anthropic:claude-haiku-4-5 instead of openai:gpt-4o-mini');
	expect(completions().every((r) => r.path === '/v1/messages')).toBe(true);
	const [runFile] = await fs.readdir(path.join(promptDir, 'runs'));
	const run = await readJson<RunReport>(path.join(promptDir, 'runs', runFile));
	const draft = await new FileRegistryStore(path.dirname(promptDir)).readDraft('price-change');
	expect(run.contentHash).toBe(contentHash({ ...draft, model: { ...draft.model, provider: 'anthropic', name: 'claude-haiku-4-5' } }));
	expect(run.contentHash).not.toBe(contentHash(draft));
});

test('zero fixtures and bad options exit 2 before any model call', async () => {
	const { cwd } = await makeRegistry({ fixtures: [] });
	const env = serverEnv(server);
	const [none, badModel, badVersion, badConcurrency] = await Promise.all([
		cli(['test', 'price-change'], cwd, env),
		cli(['test', 'price-change', '--model', 'mistral:large'], cwd, env),
		cli(['test', 'price-change', '--version', 'latest'], cwd, env),
		cli(['test', 'price-change', '--concurrency', '0'], cwd, env),
	]);
	expect(none.code).toBe(2);
	expect(none.stderr.trim()).toBe('prompt-release: no fixtures: add some under prompts/price-change/fixtures or import them ("prompt-release fixtures import price-change FILE.jsonl")');
	expect(badModel.code).toBe(2);
	expect(badModel.stderr).toContain('--model "mistral:large" is invalid: write provider:name');
	expect(badVersion.code).toBe(2);
	expect(badVersion.stderr).toContain('--version "latest" is invalid');
	expect(badConcurrency.code).toBe(2);
	expect(completions()).toHaveLength(0);
});
