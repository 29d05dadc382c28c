/**
 * examples/ci/prompt-release-gate.yml: valid YAML, and a step that refuses a PR whose changed prompt has an
 * uncommitted draft (the gate checks committed versions only). The step's script runs here for real, with
 * `npx prompt-release` pointed at the built CLI.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cli, CLI, makeRegistry } from '../cli/helpers';

interface Step {
	name?: string;
	if?: string;
	run?: string;
	uses?: string;
}

const FILE = path.resolve(__dirname, '..', '..', 'examples', 'ci', 'prompt-release-gate.yml');

async function workflow(): Promise<{ jobs: { gate: { steps: Step[] } } }> {
	return parseYaml(await fs.readFile(FILE, 'utf8')) as { jobs: { gate: { steps: Step[] } } };
}

function bash(script: string, cwd: string): Promise<{ code: number | null; stdout: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn('bash', ['-e', '-c', script], { cwd, env: { ...process.env, PROMPT_RELEASE_REGISTRY: 'prompts', PROMPT_RELEASE_USER: 'ci' } });
		let stdout = '';
		child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
		child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout }));
	});
}

test('the workflow parses and refuses changed prompts whose draft is not committed, before testing and gating', async () => {
	const steps = (await workflow()).jobs.gate.steps;
	const names = steps.map((s) => s.name);
	const i = names.indexOf('Require committed drafts');
	expect(i).toBeGreaterThan(names.indexOf('Find changed prompts'));
	expect(i).toBeLessThan(names.indexOf('Test and gate each changed prompt'));
	const step = steps[i];
	expect(step.if).toBe("steps.changed.outputs.prompts != ''");
	expect(step.run).toContain('prompt-release status "$id" --json');
	expect(step.run).toContain('draftChanged');
});

test('the "Require committed drafts" script: fails on an edited draft with the fix, passes once committed', async () => {
	const step = (await workflow()).jobs.gate.steps.find((s) => s.name === 'Require committed drafts')!;
	const { cwd, promptDir } = await makeRegistry();
	const script = (ids: string): string =>
		`npx() { shift; node ${JSON.stringify(CLI)} "$@"; }\n${step.run!.replace(/\$\{\{ steps\.changed\.outputs\.prompts \}\}/g, ids)}`;

	// Never committed: left to the next step (it warns and tests the draft).
	expect((await bash(script('price-change'), cwd)).code).toBe(0);

	expect((await cli(['commit', 'price-change', '-m', 'first'], cwd, {})).code).toBe(0);
	expect((await bash(script('price-change'), cwd)).code).toBe(0);

	// The PR edits prompt.yaml only: refused, naming the fix.
	const draft = path.join(promptDir, 'prompt.yaml');
	await fs.writeFile(draft, (await fs.readFile(draft, 'utf8')).replace(/^description: .*$/m, 'description: edited in the PR'));
	const refused = await bash(script('price-change'), cwd);
	expect(refused.code).toBe(1);
	expect(refused.stdout).toContain(
		"::error file=prompts/price-change/prompt.yaml::prompts/price-change/prompt.yaml differs from its newest version (v1): this PR would be gated on v1, not on your edit. Run 'npx prompt-release commit price-change'",
	);

	expect((await cli(['commit', 'price-change', '-m', 'second'], cwd, {})).code).toBe(0);
	expect((await bash(script('price-change'), cwd)).code).toBe(0);
});
