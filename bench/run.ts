/**
 * `npm run bench`: the issue's table side by side in one run, as ratios against baselines measured in the
 * same run — never a timed assertion in tests. Prints one line per figure, then the table (markdown, as in
 * bench/RESULTS.md), then every figure as one JSON line.
 *
 * Parts (BENCH_ONLY=part,part…; default all, in this order):
 *   micro       parse/validate overhead, item concurrency, release cache (bench/micro.ts)
 *   postgres    PostgreSQL registry figures; skipped when PostgreSQL does not answer (bench/postgres.ts)
 *   overhead    raw openai-SDK loop vs this project, 200 ms and 0 ms latency (bench/throughput.ts)
 *   promptfoo   raw loop, `prompt-release test`, promptfoo eval as CLIs (bench/promptfoo.ts)
 *   rerun       second `prompt-release test` over unchanged inputs: the response cache (bench/rerun.ts)
 *   ratelimit   the server limited to 20 requests/s (bench/throughput.ts)
 *   rss         peak RSS of `prompt-release test` as fixtures grow (bench/throughput.ts), and of `report`
 *               over a stored run and baseline of 100,000 fixtures each (bench/report-rss.ts)
 *   corrections Record Correction from 8 processes (bench/throughput.ts)
 *   n8n         Extract Signal vs the Information Extractor in the real n8n host (bench/n8n-extract.ts)
 * `throughput` selects overhead, ratelimit, rss and corrections (the former BENCH_ONLY=throughput).
 *
 * Sizes: BENCH_SIZES (0 ms overhead, default "1000,10000"), BENCH_FIXTURES (200 ms overhead, promptfoo and
 * rerun, default 1000), BENCH_RSS_SIZES (default "1000,10000,100000"), BENCH_RSS_REPORT_SIZES (report, default
 * "100000"), BENCH_RSS_TIMEOUT_S (default 600),
 * BENCH_CORRECTION_SIZES (default "100,10000"), BENCH_N8N_ITEMS (default 200); BENCH_PROMPTFOO=off skips
 * promptfoo (see bench/promptfoo.ts for its other knobs).
 */
import { microFigures } from './micro';
import { n8nComparison } from './n8n-extract';
import { postgresFigures } from './postgres';
import { promptfooComparison } from './promptfoo';
import { rerunFigure } from './rerun';
import { reportRss } from './report-rss';
import { tableRows, type BenchFigures } from './table';
import { corrections, rateLimited, testOverhead, testRss } from './throughput';

const PARTS = ['micro', 'postgres', 'overhead', 'promptfoo', 'rerun', 'ratelimit', 'rss', 'corrections', 'n8n'] as const;
type Part = (typeof PARTS)[number];

/** The parts BENCH_ONLY selects (all when unset); throws naming the known parts on an unknown one. */
export function selectedParts(only = process.env.BENCH_ONLY): Set<Part> {
	if (!only?.trim()) return new Set(PARTS);
	const chosen = new Set<Part>();
	for (const raw of only.split(',').map((p) => p.trim()).filter(Boolean)) {
		if (raw === 'throughput') ['overhead', 'ratelimit', 'rss', 'corrections'].forEach((p) => chosen.add(p as Part));
		else if ((PARTS as readonly string[]).includes(raw)) chosen.add(raw as Part);
		else throw new Error(`BENCH_ONLY: unknown part "${raw}" (parts: ${PARTS.join(', ')}, throughput)`);
	}
	return chosen;
}

const sizes = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map(Number).filter((v) => v > 0);

async function main() {
	const parts = selectedParts();
	const started = Date.now();
	const figures: BenchFigures & Record<string, unknown> = {};
	const fixtures = Number(process.env.BENCH_FIXTURES ?? 1000);
	const step = async <T>(part: Part, run: () => Promise<T>): Promise<T | undefined> => {
		if (!parts.has(part)) return undefined;
		const t = Date.now();
		console.log(`— ${part} —`);
		const result = await run();
		console.log(`— ${part}: ${Math.round((Date.now() - t) / 1000)} s —`);
		return result;
	};

	figures.micro = await step('micro', microFigures);
	figures.postgres = await step('postgres', postgresFigures);
	figures.overhead = await step('overhead', async () => {
		const list = [await testOverhead(fixtures, 200)];
		for (const size of sizes('BENCH_SIZES', '1000,10000')) list.push(await testOverhead(size, 0));
		for (const o of list) console.log(`test overhead ${o.fixtures} fixtures, ${o.latencyMs} ms latency: ratio ${o.ratio} (raw SDK loop ${o.rawMs} ms, prompt-release ${o.projectMs} ms)`);
		return list;
	});
	figures.promptfoo = await step('promptfoo', async () => {
		const p = await promptfooComparison(fixtures, 200);
		console.log(`raw SDK loop ${p.rawMs} ms; prompt-release test ${p.promptRelease.wallMs} ms (${p.promptRelease.ratio}×, ${p.promptRelease.peakRssMb} MB, ${p.promptRelease.requests} requests)`);
		if (p.promptfoo) console.log(`promptfoo ${p.promptfoo.version}: ${p.promptfoo.wallMs} ms (${p.promptfoo.ratio}×, ${p.promptfoo.peakRssMb} MB, ${p.promptfoo.requests} requests, ${p.promptfoo.passed} passed)`);
		else console.log(`promptfoo skipped: ${p.skipped}`);
		return p;
	});
	figures.rerun = await step('rerun', async () => {
		const r = await rerunFigure(fixtures, 200);
		console.log(`rerun, ${r.fixtures} fixtures: first ${r.first.requests} requests in ${r.first.wallMs} ms; second ${r.second.requests} requests in ${r.second.wallMs} ms (${r.second.cached} cached)`);
		return r;
	});
	figures.rateLimit = await step('ratelimit', async () => {
		const l = await rateLimited();
		console.log(`rate limit ${l.limitPerSecond}/s: sustained ${l.sustainedPerSecond}/s (${(l.shareOfLimit * 100).toFixed(1)} % of the limit), ${l.rateLimited} of ${l.requests} requests answered 429 (${(l.share429 * 100).toFixed(2)} %), ${l.failed} failed`);
		return l;
	});
	figures.rss = await step('rss', async () => {
		const list = [];
		for (const size of sizes('BENCH_RSS_SIZES', '1000,10000,100000')) {
			const r = await testRss(size);
			console.log(`peak RSS of test, ${size} fixtures: ${r.maxRssMb} MB (${r.seconds} s, ${r.finished ? `exit ${r.exit}` : 'killed at the time limit'})`);
			list.push(r);
		}
		return list;
	});
	figures.reportRss = await step('rss', async () => {
		const list = [];
		for (const size of sizes('BENCH_RSS_REPORT_SIZES', '100000')) {
			const r = await reportRss(size);
			console.log(`peak RSS of report, run and baseline of ${size} fixtures: ${r.formats.map((f) => `${f.format} ${f.maxRssMb} MB (${f.seconds} s, ${f.outputMb} MB written, exit ${f.exit})`).join(', ')}`);
			list.push(r);
		}
		return list;
	});
	figures.corrections = await step('corrections', async () => {
		const list = [];
		for (const size of sizes('BENCH_CORRECTION_SIZES', '100,10000')) {
			const c = await corrections(size);
			console.log(`Record Correction, 8 processes × 125, ${size} fixtures: ${c.perSecond}/s, ${c.lost} lost, ${c.duplicated} duplicated`);
			list.push(c);
		}
		return list;
	});
	figures.n8n = await step('n8n', n8nComparison);

	console.log(`\nbench ${new Date().toISOString().slice(0, 10)}, ${Math.round((Date.now() - started) / 1000)} s, parts: ${[...parts].join(', ')}\n`);
	console.log(tableRows(figures).join('\n'));
	console.log(`\n${JSON.stringify(figures)}`);
}

if (require.main === module) {
	main().catch((error) => {
		console.error(error);
		process.exit(1);
	});
}
