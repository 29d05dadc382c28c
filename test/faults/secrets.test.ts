/**
 * Secrets never reach what the package writes: API keys set in the environment (CLI) and in n8n credentials (nodes),
 * with a provider that echoes the key it was sent in its error messages (as some servers and proxies do). After
 * test runs, JUnit, Markdown/HTML/JSON reports, node runs with errors and corrections, every file under the
 * registry and reports folder, every node output and error, and the CLI's captured output hold 0 copies of any key.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { connect, runWorkflow } from '../support/n8n-harness';
import { startModelServer, type Behaviour, type ModelServer } from '../../lib/testing/model-server';
import { cli, makeRegistry, RULES, type CliResult } from '../cli/helpers';
import { testRules } from '../nodes/support/model-rules';
import { supplierRegistry } from '../nodes/support/prompts';
import { CORRECT, EXTRACT, credentialTypes, emails, nodeTypes } from '../nodes/support/workflow';

const KEYS = {
	openaiEnv: 'sk-proj-ENVSECRET-0123456789abcdefghij',
	anthropicEnv: 'sk-ant-api03-ENVSECRET-klmnopqrstuvwxyz',
	openaiCredential: 'sk-proj-CREDSECRET-abcdefghij0123456789',
	anthropicCredential: 'sk-ant-api03-CREDSECRET-0123456789zyxw',
};

let server: ModelServer;
beforeAll(async () => {
	server = await startModelServer({ rules: { models: [...RULES.models, ...(testRules.models ?? [])], rules: [...RULES.rules, ...testRules.rules] } });
});
afterAll(async () => server.close());

/** An error body that echoes the key the server was sent, whole and as a masked prefix. */
function echo(status: number, key: string): Behaviour {
	return { kind: 'status', status, body: { error: { message: `Incorrect API key provided: ${key} (starts ${key.slice(0, 14)}…)`, type: 'server_error', param: null, code: null } } };
}

async function filesUnder(dir: string): Promise<string[]> {
	const out: string[] = [];
	for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) out.push(...(await filesUnder(full)));
		else out.push(full);
	}
	return out;
}

function leaks(text: string): string[] {
	return Object.values(KEYS).filter((key) => text.includes(key) || text.includes(key.slice(0, 14)));
}

it('no file, report, node output or log holds an API key', async () => {
	const captured: string[] = [];
	const keep = (r: CliResult) => {
		captured.push(r.stdout, r.stderr);
		return r;
	};
	// The CLI with keys in the environment; the server echoes them in 5xx bodies (transient: stored as reasons).
	const { cwd, registry } = await makeRegistry();
	const env = { OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: KEYS.openaiEnv, ANTHROPIC_BASE_URL: server.anthropicBaseUrl, ANTHROPIC_API_KEY: KEYS.anthropicEnv };
	expect(keep(await cli(['commit', 'price-change'], cwd, env)).code).toBe(0);
	server.enqueue(echo(500, KEYS.openaiEnv), echo(500, KEYS.openaiEnv));
	const run = keep(await cli(['test', 'price-change', '--concurrency', '1', '--max-retries', '1', '--junit', 'reports/junit.xml'], cwd, env));
	expect(run.code).toBe(1);
	expect(run.stdout).toMatch(/\[redacted API key]/);
	for (const format of ['md', 'html', 'json']) expect(keep(await cli(['report', 'price-change', '--out', `reports/report.${format}`], cwd, env)).code).toBe(0);
	keep(await cli(['test', 'price-change', '--model', 'anthropic:claude-haiku-4-5', '--concurrency', '1', '--max-retries', '0'], cwd, { ...env, ANTHROPIC_API_KEY: KEYS.anthropicEnv }));

	// The nodes with keys in n8n credentials: errors echoing the key, with continueOnFail, then a correction.
	const nodes = await supplierRegistry(server);
	try {
		server.reset();
		server.enqueue(echo(500, KEYS.openaiCredential), echo(401, KEYS.openaiCredential));
		const result = await runWorkflow({
			nodeTypes,
			nodes: [
				{
					name: 'Extract',
					type: EXTRACT,
					parameters: {
						signals: { signal: [{ field: 'priceChange', prompt: 'price-change', release: 'production' }] },
						variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
						options: { concurrency: 1, maxRetries: 0 },
					},
					onError: 'continueRegularOutput',
				},
				{ name: 'Correct', type: CORRECT, parameters: { source: 'extractSignal', correctedValue: 'true' } },
			],
			connections: connect(['Trigger', 'Extract'], ['Extract', 'Correct', 1]),
			credentials: {
				promptRegistryApi: { data: { registryPath: nodes.root } },
				openAiApi: { data: { apiKey: KEYS.openaiCredential, organizationId: '', url: server.openaiBaseUrl } },
				anthropicApi: { data: { apiKey: KEYS.anthropicCredential, url: server.anthropicBaseUrl } },
			},
			credentialTypes,
			triggerItems: [{ json: { body: emails.increase } }, { json: { body: emails.vague } }, { json: { body: emails.noChange } }],
		});
		expect(result.status).toBe('success');
		const [, invalid] = result.outputsOf('Extract');
		expect(invalid.length).toBe(2);
		expect(result.outputOf('Correct')).toHaveLength(2);
		captured.push(JSON.stringify(result.outputsOf('Extract')), JSON.stringify(result.outputsOf('Correct')));
		expect(captured.join('\n')).toContain('[redacted API key]');

		// The scan: every file written, every captured output.
		const files = [...(await filesUnder(registry)), ...(await filesUnder(path.join(cwd, 'reports'))), ...(await filesUnder(nodes.root))];
		expect(files.some((f) => f.endsWith('junit.xml'))).toBe(true);
		expect(files.some((f) => f.endsWith('report.html'))).toBe(true);
		expect(files.filter((f) => /fixtures[/\\]correction-/.test(f)).length).toBeGreaterThanOrEqual(1);
		const hits: string[] = [];
		for (const file of files) for (const key of leaks(await fs.readFile(file, 'utf8'))) hits.push(`${file}: ${key}`);
		for (const [i, text] of captured.entries()) for (const key of leaks(text)) hits.push(`captured output ${i}: ${key}`);
		expect(hits).toEqual([]);
	} finally {
		await nodes.cleanup();
	}
}, 120_000);
