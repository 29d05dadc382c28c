/**
 * Two-person approval through the CLI: policy `approvals: 1` holds `release` and `promote` until someone
 * other than the version's author ran `approve`; approvals are shown by `status`, `gate` (JUnit) and the
 * report, and stop counting when the version gets a newer run. The steps share one registry.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { ReleasesState } from '../../lib/types';
import { cli, FIXED_TEMPLATE, makeRegistry, promptYaml, RULES, serverEnv, write } from './helpers';

let server: ModelServer;
let cwd: string;
let promptDir: string;
let env: Record<string, string>;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
	env = serverEnv(server);
	({ cwd, promptDir } = await makeRegistry({ template: FIXED_TEMPLATE }));
	await write(promptDir, 'policy.yaml', 'approvals: 1\n');
});

afterAll(async () => {
	await server.close();
});

const as = (user: string, ...args: string[]) => cli(args, cwd, { ...env, PROMPT_RELEASE_USER: user });
const runIdOf = (stdout: string) => (JSON.parse(stdout) as { runId: string }).runId;

test('release waits for an approval by someone other than the author; a newer run needs a new approval', async () => {
	expect((await as('alice', 'commit', 'price-change', '-m', 'first')).code).toBe(0);
	const first = runIdOf((await as('alice', 'test', 'price-change', '--version', '1', '--json')).stdout);
	const refused = await as('alice', 'release', 'price-change', '--version', '1');
	expect(refused.code).toBe(1);
	expect(refused.stderr).toContain(`[approvals] version 1 has 0 of 1 approval(s) for run ${first} on "production"; the policy asks for 1 from people other than the author alice`);
	expect(refused.stderr).toContain('Ask a reviewer to run "prompt-release approve price-change --version 1"');

	const self = await as('alice', 'approve', 'price-change', '--version', '1');
	expect(self.code).toBe(2);
	expect(self.stderr).toContain('alice committed version 1 of "price-change" and cannot approve it');
	const selfSpelled = await as(' Alice', 'approve', 'price-change', '--version', '1');
	expect(selfSpelled.code).toBe(2);
	expect(selfSpelled.stderr).toContain(' Alice committed version 1 of "price-change" (as "alice") and cannot approve it');
	const blank = await as('  ', 'approve', 'price-change', '--version', '1');
	expect(blank.code).toBe(2);
	expect(blank.stderr).toContain("the approver's name is blank");

	const bob = await as('bob', 'approve', 'price-change', '--version', '1', '--reason', 'checked the quoted-thread fixtures');
	expect(bob.code).toBe(0);
	expect(bob.stdout).toBe(`approved price-change version 1 for production as bob (run ${first}) — 1 of 1 approval(s) for run ${first}: bob\n`);
	const shouted = await as('BOB', 'approve', 'price-change', '--version', '1');
	expect(shouted.stdout).toBe(`already approved: price-change version 1 for production — 1 of 1 approval(s) for run ${first}: bob\n`);
	const history = (parseYaml(await fs.readFile(path.join(promptDir, 'releases.yaml'), 'utf8')) as ReleasesState).history;
	expect(history).toEqual([expect.objectContaining({ action: 'approve', channel: 'production', version: 1, by: 'bob', reason: 'checked the quoted-thread fixtures', runId: first })]);
	expect((await as('bob', 'status', 'price-change')).stdout).toMatch(new RegExp(`approvals production v1: 1 of 1 for run ${first} — bob \\(.*: "checked the quoted-thread fixtures"\\)`));

	// A newer run of v1 is new evidence: bob's approval no longer counts.
	const second = runIdOf((await as('alice', 'test', 'price-change', '--version', '1', '--json')).stdout);
	const gate = await as('alice', 'gate', 'price-change', '--version', '1', '--junit', 'gate.xml');
	expect(gate.code).toBe(1);
	expect(gate.stdout).toContain(`bob's approval of run ${first} no longer counts: the evidence changed since (newest run ${second})`);
	expect(await fs.readFile(path.join(cwd, 'gate.xml'), 'utf8')).toMatch(/<testcase name="approvals \(approvals 1\)" classname="policy">\s*<failure/);
	expect((await as('bob', 'status', 'price-change')).stdout).toContain(`approvals production v1: 0 of 1 for run ${second} — none; stale (evidence changed since): bob (run ${first})`);

	expect((await as('carol', 'approve', 'price-change', '--version', '1')).code).toBe(0);
	const released = await as('alice', 'release', 'price-change', '--version', '1');
	expect(released.code).toBe(0);
	const report = await as('alice', 'report', 'price-change', second, '--format', 'md');
	expect(report.stdout).toMatch(/\*\*Approvals:\*\* carol for `production` \(/);
});

test('promote re-checks approvals: a canary whose version got a newer run waits for a new approval', async () => {
	await write(promptDir, 'prompt.yaml', promptYaml({ template: FIXED_TEMPLATE, instructions: 'Answer whether the email announces a price change we pay.' }));
	expect((await as('alice', 'commit', 'price-change', '-m', 'second')).code).toBe(0);
	await as('alice', 'test', 'price-change', '--version', '2', '--json');
	expect((await as('bob', 'approve', 'price-change', '--version', '2')).code).toBe(0);
	expect((await as('alice', 'release', 'price-change', '--version', '2', '--canary', '20')).code).toBe(0);
	await as('alice', 'test', 'price-change', '--version', '2', '--json');
	const promote = await as('alice', 'promote', 'price-change');
	expect(promote.code).toBe(1);
	expect(promote.stderr).toContain('[approvals] version 2 has 0 of 1 approval(s)');
	expect((await as('bob', 'approve', 'price-change', '--version', '2')).code).toBe(0);
	expect((await as('alice', 'promote', 'price-change')).code).toBe(0);
});
