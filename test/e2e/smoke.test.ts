/**
 * Proves the e2e infrastructure with a REAL n8n (pinned host, Node 24, offline):
 *  - the host installs/locates, imports a workflow and executes it from the CLI (Manual Trigger -> Set);
 *  - a package placed where n8n's community-package installer puts it
 *    (<N8N_USER_FOLDER>/.n8n/nodes/node_modules/n8n-nodes-*) loads at start, is named after the package,
 *    and require()s its own dependency (from its own node_modules) and n8n-workflow (from n8n's install);
 *  - the server helper starts n8n and waits for readiness;
 *  - when dist/ has our nodes, the packed package loads in n8n as n8n-nodes-prompt-release.<name> types,
 *    and the old developer-shortcut names (CUSTOM.<name>) are unknown to a real install.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { REPO_ROOT, createN8n, ensureN8nHost, installPackageFolder, nodeType, type N8nInstance } from './support/n8n';

const MINUTE = 60_000;

function writeJson(file: string, value: unknown): string {
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.writeFileSync(file, JSON.stringify(value, null, 2));
	return file;
}

/** Node names -> items' json of the last run, from `n8n execute --rawOutput` output. */
function runDataJson(output: unknown): Record<string, unknown[]> {
	const runData = (output as { data?: { resultData?: { runData?: Record<string, any[]> } } })?.data?.resultData?.runData;
	if (!runData) throw new Error(`no runData in output: ${JSON.stringify(output)?.slice(0, 2000)}`);
	const out: Record<string, unknown[]> = {};
	for (const [node, runs] of Object.entries(runData)) {
		out[node] = (runs.at(-1)?.data?.main?.[0] ?? []).map((i: { json: unknown }) => i.json);
	}
	return out;
}

function workflow(id: string, nodes: Array<{ name: string; type: string; typeVersion: number; parameters?: object }>) {
	const connections: Record<string, unknown> = {};
	nodes.forEach((n, i) => {
		if (i + 1 < nodes.length) connections[n.name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	});
	return {
		id,
		name: `e2e ${id}`,
		active: false,
		settings: { executionOrder: 'v1' },
		connections,
		nodes: nodes.map((n, i) => ({ id: `${id}-${i}`, position: [i * 220, 0], parameters: {}, ...n })),
	};
}

const manualTrigger = { name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1 };

describe('e2e infrastructure: a real n8n', () => {
	let tmp: string;
	const instances: N8nInstance[] = [];

	beforeAll(() => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-smoke-'));
		ensureN8nHost(); // installs into the cache on a fresh machine (minutes)
	}, 20 * MINUTE);

	afterAll(async () => {
		await Promise.all(instances.map(async (i) => await i.dispose()));
		if (tmp && process.env.PROMPT_RELEASE_E2E_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
	}, MINUTE);

	test(
		'imports and executes Manual Trigger -> Set with `n8n execute --id`',
		async () => {
			const n8n = await createN8n();
			instances.push(n8n);
			const file = writeJson(
				path.join(tmp, 'set.json'),
				workflow('smokeSetWorkflow1', [
					manualTrigger,
					{
						name: 'Set',
						type: 'n8n-nodes-base.set',
						typeVersion: 3.4,
						parameters: {
							mode: 'manual',
							assignments: {
								assignments: [
									{ id: 'a1', name: 'greeting', value: 'hello from n8n', type: 'string' },
									{ id: 'a2', name: 'answer', value: '={{ 6 * 7 }}', type: 'number' },
								],
							},
							options: {},
						},
					},
				]),
			);
			await n8n.importWorkflow(file);
			const run = await n8n.executeWorkflow('smokeSetWorkflow1');
			expect({ ok: run.ok, logs: run.ok ? '' : run.logs }).toEqual({ ok: true, logs: '' });
			expect(runDataJson(run.output).Set).toEqual([{ greeting: 'hello from n8n', answer: 42 }]);
		},
		5 * MINUTE,
	);

	test(
		'reports a failing workflow: status error, not ok, the node error in the output',
		async () => {
			const n8n = await createN8n();
			instances.push(n8n);
			const file = writeJson(
				path.join(tmp, 'fail.json'),
				workflow('smokeFailWorkflow1', [
					manualTrigger,
					{ name: 'Fail', type: 'n8n-nodes-base.stopAndError', typeVersion: 1, parameters: { errorMessage: 'smoke failure' } },
				]),
			);
			await n8n.importWorkflow(file);
			const run = await n8n.executeWorkflow('smokeFailWorkflow1');
			expect({ ok: run.ok, status: run.status, exited0: run.exitCode === 0 }).toEqual({ ok: false, status: 'error', exited0: false });
			expect(JSON.stringify(run.output)).toContain('smoke failure');
		},
		5 * MINUTE,
	);

	test(
		'loads a package from <user folder>/.n8n/nodes/node_modules, named after the package, with its own dependencies',
		async () => {
			// The layout n8n's community-package installer leaves, with a stand-in package.
			const pkg = path.join(tmp, 'n8n-nodes-probe');
			fs.mkdirSync(path.join(pkg, 'dist', 'nodes', 'Probe'), { recursive: true });
			fs.mkdirSync(path.join(pkg, 'node_modules', 'probe-dep'), { recursive: true });
			fs.writeFileSync(
				path.join(pkg, 'package.json'),
				JSON.stringify({ name: 'n8n-nodes-probe', version: '1.0.0', n8n: { n8nNodesApiVersion: 1, nodes: ['dist/nodes/Probe/Probe.node.js'] } }),
			);
			fs.writeFileSync(path.join(pkg, 'node_modules', 'probe-dep', 'package.json'), '{"name":"probe-dep","version":"1.2.3","main":"index.js"}');
			fs.writeFileSync(path.join(pkg, 'node_modules', 'probe-dep', 'index.js'), 'module.exports = { where: __filename };');
			fs.writeFileSync(
				path.join(pkg, 'dist', 'nodes', 'Probe', 'Probe.node.js'),
				`const { NodeConnectionTypes } = require('n8n-workflow');
const dep = require('probe-dep');
class Probe {
  constructor() {
    this.description = { displayName: 'Probe', name: 'probe', group: ['transform'], version: 1, description: 'e2e probe',
      defaults: { name: 'Probe' }, inputs: [NodeConnectionTypes.Main], outputs: [NodeConnectionTypes.Main], properties: [] };
  }
  async execute() {
    return [[{ json: { dep: dep.where, workflowFrom: require.resolve('n8n-workflow') } }]];
  }
}
module.exports = { Probe };
`,
			);
			const host = ensureN8nHost();
			const n8n = await createN8n();
			instances.push(n8n);
			const installed = installPackageFolder(n8n.userFolder, pkg);
			expect(installed).toBe(path.join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-probe'));
			const file = writeJson(path.join(tmp, 'probe.json'), workflow('smokeProbeWorkflow', [manualTrigger, { name: 'Probe', type: 'n8n-nodes-probe.probe', typeVersion: 1 }]));
			await n8n.importWorkflow(file);
			const run = await n8n.executeWorkflow('smokeProbeWorkflow');
			expect({ ok: run.ok, logs: run.ok ? '' : run.logs }).toEqual({ ok: true, logs: '' });
			const [probe] = runDataJson(run.output).Probe as Array<{ dep: string; workflowFrom: string }>;
			expect(probe.dep).toBe(path.join(fs.realpathSync(installed), 'node_modules', 'probe-dep', 'index.js'));
			expect(probe.workflowFrom.startsWith(host.hostDir + path.sep)).toBe(true);
		},
		5 * MINUTE,
	);

	test(
		'starts a server and waits for /healthz/readiness',
		async () => {
			const n8n = await createN8n();
			instances.push(n8n);
			const server = await n8n.startServer();
			try {
				const res = await fetch(`${server.url}/healthz/readiness`);
				expect(res.status).toBe(200);
			} finally {
				await server.stop();
			}
		},
		3 * MINUTE,
	);

	const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { n8n?: { nodes?: string[] } };
	const builtNodes = (pkg.n8n?.nodes ?? []).filter((f) => fs.existsSync(path.join(REPO_ROOT, f)));
	const nodesBuilt = builtNodes.length > 0 && builtNodes.length === (pkg.n8n?.nodes ?? []).length;

	(nodesBuilt ? test : test.skip)(
		'the packed package loads in n8n: every node in package.json is a known n8n-nodes-prompt-release.<name> type',
		async () => {
			// Node type names as n8n registers them: <package name>.<description.name>. Read from the repo's
			// dist/ (its n8n-workflow resolves from the repo's node_modules; the packed copy's does not
			// under jest's resolver).
			const types = builtNodes.map((f) => {
				const mod = require(path.join(REPO_ROOT, f)) as Record<string, new () => { description: any }>;
				const Cls = Object.values(mod).find((v) => typeof v === 'function')!;
				const d = new Cls().description;
				const version: number = d.defaultVersion ?? (Array.isArray(d.version) ? Math.max(...d.version) : (d.version ?? 1));
				return { name: d.name as string, version };
			});
			const n8n = await createN8n({ withPackage: true });
			instances.push(n8n);
			// A workflow with an unknown node type fails to execute with "Unrecognized node type";
			// a known type gets past loading. Probe each node type alone after a Manual Trigger.
			const unrecognized = async (id: string, type: string, version: number): Promise<boolean> => {
				const file = writeJson(path.join(tmp, `${id}.json`), workflow(id, [manualTrigger, { name: 'Node', type, typeVersion: version }]));
				await n8n.importWorkflow(file);
				const run = await n8n.executeWorkflow(id);
				return /Unrecognized node type|is not known/i.test(run.logs);
			};
			for (const { name, version } of types) {
				const id = `smokeLoad${name[0].toUpperCase()}${name.slice(1)}`.slice(0, 40);
				expect({ name, unrecognized: await unrecognized(id, nodeType(name), version) }).toEqual({ name, unrecognized: false });
			}
			// The names of the developer shortcut (N8N_CUSTOM_EXTENSIONS) do not exist on a real install.
			const [first] = types;
			expect(await unrecognized('smokeLoadCustomPrefix', `CUSTOM.${first.name}`, first.version)).toBe(true);
		},
		10 * MINUTE,
	);
});
