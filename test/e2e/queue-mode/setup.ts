/**
 * Everything the queue-mode test stands on, in the shape README's "Deployment shapes" describes: a
 * registry folder (the git checkout; prompts `flag`, `corrected`, `canaried` built through the core) and
 * a PostgreSQL registry in a database of its own, filled with `prompt-release db migrate`, `publish` and
 * `release` as CI would; the deterministic loopback model; and a queue-mode n8n (main + 2 workers, its
 * own PostgreSQL database) whose three webhook workflows read the PostgreSQL registry.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FileRegistryStore } from '../../../lib/registry/file-store';
import { closePools } from '../../../lib/registry/postgres/pool';
import { parsePostgresUrl } from '../../../lib/registry/postgres/settings';
import { PostgresRegistryStore } from '../../../lib/registry/postgres/store';
import { startModelServer, type ModelServer } from '../../../lib/testing/model-server';
import { addPrompt, commitAndRelease, promptSpec } from '../../nodes/support/registry';
import { REPO_ROOT } from '../support/process';
import { createQueueModeN8n, type QueueModeN8n } from '../support/queue-mode';
import { PG_ADMIN_URL, createDatabase, dropDatabase } from '../support/services';
import { waitForWebhook } from './traffic';
import { correctionWorkflow, credentialsFile, signalWorkflow } from './workflows';

/** Cache TTL of the nodes in these workflows (seconds): how long a worker may serve what it read before. */
export const TTL_SECONDS = 2;
/** The canary freeze rule of `canaried`. */
export const FREEZE = { minItems: 30, maxInvalidRatePointsAbove: 10 };
export const WORKFLOWS = {
	signal: { id: 'queueSignalFlag1', path: 'queue-signal' },
	correction: { id: 'queueCorrection1', path: 'queue-correction' },
	canary: { id: 'queueCanary00001', path: 'queue-canary' },
};

/** Schema of the registry tables in the registry's database. */
const REGISTRY_SCHEMA = 'prompts';

export interface QueueSetup {
	tmp: string;
	/** The registry folder in git (the source `publish` reads and `pull` writes). */
	folder: string;
	/** The PostgreSQL registry every n8n process and the CLI use: postgres://…/<database>?schema=prompts */
	registryUrl: string;
	/** The PostgreSQL registry, read directly by the test. */
	store: PostgresRegistryStore;
	model: ModelServer;
	n8n: QueueModeN8n;
	/** `${main url}/webhook/<path>` */
	webhook(p: string): string;
	/** Executions the warm-up requests caused, per workflow id. */
	warmUps: Record<string, number>;
	dispose(): Promise<void>;
}

/** Runs the packaged CLI (dist/bin) with `--registry <registry>` (a folder or a URL), as an ops team would. */
export function cli(registry: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'bin', 'prompt-release.js'), '--registry', registry, ...args], {
			env: { ...process.env, PROMPT_RELEASE_USER: 'queue-e2e', ...env },
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

/** The registry folder: versions committed, tested (runs stored) and released through the core, a freeze rule for `canaried`. */
async function buildFolder(store: FileRegistryStore, registry: string, model: ModelServer): Promise<void> {
	// flag: v1 then v2 released to production (v2 serves; the test rolls back to v1).
	await addPrompt(store, promptSpec('flag', { template: 'v-one {{email_body}}' }), [{ id: 'any', inputs: { email_body: 'hello' }, expected: true, source: 'manual' }]);
	await commitAndRelease(store, model, 'flag');
	await store.writeDraft(promptSpec('flag', { template: 'v-two {{email_body}}' }));
	await commitAndRelease(store, model, 'flag');
	// corrected: an integer signal with one hand-written fixture; corrections add the others.
	await addPrompt(store, promptSpec('corrected', { template: 'count {{email_body}}', output: { type: 'integer', minimum: 0 } }), [
		{ id: 'manual-one', inputs: { email_body: 'manual case' }, expected: 3, source: 'manual' },
	]);
	await commitAndRelease(store, model, 'corrected');
	// canaried: v1 stable; the draft of v2 is committed, tested and canaried by the test with the CLI.
	await addPrompt(store, promptSpec('canaried', { template: 'stable {{email_body}}' }), [{ id: 'fixture-one', inputs: { email_body: 'fixture one' }, expected: true, source: 'manual' }]);
	await commitAndRelease(store, model, 'canaried');
	await store.writeDraft(promptSpec('canaried', { template: 'canary {{email_body}}' }));
	fs.writeFileSync(
		path.join(registry, 'canaried', 'policy.yaml'),
		`freeze:\n  minItems: ${FREEZE.minItems}\n  maxInvalidRatePointsAbove: ${FREEZE.maxInvalidRatePointsAbove}\n`,
	);
}

/** Migrates, publishes and releases the folder's prompts in the PostgreSQL registry with the CLI. */
async function publishAndRelease(folder: string, url: string): Promise<void> {
	for (const args of [
		['db', 'migrate', '--registry', url],
		['publish', folder, '--to', url],
		['release', 'flag', '--version', '1', '--reason', 'queue-mode e2e'],
		['release', 'flag', '--version', '2', '--reason', 'queue-mode e2e'],
		['release', 'corrected', '--version', '1', '--reason', 'queue-mode e2e'],
		['release', 'canaried', '--version', '1', '--reason', 'queue-mode e2e'],
	]) {
		const r = args[0] === 'release' ? await cli(url, args) : await cli(folder, args);
		if (r.code !== 0) throw new Error(`prompt-release ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
	}
}

/** The PostgreSQL registry credential fields (Storage: PostgreSQL) for a registry URL. */
function postgresCredential(url: string): Record<string, unknown> {
	const s = parsePostgresUrl(url);
	return { storage: 'postgres', host: s.host, port: s.port, database: s.database, user: s.user, password: s.password ?? '', ssl: 'disable', allowUnauthorizedCerts: false, schema: s.schema };
}

/** Builds the registries, starts the model and a queue-mode n8n with the workflows active and their webhooks registered. */
export async function setUpQueueMode(): Promise<QueueSetup> {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-queue-e2e-'));
	const folder = path.join(tmp, 'prompts');
	fs.mkdirSync(folder);
	let model: ModelServer | undefined;
	let n8n: QueueModeN8n | undefined;
	let registryDb: string | undefined;
	const dispose = async (): Promise<void> => {
		try {
			await n8n?.dispose();
		} finally {
			await model?.close();
			await closePools();
			if (registryDb) await dropDatabase(registryDb);
			if (process.env.PROMPT_RELEASE_E2E_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
		}
	};
	try {
		model = await startModelServer({
			rules: {
				models: ['test-model'],
				rules: [
					// The canary version answers live traffic with text that is no boolean: invalid on the canary arm.
					{ prompt: 'canaried', when: 'canary live', raw: 'no idea' },
					{ prompt: 'canaried', value: true },
					{ prompt: 'flag', value: true },
					{ prompt: 'corrected', value: 3 },
				],
			},
		});
		await buildFolder(new FileRegistryStore(folder), folder, model);
		registryDb = await createDatabase('registry_e2e');
		const url = new URL(PG_ADMIN_URL);
		url.pathname = `/${registryDb}`;
		url.search = `?schema=${REGISTRY_SCHEMA}`;
		const registryUrl = url.toString();
		await publishAndRelease(folder, registryUrl);
		const store = new PostgresRegistryStore(parsePostgresUrl(registryUrl));
		n8n = await createQueueModeN8n({ workers: 2, concurrency: 5 });
		const file = path.join(tmp, 'credentials.json');
		fs.writeFileSync(file, JSON.stringify(credentialsFile(postgresCredential(registryUrl), model.openaiBaseUrl)));
		await n8n.importCredentials(file);
		fs.rmSync(file);
		const workflows = [
			signalWorkflow(1, WORKFLOWS.signal.id, WORKFLOWS.signal.path, 'flag', TTL_SECONDS),
			correctionWorkflow(2, WORKFLOWS.correction.id, WORKFLOWS.correction.path, 'corrected'),
			signalWorkflow(3, WORKFLOWS.canary.id, WORKFLOWS.canary.path, 'canaried', TTL_SECONDS),
		];
		for (const wf of workflows) {
			const wfFile = path.join(tmp, `${wf.id}.json`);
			fs.writeFileSync(wfFile, JSON.stringify(wf));
			await n8n.importWorkflow(wfFile);
			await n8n.publishWorkflow(wf.id);
		}
		await n8n.start();
		const webhook = (p: string): string => `${n8n!.url}/webhook/${p}`;
		// One execution each: the signal workflows answer, the correction workflow refuses a value that is no integer.
		await waitForWebhook(webhook(WORKFLOWS.signal.path), { text: 'warm up', key: 'warm' });
		await waitForWebhook(webhook(WORKFLOWS.correction.path), { text: 'warm up', corrected: 'not a number' });
		await waitForWebhook(webhook(WORKFLOWS.canary.path), { text: 'warm up', key: 'warm' });
		const warmUps = { [WORKFLOWS.signal.id]: 1, [WORKFLOWS.correction.id]: 1, [WORKFLOWS.canary.id]: 1 };
		return { tmp, folder, registryUrl, store, model, n8n, webhook, warmUps, dispose };
	} catch (error) {
		await dispose().catch(() => undefined);
		throw error;
	}
}
