/**
 * Fault suite through `prompt-release test` as a user runs it: 1,000 fixtures while the loopback provider answers
 * 30 % 429 (half with Retry-After), 10 % 5xx, 5 % reset connections and 1 % requests that never answer.
 * The stored run holds every fixture exactly once; no fixture passes with a wrong value; every failure says why;
 * the request count adds up exactly.
 */
import { FileRegistryStore } from '../../lib/registry/file-store';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { RunReport } from '../../lib/types';
import { cli, makeRegistry, RULES, serverEnv, type FixtureSpec } from '../cli/helpers';

let server: ModelServer;

beforeAll(async () => {
	server = await startModelServer({ rules: RULES });
});
afterAll(async () => server.close());

const BODIES: Array<[string, boolean]> = [
	['All items +4% from 1 March: a price increase.', true],
	['Please find our new price list attached.', true],
	['Your order ships on Thursday.', false],
	['Thanks for the visit last week.', false],
];

it('1,000 fixtures under provider faults: stored once each, 0 valid-but-wrong, every failure with its reason', async () => {
	const fixtures: FixtureSpec[] = Array.from({ length: 1000 }, (_, i) => ({
		id: `f${String(i).padStart(4, '0')}`,
		subject: `mail ${i}`,
		body: BODIES[i % BODIES.length][0],
		expected: BODIES[i % BODIES.length][1],
		segment: 'faults',
	}));
	const { cwd, registry } = await makeRegistry({ fixtures });
	server.setFaults({ rateLimited: 0.15, rateLimitedNoRetryAfter: 0.15, serverError: 0.1, reset: 0.05, hang: 0.01, retryAfterMs: 5, seed: 11 });
	const result = await cli(['test', 'price-change', '--concurrency', '64', '--timeout', '2000', '--max-retries', '2', '--json'], cwd, serverEnv(server));
	const faults = Object.values(server.faultCounts).reduce((a, b) => a + b, 0);
	server.setFaults(undefined);

	expect(result.code).toBe(1); // some fixtures failed on faults that outlived the retries
	const summary = JSON.parse(result.stdout) as { runId: string; total: number; passed: number; failed: number };
	expect(summary.total).toBe(1000);

	const store = new FileRegistryStore(registry);
	const run: RunReport = await store.readRun('price-change', summary.runId);
	// 0 lost, 0 duplicated.
	expect(run.results.map((r) => r.fixtureId).sort()).toEqual(fixtures.map((f) => f.id));
	// 0 valid-but-wrong: every valid answer is the expected one; every failure is a transient provider failure.
	const byId = new Map(fixtures.map((f) => [f.id, f]));
	for (const r of run.results) {
		if (r.valid) {
			expect(r.actual).toBe(byId.get(r.fixtureId)!.expected);
			expect(r.passed).toBe(true);
		} else {
			expect(r.passed).toBe(false);
			expect(r.retryable).toBe(true);
			expect(r.reason).toMatch(/^provider error: /);
		}
	}
	expect(run.summary.passed).toBe(run.results.filter((r) => r.valid).length);
	expect(run.summary.failed).toBeGreaterThan(0);
	expect(faults).toBeGreaterThan(400);
	expect(run.summary.passed).toBeGreaterThan(800);

	// Every request was an injected fault or an answered call recorded on exactly one fixture.
	const posts = server.requests.filter((r) => r.method === 'POST').length;
	expect(posts - faults).toBe(run.results.reduce((n, r) => n + (r.finishReasons?.length ?? 0), 0));
}, 240_000);
