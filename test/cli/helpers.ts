/**
 * Helpers for the CLI tests: the compiled CLI is spawned as a user would run it, in a fresh temporary
 * folder, with a clean environment (no real API keys, no registry variable).
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileRegistryStore } from '../../lib/registry/file-store';
import type { ModelServer } from '../../lib/testing/model-server';
import type { RunReport } from '../../lib/types';

export const CLI = path.resolve(__dirname, '..', '..', 'dist', 'bin', 'prompt-release.js');

export interface CliResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

const STRIPPED = /^(OPENAI_|ANTHROPIC_|PROMPT_RELEASE_)/;

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [k, v] of Object.entries(process.env)) if (!STRIPPED.test(k)) env[k] = v;
	// The response cache is off unless a test turns it on (PROMPT_RELEASE_CACHE: 'on'): tests count requests.
	return { ...env, PROMPT_RELEASE_USER: 'tester', NO_COLOR: '1', PROMPT_RELEASE_CACHE: 'off', ...extra };
}

/** Environment that points both SDKs at the loopback model server. */
export function serverEnv(server: ModelServer, extra: Record<string, string> = {}): Record<string, string> {
	return {
		OPENAI_BASE_URL: server.openaiBaseUrl,
		OPENAI_API_KEY: 'test-key',
		ANTHROPIC_BASE_URL: server.anthropicBaseUrl,
		ANTHROPIC_API_KEY: 'test-key',
		...extra,
	};
}

/** Run the CLI asynchronously (the model server lives in this process, so never spawnSync). */
export function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
		child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
		child.on('error', reject);
		child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
	});
}

export async function tempDir(): Promise<string> {
	return fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-cli-')));
}

export async function write(root: string, rel: string, text: string): Promise<string> {
	const file = path.join(root, rel);
	await fs.mkdir(path.dirname(file), { recursive: true });
	await fs.writeFile(file, text);
	return file;
}

export async function exists(p: string): Promise<boolean> {
	return fs.access(p).then(
		() => true,
		() => false,
	);
}

/** Every file below `dir`, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
	const out: string[] = [];
	const walk = async (d: string): Promise<void> => {
		for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
			const p = path.join(d, e.name);
			if (e.isDirectory()) await walk(p);
			else out.push(path.relative(dir, p));
		}
	};
	await walk(dir);
	return out.sort();
}

export const DEFAULT_TEMPLATE = 'Subject: {{subject}}\n\n{{body}}';

/** A `price-change` prompt like the one `init` writes, with a chosen template and model. */
export function promptYaml(options: { id?: string; template?: string; instructions?: string; model?: string } = {}): string {
	const template = options.template ?? DEFAULT_TEMPLATE;
	return [
		`id: ${options.id ?? 'price-change'}`,
		'description: Does a supplier email announce a price change?',
		'model:',
		'  provider: openai',
		`  name: ${options.model ?? 'gpt-4o-mini'}`,
		'  temperature: 0',
		'inputs:',
		'  subject: {type: string}',
		'  body: {type: string}',
		'instructions: |',
		`  ${options.instructions ?? 'Answer whether the email announces a change to the prices we pay.'}`,
		'template: |',
		...template.split('\n').map((l) => `  ${l}`),
		'output: {type: boolean}',
		'limitations: Sees the subject and body only.',
		'',
	].join('\n');
}

export interface FixtureSpec {
	id: string;
	subject: string;
	body?: string;
	expected: unknown;
	segment?: string;
}

export function fixtureYaml(f: FixtureSpec): string {
	const inputs: Record<string, string> = { subject: f.subject };
	if (f.body !== undefined) inputs.body = f.body;
	return `${JSON.stringify({ id: f.id, inputs, expected: f.expected, ...(f.segment ? { segment: f.segment } : {}), source: 'manual' }, null, 2)}\n`;
}

/**
 * Four fixtures. With RULES and the default template, `tricky` fails (the model takes the negated
 * "no price increase" for an announcement) and the other three pass.
 */
export const FIXTURES: FixtureSpec[] = [
	{ id: 'increase', subject: 'Price increase from March', body: 'All items +4% from 1 March.', expected: true, segment: 'announcement' },
	{ id: 'list', subject: 'Catalogue 2026', body: 'Please find our new price list attached.', expected: true, segment: 'announcement' },
	{ id: 'delay', subject: 'Delivery update', body: 'Your order ships on Thursday.', expected: false, segment: 'logistics' },
	{ id: 'tricky', subject: 'Re: your question', body: 'No price increase is planned this year.', expected: false, segment: 'logistics' },
];

/** The deterministic model: a template starting with "Careful" reads negations right. */
export const RULES = {
	models: ['gpt-4o-mini', 'claude-haiku-4-5'],
	rules: [
		{ prompt: 'price-change', when: '^Careful[\\s\\S]*no price increase', value: false },
		{ prompt: 'price-change', when: 'price (increase|list)', value: true },
		{ prompt: 'price-change', value: false },
	],
};

export const FIXED_TEMPLATE = `Careful: a negated mention is not a change.\n${DEFAULT_TEMPLATE}`;

/** A registry folder `prompts/` in a fresh temp dir with the price-change prompt and FIXTURES. */
export async function makeRegistry(options: { template?: string; fixtures?: FixtureSpec[] } = {}): Promise<{ cwd: string; registry: string; promptDir: string }> {
	const cwd = await tempDir();
	const registry = path.join(cwd, 'prompts');
	const promptDir = path.join(registry, 'price-change');
	await write(promptDir, 'prompt.yaml', promptYaml({ template: options.template }));
	for (const f of options.fixtures ?? FIXTURES) await write(promptDir, `fixtures/${f.id}.yaml`, fixtureYaml(f));
	return { cwd, registry, promptDir };
}

export async function readJson<T = unknown>(file: string): Promise<T> {
	return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}

/**
 * The runs stored for the prompt in `promptDir`, oldest first, read as the store reads them: the summary
 * document `runs/<id>.json` with its results from `runs/<id>.results.jsonl` (run format 2), or a run stored as
 * one document.
 */
export async function storedRuns(promptDir: string): Promise<RunReport[]> {
	const store = new FileRegistryStore(path.dirname(promptDir));
	const promptId = path.basename(promptDir);
	const ids = await store.listRuns(promptId);
	return Promise.all(ids.map((id) => store.readRun(promptId, id)));
}

/** The newest stored run of the prompt in `promptDir` (see `storedRuns`). */
export async function newestStoredRun(promptDir: string): Promise<RunReport> {
	const runs = await storedRuns(promptDir);
	if (!runs.length) throw new Error(`no runs stored in ${promptDir}`);
	return runs[runs.length - 1];
}
