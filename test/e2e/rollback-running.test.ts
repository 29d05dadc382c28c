/**
 * A rollback reaches a RUNNING workflow within the node's cache TTL, without restarting n8n:
 * a real `n8n start` serves an active Webhook → Run Prompt Release workflow (cache TTL 2 s), called
 * over loopback HTTP again and again while the channel is rolled back with the CLI.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { addPrompt, commitAndRelease, promptSpec } from '../nodes/support/registry';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { REPO_ROOT, createN8n, ensureN8nHost, type N8nInstance, type N8nServer } from './support/n8n';

const MINUTE = 60_000;
const TTL_SECONDS = 2;
/** Scheduling, HTTP and model round trips on a loaded machine. */
const MARGIN_MS = 4_000;
type Json = Record<string, any>;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'bin', 'prompt-release.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

const CREDENTIALS = {
	promptRegistryApi: { id: 'promptRegRollbk1', name: 'Prompt Registry (rollback e2e)' },
	openAiApi: { id: 'openAiRollback01', name: 'OpenAI (rollback e2e)' },
};
const WORKFLOW_ID = 'rollbackRunning1';
const WEBHOOK_PATH = 'prompt-release-rollback-e2e';

function workflow(): Json {
	return {
		id: WORKFLOW_ID,
		name: 'Rollback reaches a running workflow',
		active: true,
		settings: { executionOrder: 'v1' },
		connections: { Webhook: { main: [[{ node: 'Run Prompt Release', type: 'main', index: 0 }]] } },
		nodes: [
			{
				id: '5e0d7c0e-0000-4000-8000-000000000001',
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: '5e0d7c0e-0000-4000-8000-0000000000aa',
				parameters: { httpMethod: 'POST', path: WEBHOOK_PATH, responseMode: 'lastNode', options: {} },
			},
			{
				id: '5e0d7c0e-0000-4000-8000-000000000002',
				name: 'Run Prompt Release',
				type: 'n8n-nodes-prompt-release.runPromptRelease',
				typeVersion: 1,
				position: [240, 0],
				parameters: {
					prompt: { __rl: true, mode: 'id', value: 'rollme' },
					release: 'channel',
					channel: 'production',
					variables: { variable: [{ name: 'email_body', value: '={{ $json.body.text }}' }] },
					options: { cacheTtlSeconds: TTL_SECONDS, maxRetries: 0 },
				},
				credentials: { promptRegistryApi: CREDENTIALS.promptRegistryApi, openAiApi: CREDENTIALS.openAiApi },
			},
		],
	};
}

describe('rollback reaches a running workflow', () => {
	let tmp: string;
	let registry: string;
	let model: ModelServer;
	let n8n: N8nInstance;
	let server: N8nServer;

	beforeAll(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-rollback-e2e-'));
		registry = path.join(tmp, 'registry');
		fs.mkdirSync(registry);
		model = await startModelServer({ rules: { models: ['test-model'], rules: [{ prompt: 'rollme', value: true }] } });
		// rollme v1 and v2 (different templates), both released to production in turn: v2 serves.
		const store = new FileRegistryStore(registry);
		await addPrompt(store, promptSpec('rollme', { template: 'v-one {{email_body}}' }), [{ id: 'any', inputs: { email_body: 'hello' }, expected: true, source: 'manual' }]);
		await commitAndRelease(store, model, 'rollme');
		await store.writeDraft(promptSpec('rollme', { template: 'v-two {{email_body}}' }));
		await commitAndRelease(store, model, 'rollme');

		ensureN8nHost();
		n8n = await createN8n({ withPackage: true });
		const credentialsFile = path.join(tmp, 'credentials.json');
		fs.writeFileSync(
			credentialsFile,
			JSON.stringify([
				{ ...CREDENTIALS.promptRegistryApi, type: 'promptRegistryApi', data: { registryPath: registry } },
				{ ...CREDENTIALS.openAiApi, type: 'openAiApi', data: { apiKey: 'sk-e2e-rollback', url: model.openaiBaseUrl } },
			]),
		);
		await n8n.importCredentials(credentialsFile);
		const workflowFile = path.join(tmp, 'workflow.json');
		fs.writeFileSync(workflowFile, JSON.stringify(workflow()));
		await n8n.importWorkflow(workflowFile);
		// n8n 2.x: import leaves workflows inactive; publishing the current version makes `n8n start` activate it.
		const published = await n8n.run(['publish:workflow', `--id=${WORKFLOW_ID}`]);
		if (published.exitCode !== 0) throw new Error(`publish:workflow failed:\n${published.stdout}\n${published.stderr}`);
		server = await n8n.startServer();
	}, 25 * MINUTE);

	afterAll(async () => {
		await n8n?.dispose();
		await model?.close();
		if (tmp && process.env.PROMPT_RELEASE_E2E_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
	});

	test(
		'responses switch from v2 to v1 within the cache TTL while n8n keeps running',
		async () => {
			let calls = 0;
			const call = async (): Promise<Json> => {
				calls++;
				const res = await fetch(`${server.url}/webhook/${WEBHOOK_PATH}`, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ text: `order ${calls}` }),
					signal: AbortSignal.timeout(30_000),
				});
				const text = await res.text();
				if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${text.slice(0, 2000)}\n${server.logs().slice(-4000)}`);
				return JSON.parse(text) as Json;
			};

			// n8n activates published workflows shortly after it reports ready: wait (bounded) for the webhook.
			const activeBy = Date.now() + 90_000;
			for (;;) {
				const res = await fetch(`${server.url}/webhook/${WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"warm up"}' });
				await res.text();
				if (res.status !== 404) break;
				if (Date.now() > activeBy) throw new Error(`the workflow's webhook was never registered\n${server.logs().slice(-6000)}`);
				await new Promise((r) => setTimeout(r, 500));
			}

			// Warm: the running workflow serves v2 (and caches it).
			const before = await call();
			expect(before).toMatchObject({ valid: true, value: true, prompt: 'rollme', version: 2, channel: 'production', arm: 'stable' });
			expect((await call()).version).toBe(2);

			const rollback = await cli(['--registry', registry, 'rollback', 'rollme', '--reason', 'e2e: rollback while running'], { PROMPT_RELEASE_USER: 'e2e' });
			expect({ code: rollback.code, stderr: rollback.stderr }).toEqual({ code: 0, stderr: '' });
			const rolledBackAt = Date.now();

			// Bounded: keep calling until v1 answers, at most TTL + margin (+ one call).
			const seen: Array<{ ms: number; version: unknown }> = [];
			let switchedAfter: number | undefined;
			while (Date.now() - rolledBackAt < TTL_SECONDS * 1000 + MARGIN_MS) {
				const item = await call();
				const ms = Date.now() - rolledBackAt;
				seen.push({ ms, version: item.version });
				if (item.version === 1) {
					switchedAfter = ms;
					break;
				}
				expect(item.version).toBe(2);
				await new Promise((r) => setTimeout(r, 200));
			}
			expect({ switchedAfter: switchedAfter !== undefined, seen }).toMatchObject({ switchedAfter: true });
			expect(switchedAfter!).toBeLessThanOrEqual(TTL_SECONDS * 1000 + MARGIN_MS);

			// From then on: v1 only, same n8n process.
			for (let i = 0; i < 3; i++) expect(await call()).toMatchObject({ version: 1, valid: true });
			const sent = model.requests.filter((r) => r.method === 'POST').map((r) => JSON.stringify(r.body));
			expect(sent.at(-1)).toContain('v-one');
			expect(server.logs()).not.toMatch(/Error: .*rollme/);
		},
		5 * MINUTE,
	);
});
