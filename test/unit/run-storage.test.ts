/** Run format 2 (summary + JSON lines) round trip, old single-document runs, validate on both; plain progress off a terminal. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { startProgress } from '../../bin/shared/progress';
import { validateRegistry } from '../../lib/validate-registry';
import type { RunReport } from '../../lib/types';
import { makeSpec, tempRegistry } from './helpers';

function run(n: number): RunReport {
	const results = Array.from({ length: n }, (_, i) => ({ fixtureId: `f${i}`, segment: 'default', expected: true, actual: i % 2 === 0, passed: i % 2 === 0, valid: true, rawOutput: '{}', latencyMs: 1, inputTokens: 1, outputTokens: 1, costUsd: 0, repaired: false }));
	return {
		runId: `r${n}`,
		promptId: 'price-change',
		version: 'draft',
		contentHash: 'sha256:x',
		model: { provider: 'openai', name: 'm' },
		startedAt: '2026-01-01T00:00:00.000Z',
		finishedAt: '2026-01-01T00:00:01.000Z',
		summary: { total: n, passed: Math.ceil(n / 2), failed: Math.floor(n / 2), passRate: 0.5, segments: {}, regressions: [], latencyMs: { p50: 1, p95: 1 }, tokens: { input: n, output: n }, costUsd: 0, runId: `r${n}` },
		results,
	};
}

test('a run round-trips as summary + JSON lines; an old one-document run reads the same; validate accepts both', async () => {
	const { store, root } = await tempRegistry();
	await store.writeDraft(makeSpec());
	const report = run(1000);
	await store.writeRun(report);
	const dir = path.join(root, 'price-change', 'runs');
	expect((await fs.readdir(dir)).sort()).toEqual(['r1000.json', 'r1000.results.jsonl']);
	expect(await store.readRun('price-change', 'r1000')).toEqual(report);
	const ids: string[] = [];
	for await (const r of store.readRunResults('price-change', 'r1000')) ids.push(r.fixtureId);
	expect(ids).toEqual(report.results.map((r) => r.fixtureId));
	const { results: _r, ...header } = report;
	void _r;
	expect(await store.readRunHeader('price-change', 'r1000')).toEqual(header);
	await expect(store.writeRun(report)).rejects.toThrow(/already exists/);

	const old = run(3);
	await fs.writeFile(path.join(dir, 'r3.json'), JSON.stringify(old));
	expect(await store.readRun('price-change', 'r3')).toEqual(old);
	expect(await store.listRuns('price-change')).toEqual(['r1000', 'r3']);
	expect((await validateRegistry(store)).errors).toEqual([]);

	// A broken result line is named by file and line.
	await fs.appendFile(path.join(dir, 'r1000.results.jsonl'), '{"fixtureId": 1}\n');
	const problems = (await validateRegistry(store)).errors.map((e) => e.message).join('\n');
	expect(problems).toMatch(/r1000\.results\.jsonl:1001/);
});

test('progress off a terminal: nothing for short runs, plain lines with rate and ETA for long ones, nothing with --json', () => {
	const chunks: string[] = [];
	const stream = Object.assign(new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }), { isTTY: false }) as unknown as NodeJS.WriteStream;
	let t = 0;
	const quick = startProgress({ label: 'fixtures', total: 3, stream, now: () => t });
	quick.tick();
	quick.stop();
	expect(chunks).toEqual([]);
	const slow = startProgress({ label: 'fixtures', total: 10, stream, intervalMs: 1000, now: () => t });
	for (let i = 0; i < 10; i++) {
		t += 600;
		slow.tick();
	}
	slow.stop();
	expect(chunks.length).toBeGreaterThan(1);
	expect(chunks[0]).toMatch(/^progress: 2\/10 fixtures \(20%\), [\d.]+\/s, ETA \d+s\n$/);
	expect(chunks[chunks.length - 1]).toMatch(/^progress: 10\/10 fixtures \(100%\)/);
	expect(chunks.join('')).not.toContain('\u001b'); // no terminal escape codes
	chunks.length = 0;
	const json = startProgress({ label: 'fixtures', total: 10, stream, quiet: true });
	json.tick();
	json.stop();
	expect(chunks).toEqual([]);
});
