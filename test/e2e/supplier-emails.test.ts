/**
 * The product end to end, in a REAL n8n 2.41.1 (Node 24, offline) with this package installed the way
 * n8n installs community packages, n8n's own openAiApi / anthropicApi credentials, and the project's
 * deterministic test model on loopback:
 *
 *   supplier emails → Extract Signal (5 released prompts) → invalid branch → Record Correction
 *   → `prompt-release test` now runs the new fixture.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

import { FileRegistryStore } from '../../lib/registry/file-store';
import { loadRules, startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { REPO_ROOT, createN8n, ensureN8nHost, type ExecuteResult, type N8nInstance } from './support/n8n';

const MINUTE = 60_000;
const { workflows, CREDENTIALS } = require(path.join(REPO_ROOT, 'scripts', 'build-example-workflows.js')) as {
	workflows: Record<string, { id: string; nodes: Array<Record<string, any>> }>;
	CREDENTIALS: Record<string, { id: string; name: string }>;
};
const emails = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'emails.json'), 'utf8')) as Array<{ id: string; supplier: string; subject: string; body: string }>;

type Json = Record<string, any>;

/** Items (json) of every output of a node in the last run, from `n8n execute --rawOutput`. */
function outputs(run: ExecuteResult, node: string): Json[][] {
	const runData = (run.output as any)?.data?.resultData?.runData;
	if (!runData?.[node]) throw new Error(`node "${node}" did not run; output: ${JSON.stringify(run.output)?.slice(0, 3000)}\n${run.logs.slice(-4000)}`);
	return (runData[node].at(-1).data.main as Array<Array<{ json: Json }> | null>).map((items) => (items ?? []).map((i) => i.json));
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'bin', 'prompt-release.js'), ...args], {
			env: { ...process.env, ...env },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

function writeJson(file: string, value: unknown): string {
	fs.writeFileSync(file, JSON.stringify(value, null, 2));
	return file;
}

describe('supplier emails in a real n8n', () => {
	let tmp: string;
	let registry: string;
	let server: ModelServer;
	let n8n: N8nInstance;

	beforeAll(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-e2e-'));
		registry = path.join(tmp, 'registry');
		fs.cpSync(path.join(REPO_ROOT, 'examples', 'registry'), registry, { recursive: true });
		// An Anthropic prompt, used from its draft (no release needed), to prove n8n's anthropicApi credential.
		const draft = parseYaml(fs.readFileSync(path.join(registry, 'price-change', 'prompt.yaml'), 'utf8'));
		fs.mkdirSync(path.join(registry, 'claude-price-change'));
		fs.writeFileSync(
			path.join(registry, 'claude-price-change', 'prompt.yaml'),
			JSON.stringify({ ...draft, id: 'claude-price-change', model: { provider: 'anthropic', name: 'test-model', temperature: 0, maxTokens: 50 } }),
		);
		const rules = loadRules(path.join(REPO_ROOT, 'examples', 'scripted-model.yaml'));
		rules.rules.unshift({ prompt: 'claude-price-change', when: 'price (increase|adjust|revision)', flags: 'i', value: true });
		server = await startModelServer({ rules });

		ensureN8nHost();
		n8n = await createN8n({ withPackage: true });
		await n8n.importCredentials(
			writeJson(path.join(tmp, 'credentials.json'), [
				{ ...CREDENTIALS.promptRegistryApi, type: 'promptRegistryApi', data: { registryPath: registry } },
				{ ...CREDENTIALS.openAiApi, type: 'openAiApi', data: { apiKey: 'sk-e2e-openai', url: server.openaiBaseUrl } },
				{ id: 'anthropicE2e0001', name: 'Anthropic (e2e)', type: 'anthropicApi', data: { apiKey: 'sk-ant-e2e', url: server.anthropicBaseUrl } },
			]),
		);
		for (const name of Object.keys(workflows)) await n8n.importWorkflow(path.join(REPO_ROOT, 'examples', 'workflows', name));
	}, 25 * MINUTE);

	afterAll(async () => {
		await n8n?.dispose();
		await server?.close();
		if (tmp && process.env.PROMPT_RELEASE_E2E_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
	});

	test('the committed example workflows are what scripts/build-example-workflows.js writes from examples/emails.json', () => {
		for (const [name, wf] of Object.entries(workflows)) {
			const committed = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'workflows', name), 'utf8'));
			expect(committed).toEqual(JSON.parse(JSON.stringify(wf)));
		}
	});

	test(
		'emails → Extract Signal → invalid branch → Record Correction → prompt-release test runs the new fixture',
		async () => {
			const run = await n8n.executeWorkflow(workflows['supplier-email-signals.json'].id);
			expect({ status: run.status, ok: run.ok }).toEqual({ status: 'success', ok: true });

			const [valid, invalid] = outputs(run, 'Extract Signal');
			// Nothing is dropped: every email leaves through exactly one output.
			expect(valid.length + invalid.length).toBe(emails.length);
			expect(invalid.map((i) => i.id)).toEqual(['acme-maintenance-delay-two-weeks']);

			const coil = valid.find((i) => i.id === 'acme-coil-price-increase')!;
			expect(coil).toMatchObject({ priceChange: true, newUnitPrice: 968.5, delayDays: 0, currency: 'EUR', effectiveDate: '2025-04-01' });
			expect(coil._signals.newUnitPrice).toMatchObject({ prompt: 'new-unit-price', version: 1, channel: 'production', model: 'gpt-4o-mini', provider: 'openai' });
			expect(coil._signals.newUnitPrice.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
			// The euro-sign trap: a valid but wrong answer stays valid (that is what corrections are for).
			expect(valid.find((i) => i.id === 'nordic-price-list-euro-sign')).toMatchObject({ currency: null });

			const [bad] = invalid;
			expect(bad._invalid).toHaveLength(1);
			expect(bad._invalid[0]).toMatchObject({ field: 'delayDays', prompt: 'delivery-delay-days', version: 1, rawOutput: 'two weeks' });
			expect(bad._invalid[0].reason).toMatch(/invalid model output after one repair attempt/);
			expect(bad).toMatchObject({ priceChange: false, newUnitPrice: null, currency: null });

			const [recorded] = outputs(run, 'Record Correction');
			expect(recorded).toHaveLength(1);
			expect(recorded[0].fixture).toMatchObject({ created: true, promptId: 'delivery-delay-days', expected: 14, segment: 'acme-metals' });

			// The fixture file as a user would read it in git.
			const file = path.join(registry, 'delivery-delay-days', 'fixtures', `${recorded[0].fixture.id}.yaml`);
			const fixture = parseYaml(fs.readFileSync(file, 'utf8'));
			expect(fixture).toMatchObject({
				id: recorded[0].fixture.id,
				expected: 14,
				segment: 'acme-metals',
				source: 'correction',
				inputs: { subject: emails.find((e) => e.id === 'acme-maintenance-delay-two-weeks')!.subject },
				recorded: { version: 1, modelOutput: 'two weeks' },
			});

			// The model calls went through n8n's own OpenAI credential: its key reached the server.
			const calls = server.requests.filter((r) => r.path.endsWith('/chat/completions'));
			expect(calls.length).toBeGreaterThanOrEqual(emails.length * 5);
			expect(calls.every((r) => r.headers.authorization === 'Bearer sk-e2e-openai')).toBe(true);

			// prompt-release test now includes the new fixture (and fails on it: the model still says "two weeks").
			const env = { OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: 'sk-e2e-cli' };
			const test = await cli(['--registry', registry, 'test', 'delivery-delay-days', '--json'], env);
			expect(test.code).toBe(1);
			const summary = JSON.parse(test.stdout);
			expect(summary).toMatchObject({ total: 11, passed: 10, failed: 1, regressions: [] });
			// Runs are stored as a summary plus one JSON line per result: read them back through the store.
			const stored = await new FileRegistryStore(registry).readRun('delivery-delay-days', summary.runId);
			expect(stored.results.find((r) => r.fixtureId === fixture.id)).toMatchObject({ passed: false, expected: 14, segment: 'acme-metals' });

			// Running the workflow again updates that one fixture instead of adding another.
			const again = await n8n.executeWorkflow(workflows['supplier-email-signals.json'].id);
			expect(again.ok).toBe(true);
			expect(outputs(again, 'Record Correction')[0][0].fixture).toMatchObject({ id: fixture.id, created: false });
			expect(fs.readdirSync(path.join(registry, 'delivery-delay-days', 'fixtures')).filter((f) => f.startsWith('correction-'))).toHaveLength(1);
		},
		10 * MINUTE,
	);

	test(
		'Run Prompt Release follows the production channel: release v2, then a rollback is one switch',
		async () => {
			const id = workflows['run-prompt-release.json'].id;
			const versionServed = async (): Promise<Json> => {
				const run = await n8n.executeWorkflow(id);
				expect({ status: run.status, ok: run.ok }).toEqual({ status: 'success', ok: true });
				return outputs(run, 'Run Prompt Release')[0][0];
			};
			const first = await versionServed();
			expect(first).toMatchObject({ value: 968.5, valid: true, prompt: 'new-unit-price', version: 1, channel: 'production', id: 'acme-coil-price-increase' });
			expect(first.trace).toMatchObject({ prompt: 'new-unit-price', version: 1, modelOutput: '{"value":968.5}' });

			// An edit of the draft becomes v2, is tested and released with the CLI, as an ops team would.
			const env = { OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: 'sk-e2e-cli', PROMPT_RELEASE_USER: 'e2e' };
			const draftFile = path.join(registry, 'new-unit-price', 'prompt.yaml');
			fs.writeFileSync(draftFile, fs.readFileSync(draftFile, 'utf8').replace(/^description: .*$/m, 'description: The new unit price (v2 wording)'));
			for (const args of [
				['commit', 'new-unit-price', '-m', 'v2 wording'],
				['test', 'new-unit-price', '--version', '2', '--json'],
				['release', 'new-unit-price', '--version', '2', '--reason', 'e2e'],
			]) {
				const r = await cli(['--registry', registry, ...args], env);
				expect({ args, code: r.code, errors: r.stderr.split('\n').filter((l) => l.startsWith('prompt-release:')) }).toEqual({ args, code: 0, errors: [] });
			}
			const second = await versionServed();
			expect(second).toMatchObject({ version: 2, channel: 'production', value: 968.5 });
			expect(second.contentHash).not.toBe(first.contentHash);

			const rollback = await cli(['--registry', registry, 'rollback', 'new-unit-price', '--reason', 'e2e rollback'], env);
			expect(rollback.code).toBe(0);
			expect(rollback.stdout).toMatch(/version 2 → 1/);
			const third = await versionServed();
			expect(third).toMatchObject({ version: 1, contentHash: first.contentHash });
		},
		8 * MINUTE,
	);

	test(
		'a provider answering 30 % 429 and 10 % 500, default settings: every email leaves through valid or invalid, none lost; failures are retryable items, not a failed node',
		async () => {
			const wf = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'workflows', 'supplier-email-signals.json'), 'utf8'));
			wf.id = 'faultyProvider001';
			wf.name = 'e2e faulty provider';
			wf.nodes = wf.nodes.filter((n: Json) => n.name !== 'Record Correction');
			delete wf.connections['Extract Signal'].main[1];
			await n8n.importWorkflow(writeJson(path.join(tmp, 'faulty.json'), wf));
			const signalsOf = (item: Json) => Object.fromEntries(['priceChange', 'newUnitPrice', 'delayDays', 'currency', 'effectiveDate'].filter((f) => f in item).map((f) => [f, item[f]]));

			const clean = await n8n.executeWorkflow(wf.id);
			expect(clean.ok).toBe(true);
			const [cleanValid] = outputs(clean, 'Extract Signal');
			const expected = new Map(cleanValid.map((i) => [i.id, signalsOf(i)]));

			server.setFaults({ rateLimitedNoRetryAfter: 0.3, serverError: 0.1, seed: 5 });
			let run: ExecuteResult;
			try {
				run = await n8n.executeWorkflow(wf.id);
			} finally {
				server.setFaults(undefined);
			}
			expect({ status: run.status, ok: run.ok }).toEqual({ status: 'success', ok: true });
			const [valid, invalid] = outputs(run, 'Extract Signal');
			expect([...valid, ...invalid].map((i) => i.id).sort()).toEqual(emails.map((e) => e.id).sort());
			// A valid item carries exactly the values a fault-free run gives.
			for (const item of valid) expect(signalsOf(item)).toEqual(expected.get(item.id));
			// An invalid item lists each failed signal once, with its reason; a provider failure is retryable.
			let retryable = 0;
			for (const item of invalid) {
				for (const entry of item._invalid as Json[]) {
					expect(typeof entry.reason).toBe('string');
					if (entry.retryable) {
						retryable++;
						expect(entry.reason).toMatch(/^provider error: (rate limited by openai|openai .* failed with a server error)/);
					} else {
						expect(entry).toMatchObject({ field: 'delayDays', rawOutput: 'two weeks' });
					}
					expect(item).not.toHaveProperty(entry.field);
				}
			}
			expect(retryable).toBeGreaterThan(0);
		},
		8 * MINUTE,
	);

	test(
		"n8n's own anthropicApi credential serves a prompt whose provider is anthropic",
		async () => {
			const wf = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'workflows', 'run-prompt-release.json'), 'utf8'));
			wf.id = 'anthropicE2eFlow';
			wf.name = 'e2e anthropic';
			const node = wf.nodes.find((n: Json) => n.type === 'n8n-nodes-prompt-release.runPromptRelease');
			node.parameters = { ...node.parameters, prompt: { __rl: true, mode: 'id', value: 'claude-price-change' }, release: 'draft' };
			node.credentials = { promptRegistryApi: CREDENTIALS.promptRegistryApi, anthropicApi: { id: 'anthropicE2e0001', name: 'Anthropic (e2e)' } };
			await n8n.importWorkflow(writeJson(path.join(tmp, 'anthropic.json'), wf));
			const before = server.requests.length;
			const run = await n8n.executeWorkflow(wf.id);
			expect(run.ok).toBe(true);
			const [[item]] = outputs(run, 'Run Prompt Release');
			expect(item).toMatchObject({ value: true, valid: true, prompt: 'claude-price-change', version: 'draft', provider: 'anthropic' });
			const calls = server.requests.slice(before).filter((r) => r.path.endsWith('/messages'));
			expect(calls).toHaveLength(1);
			expect(JSON.stringify(calls[0].headers)).toContain('sk-ant-e2e');
			expect(calls[0].body).toMatchObject({ tool_choice: { type: 'tool', name: 'claude-price-change' } });
		},
		5 * MINUTE,
	);
});
