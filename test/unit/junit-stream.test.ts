/** `test --junit` writes the same XML streamed from stored results as built from a whole run. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { junitXml, writeJunit } from '../../bin/shared/junit';
import { summarize } from '../../lib/runner';
import type { FixtureResult, RunReport } from '../../lib/types';

test('streamed JUnit equals the whole-run JUnit', async () => {
	const results = Array.from({ length: 5 }, (_, i): FixtureResult => ({ fixtureId: `f${i}`, segment: i % 2 ? 'a' : 'b', passed: i !== 3, expected: true, actual: i !== 3, valid: true, rawOutput: '<x & y>', latencyMs: 10 * i, inputTokens: 1, outputTokens: 1, costUsd: 0, repaired: false, ...(i === 3 ? { reason: 'expected true, got false' } : {}) }) as FixtureResult);
	const run: RunReport = { runId: 'r1', promptId: 'p', version: 1, contentHash: 'sha256:x', model: { provider: 'openai', name: 'm' }, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:02.000Z', results, summary: { ...summarize('r1', results), regressions: ['f3'] } };
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'junit-'));
	const file = path.join(dir, 'reports', 'out.xml'); // a folder that does not exist yet
	await writeJunit(file, run, (async function* () {
		yield* results;
	})());
	expect(await fs.readFile(file, 'utf8')).toBe(junitXml(run));
	expect(await fs.readdir(path.dirname(file))).toEqual(['out.xml']);
	await fs.rm(dir, { recursive: true, force: true });
});
