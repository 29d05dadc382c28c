/**
 * Consensus through the CLI, against the loopback model server speaking both the OpenAI and the Anthropic
 * API: `test` shows agreement per fixture and per segment (`--json` carries it), a disagreement fails its
 * fixture with "no consensus", `gate` refuses under `minAgreement` naming the fixture (output, JUnit), the
 * report shows agreement, and `--model` cannot replace the voters.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { RunSummary } from '../../lib/types';
import { cli, makeRegistry, promptYaml, serverEnv, write } from './helpers';

let server: ModelServer;
let cwd: string;
let promptDir: string;
let env: Record<string, string>;

beforeAll(async () => {
	server = await startModelServer({
		rules: {
			models: ['gpt-4o-mini', 'claude-haiku-4-5'],
			rules: [
				// Claude reads the negation right; gpt-4o-mini does not: they disagree on "tricky".
				{ prompt: 'price-change', model: 'claude-haiku-4-5', when: 'no price increase', value: false },
				{ prompt: 'price-change', when: 'price (increase|list)', value: true },
				{ prompt: 'price-change', value: false },
			],
		},
	});
	env = serverEnv(server);
	({ cwd, promptDir } = await makeRegistry());
	const consensus = 'consensus:\n  models:\n    - {provider: openai, name: gpt-4o-mini}\n    - {provider: anthropic, name: claude-haiku-4-5}\n  rule: all\n';
	await write(promptDir, 'prompt.yaml', promptYaml() + consensus);
	await write(promptDir, 'policy.yaml', 'minPassRate: 0.5\nminAgreement: 0.9\n');
});

afterAll(async () => {
	await server.close();
});

const run = (...args: string[]) => cli(args, cwd, env);

test('test, gate and report show agreement; a disagreement fails its fixture; minAgreement refuses naming it', async () => {
	expect((await run('commit', 'price-change', '-m', 'two models must agree')).code).toBe(0);
	const tested = await run('test', 'price-change', '--version', '1');
	expect(tested.code).toBe(1);
	expect(tested.stdout).toContain('consensus: 2 answers per fixture (openai:gpt-4o-mini, anthropic:claude-haiku-4-5), rule all');
	expect(tested.stdout).toMatch(/✗ tricky\s+logistics\s+no consensus \(rule all: 1 of 2 answers agree\): openai:gpt-4o-mini answered true; anthropic:claude-haiku-4-5 answered false .*\[agreement 1\/2\]/);
	expect(tested.stdout).toMatch(/✓ increase .*\[agreement 2\/2\]/);
	expect(tested.stdout).toContain('agreement: 3/4 fixtures reached consensus (75.0%); mean vote share 87.5%');
	expect(tested.stdout).toMatch(/agreement logistics\s+1\/2\s+50\.0%/);
	// Both APIs were called for every fixture.
	const paths = server.requests.filter((r) => r.method === 'POST').map((r) => r.path);
	expect(paths.filter((p) => p.endsWith('/chat/completions'))).toHaveLength(4);
	expect(paths.filter((p) => p.endsWith('/messages'))).toHaveLength(4);

	const json = JSON.parse((await run('test', 'price-change', '--version', '1', '--json', '--no-cache')).stdout) as RunSummary;
	expect(json.agreement).toMatchObject({ total: 4, agreed: 3, rate: 0.75, segments: { announcement: { total: 2, agreed: 2, rate: 1 }, logistics: { total: 2, agreed: 1, rate: 0.5 } } });

	const gate = await run('gate', 'price-change', '--version', '1', '--junit', 'gate.xml');
	expect(gate.code).toBe(1);
	expect(gate.stdout).toMatch(/✗ \[minAgreement\] run \S+: agreement 75% \(3 of 4 fixtures reached consensus\) — below minAgreement 90%; no consensus: tricky/);
	const xml = await fs.readFile(path.join(cwd, 'gate.xml'), 'utf8');
	expect(xml).toMatch(/<testcase name="minAgreement \(minAgreement 0.9\)" classname="policy">\s*<failure message="run \S+: agreement 75%/);

	const md = await run('report', 'price-change', '--format', 'md');
	expect(md.stdout).toContain('**Agreement (consensus) 75.0%** (3/4 fixtures)');
	expect(md.stdout).toContain('| Segment | Agreed | Agreement |');
	expect(md.stdout).toContain('(votes 1/2)');
	const html = await run('report', 'price-change', '--format', 'html');
	expect(html.stdout).toContain('aria-label="Agreement by segment"');
});

test('--model cannot replace the voters of consensus.models (exit 2)', async () => {
	const r = await run('test', 'price-change', '--version', '1', '--model', 'openai:gpt-4o');
	expect(r.code).toBe(2);
	expect(r.stderr).toContain('votes across consensus.models (openai:gpt-4o-mini, anthropic:claude-haiku-4-5)');
});
