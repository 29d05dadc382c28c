/**
 * `report` and `migrate --out` read stored runs one result at a time (lib/report/bundle.ts, loadBundle): the
 * report of a run is produced without ever reading a whole run, and its Markdown, HTML and JSON are exactly
 * what they were when the bundle was built from whole runs (golden files written by that implementation).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { contentHash } from '../../lib/hash';
import { bundleChunks, htmlChunks, jsonChunks, loadBundle, renderBundle, REPORT_FORMATS } from '../../lib/report';
import { toYaml } from '../../lib/yaml-io';
import type { RegistryStore } from '../../lib/registry/store';
import type { FixtureResult, PromptSpec } from '../../lib/types';
import { result, runOf, spec } from './helpers';

const GOLDEN = path.join(__dirname, 'golden');
const NOW = new Date('2026-11-22T12:00:00.000Z');
const PROMPT = 'price-change';
const RUN = '20261121T100000000Z-run002';
const BASE = '20261121T090000000Z-base01';

/** An object output with a boolean and an enum field: per-field rates and per-class metrics. */
function objectSpec(overrides: Partial<PromptSpec> = {}): PromptSpec {
	return spec({
		output: { type: 'object', properties: { changed: { type: 'boolean' }, kind: { type: 'string', enum: ['increase', 'decrease', 'none'] } } },
		...overrides,
	});
}

/**
 * Fixture ids whose code-unit order differs from their locale order, reasons with characters Markdown and
 * HTML escape, tags, votes, repeats, cached and batched answers, a fixture only the baseline has.
 */
function results(n: number, baseline: boolean): FixtureResult[] {
	const ids = ['B-2', 'a_1', 'a-1', 'A1', 'ä-umlaut', 'z|pipe', ...Array.from({ length: n }, (_, i) => `case-${String(i).padStart(5, '0')}`)];
	if (baseline) ids.push('only-in-baseline');
	return ids.map((id, i) => {
		const passed = baseline ? i % 4 !== 1 : i % 3 !== 1;
		const kind = ['increase', 'decrease', 'none'][i % 3];
		const expected = { changed: kind !== 'none', kind };
		const actual = passed ? expected : i % 5 === 0 ? null : { changed: kind === 'none', kind: ['none', 'increase', 'decrease'][i % 3] };
		return result(id, ['acme', 'logistics', 'Zeta'][i % 3], passed, {
			expected,
			actual,
			valid: actual !== null,
			...(passed ? {} : { reason: actual === null ? 'invalid model output: <b>"not JSON"</b> & | pipes' : `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}` }),
			fields: { changed: passed || (actual !== null && actual.changed === expected.changed), kind: passed },
			latencyMs: 90 + ((i * 7) % 40) + (baseline ? 0 : 15),
			costUsd: 0.0001 * (1 + (i % 3)),
			...(i % 4 === 0 ? { tags: ['hard', i % 8 === 0 ? 'quoted-thread' : 'short'] } : {}),
			...(i % 6 === 0 ? { consensus: { voters: 3, agreed: i % 12 === 0 ? 2 : 3, reached: true } } : i % 6 === 3 ? { consensus: { voters: 3, agreed: 1, reached: false } } : {}),
			...(!baseline && i % 2 === 0 ? { cached: true, fetchedAt: `2026-11-2${i % 3}T08:00:00.000Z` } : { fetchedAt: '2026-11-21T10:00:00.000Z' }),
			...(!baseline && i % 5 === 0 ? { batch: true } : {}),
			...(!baseline && i % 9 === 0 ? { attempts: 3, attemptsPassed: passed ? 3 : 2 } : {}),
		});
	});
}

/** A folder registry with versions 1 and 2 and the two runs (run 2 against baseline 1), approved on staging. */
async function registry(n: number): Promise<{ root: string; store: FileRegistryStore }> {
	const root = await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-streamed-report-'));
	const store = new FileRegistryStore(root);
	const v1 = objectSpec();
	const v2 = objectSpec({ instructions: 'You read supplier emails.\nDecide whether the email announces a change of unit price, and which.\nAnswer with JSON only.\n' });
	await fs.mkdir(path.join(root, PROMPT), { recursive: true });
	await fs.writeFile(path.join(root, PROMPT, 'prompt.yaml'), toYaml(v2));
	await store.createVersion(PROMPT, { version: 1, contentHash: contentHash(v1), createdAt: '2026-11-20T08:00:00.000Z', prompt: v1 });
	await store.createVersion(PROMPT, { version: 2, contentHash: contentHash(v2), createdAt: '2026-11-21T08:00:00.000Z', prompt: v2 });
	const baseline = runOf(BASE, results(n, true), { contentHash: contentHash(v1), repeat: 1 });
	const run = runOf(RUN, results(n, false), { version: 2, contentHash: contentHash(v2), repeat: 3, batchIds: ['batch_abc'] }, baseline);
	await store.writeRun(baseline);
	await store.writeRun(run);
	await store.updateReleases(PROMPT, (state) => ({
		...state,
		history: [...state.history, { at: '2026-11-21T11:00:00.000Z', action: 'approve', channel: 'staging', version: 2, by: 'reviewer <r@example.com>', reason: 'checked the <regressions> by hand', runId: RUN }],
	}));
	return { root, store };
}

/** The store with `readRun` refused: what reads whole runs cannot be used. */
function streamingOnly(store: RegistryStore): RegistryStore {
	return new Proxy(store, {
		get(target, key, receiver) {
			if (key === 'readRun') return () => Promise.reject(new Error('readRun called: the report must read runs one result at a time'));
			const value = Reflect.get(target, key, receiver) as unknown;
			return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
		},
	});
}

const created: string[] = [];
afterAll(() => Promise.all(created.map((d) => fs.rm(d, { recursive: true, force: true }))));

test.each(REPORT_FORMATS)('the %s report of a run with a baseline is exactly what it was, and never reads a whole run', async (format) => {
	const { root, store } = await registry(30);
	created.push(root);
	const text = renderBundle(await loadBundle(streamingOnly(store), PROMPT, RUN, NOW), format);
	const golden = path.join(GOLDEN, `report.${format}`);
	if (process.env.UPDATE_GOLDEN === '1') await fs.writeFile(golden, text);
	expect(text).toBe(await fs.readFile(golden, 'utf8'));
	// The newest run by default, and the same bundle for the older run on its own (no baseline).
	expect(renderBundle(await loadBundle(streamingOnly(store), PROMPT, undefined, NOW), format)).toBe(text);
	const older = renderBundle(await loadBundle(streamingOnly(store), PROMPT, BASE, NOW), format);
	const goldenOlder = path.join(GOLDEN, `report-no-baseline.${format}`);
	if (process.env.UPDATE_GOLDEN === '1') await fs.writeFile(goldenOlder, older);
	expect(older).toBe(await fs.readFile(goldenOlder, 'utf8'));
});

test('a baseline whose results cannot be read is a note, not a failure, as before', async () => {
	const { root, store } = await registry(3);
	created.push(root);
	await fs.appendFile(path.join(root, PROMPT, 'runs', `${BASE}.results.jsonl`), '{"broken": \n');
	const b = await loadBundle(streamingOnly(store), PROMPT, RUN, NOW);
	expect(b.baseline).toBeUndefined();
	expect(b.notes.join('\n')).toMatch(new RegExp(`baseline run ${BASE}: .*not valid JSON`));
	expect(b.fixes).toEqual([]);
	expect(b.passRate.overall.baselinePassRate).toBeUndefined();
});

test('a large run is reported through the streamed path (5,000 fixtures)', async () => {
	const { root, store } = await registry(5000);
	created.push(root);
	const b = await loadBundle(streamingOnly(store), PROMPT, RUN, NOW);
	expect(b.fixtures).toHaveLength(5006);
	expect(b.passRate.overall.total).toBe(5006);
	expect(b.regressions.length + b.fixes.length + b.stillFailing.length + b.fixtures.filter((f) => f.status === 'passing').length).toBe(5006);
	const md = renderBundle(b, 'md');
	expect(md.length).toBeLessThan(65_536);
	expect(md).toMatch(/…and \d+ more fixtures/);
});

test('the JSON written row by row is JSON.stringify of the bundle, empty lists and odd strings included', async () => {
	const { root, store } = await registry(40);
	created.push(root);
	const b = await loadBundle(store, PROMPT, RUN, NOW);
	b.notes.push('a note with \u0000 and "quotes" and \u2028');
	b.fixtures[0].reason = '\u0000 marker-like text: rows:fixtures';
	for (const bundle of [b, { ...b, regressions: [], fixes: [] }]) {
		expect([...jsonChunks(bundle)].join('')).toBe(`${JSON.stringify(bundle, null, 2)}\n`);
		expect([...htmlChunks(bundle)].join('')).toBe(renderBundle(bundle, 'html'));
	}
	expect([...bundleChunks(b, 'md')]).toEqual([renderBundle(b, 'md')]);
});
