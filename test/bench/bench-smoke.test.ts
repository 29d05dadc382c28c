/**
 * `npm run bench` end to end on tiny sizes: every comparison part but the real n8n and PostgreSQL runs and
 * prints the side-by-side table and its JSON. promptfoo is skipped (BENCH_PROMPTFOO=off), so nothing is
 * installed. Checks counts and shapes only — never a time: speed targets live in the bench's own output.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('npm run bench (tiny sizes)', () => {
	it('runs the comparison parts and prints the table with request counts', () => {
		const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'run.js')], {
			encoding: 'utf8',
			timeout: 5 * 60_000,
			env: {
				...process.env,
				BENCH_ONLY: 'overhead,promptfoo,rerun,rss,corrections',
				BENCH_PROMPTFOO: 'off',
				BENCH_FIXTURES: '12',
				BENCH_SIZES: '12',
				BENCH_RSS_SIZES: '12',
				BENCH_RSS_REPORT_SIZES: '12',
				BENCH_CORRECTION_SIZES: '10',
			},
		});
		expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
		const lines = r.stdout.trim().split('\n');
		const figures = JSON.parse(lines[lines.length - 1]);
		expect(figures.overhead.map((o: { fixtures: number; latencyMs: number }) => [o.fixtures, o.latencyMs])).toEqual([
			[12, 200],
			[12, 0],
		]);
		expect(figures.promptfoo).toMatchObject({ fixtures: 12, skipped: 'BENCH_PROMPTFOO=off', promptRelease: { requests: 12, exit: 0 } });
		expect(figures.promptfoo.promptRelease.peakRssMb).toBeGreaterThan(0);
		// The second run over unchanged inputs answers everything from the response cache.
		expect(figures.rerun).toMatchObject({ first: { requests: 12, cached: 0, exit: 0 }, second: { requests: 0, cached: 12, exit: 0 } });
		expect(figures.rss).toMatchObject([{ fixtures: 12, finished: true, exit: 0 }]);
		expect(figures.reportRss).toMatchObject([{ fixtures: 12, formats: [{ format: 'md', exit: 0 }, { format: 'html', exit: 0 }, { format: 'json', exit: 0 }] }]);
		expect(figures.reportRss[0].formats.every((f: { maxRssMb: number; outputMb: number }) => f.maxRssMb > 0 && f.outputMb >= 0)).toBe(true);
		expect(figures.corrections).toMatchObject([{ fixtures: 10, lost: 0, duplicated: 0 }]);
		expect(figures.n8n).toBeUndefined();
		expect(r.stdout).toContain('| measure | target | measured |');
		expect(r.stdout).toMatch(/promptfoo skipped: BENCH_PROMPTFOO=off/);
		expect(r.stdout).toMatch(/\| same, default options \| .* \| not run \(part not selected\) \|/);
	});

	it('refuses an unknown part, naming the known ones', () => {
		const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'run.js')], { encoding: 'utf8', env: { ...process.env, BENCH_ONLY: 'overhead,nope' } });
		expect(r.status).toBe(1);
		expect(r.stderr).toMatch(/unknown part "nope" \(parts: micro, postgres, overhead, promptfoo, rerun, ratelimit, rss, corrections, n8n, throughput\)/);
	});
});
