import { ProviderError } from '../../lib/errors';
import { findRegressions, fixtureInputsHash, newRunId, percentile, runFixtures, summarize } from '../../lib/runner';
import { streamFixtureRun } from '../../lib/streamed-run';
import type { Fixture, FixtureResult, RunReport } from '../../lib/types';
import type { Provider } from '../../lib/providers/types';
import { answering, fixture, makeSpec, resolvedOf, runReport, ScriptedProvider } from './helpers';

function result(fixtureId: string, passed: boolean, over: Partial<FixtureResult> = {}): FixtureResult {
	return {
		fixtureId,
		segment: 'default',
		passed,
		expected: true,
		actual: passed ? true : false,
		valid: true,
		rawOutput: null,
		latencyMs: 10,
		inputTokens: 1,
		outputTokens: 1,
		costUsd: 0,
		repaired: false,
		...over,
	};
}

describe('percentile (nearest rank)', () => {
	test('p50 and p95 of known lists', () => {
		const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
		expect(percentile(ten, 50)).toBe(5);
		expect(percentile(ten, 95)).toBe(10);
		const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
		expect(percentile(twenty, 50)).toBe(10);
		expect(percentile(twenty, 95)).toBe(19);
		expect(percentile([7], 50)).toBe(7);
		expect(percentile([7], 95)).toBe(7);
		expect(percentile([], 50)).toBe(0);
		expect(percentile([3, 1, 2], 0)).toBe(1);
		expect(percentile([3, 1, 2], 100)).toBe(3);
	});

	test('exact ranks are not pushed up by floating-point error', () => {
		const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
		for (const p of [7, 14, 28, 29, 57, 58]) expect(percentile(hundred, p)).toBe(p);
	});

	test('does not reorder its input', () => {
		const values = [3, 1, 2];
		percentile(values, 50);
		expect(values).toEqual([3, 1, 2]);
	});
});

describe('summarize / findRegressions', () => {
	test('counts, pass rates, per segment, tokens, cost', () => {
		const results = [
			result('a', true, { segment: 'de', latencyMs: 5, inputTokens: 10, outputTokens: 2, costUsd: 0.1 }),
			result('b', false, { segment: 'de', latencyMs: 50, inputTokens: 20, outputTokens: 4, costUsd: 0.2 }),
			result('c', true, { segment: 'en', latencyMs: 20, inputTokens: 30, outputTokens: 6, costUsd: 0.000000001 }),
		];
		const s = summarize('r1', results);
		expect(s).toEqual({
			total: 3,
			passed: 2,
			failed: 1,
			passRate: 0.6667,
			segments: {
				de: { total: 2, passed: 1, failed: 1, passRate: 0.5 },
				en: { total: 1, passed: 1, failed: 0, passRate: 1 },
			},
			regressions: [],
			latencyMs: { p50: 20, p95: 50 },
			tokens: { input: 60, output: 12 },
			costUsd: 0.3,
			runId: 'r1',
			cached: 0,
		});
	});

	test('an empty run', () => {
		expect(summarize('r', [])).toMatchObject({ total: 0, passed: 0, failed: 0, passRate: 0, segments: {}, latencyMs: { p50: 0, p95: 0 } });
	});

	test('regressions: passed in the baseline, failing now; new failures are not regressions', () => {
		const baseline = runReport({ runId: 'base', results: [
			{ fixtureId: 'a', passed: true, expected: true },
			{ fixtureId: 'b', passed: false, expected: true },
			{ fixtureId: 'c', passed: true, expected: true },
		] });
		const now = [result('a', false), result('b', false), result('c', true), result('d', false)];
		expect(findRegressions(now, baseline)).toEqual(['a']);
		expect(findRegressions(now, undefined)).toEqual([]);
		expect(summarize('r', now, baseline).regressions).toEqual(['a']);
	});
});

describe('runFixtures', () => {
	const spec = makeSpec({ output: { type: 'integer', nullable: true } });
	const resolved = resolvedOf(spec, 4);
	const days = (text: string) => {
		const m = /(\d+) days/.exec(text);
		return m ? Number(m[1]) : null;
	};

	test('a full report: pass, fail, invalid; order preserved; summary consistent', async () => {
		const fixtures = [
			fixture('f-pass', { subject: 's', body: 'delay of 14 days' }, 14, { segment: 'de' }),
			fixture('f-wrong', { subject: 's', body: 'delay of 3 days' }, 5),
			fixture('f-null', { subject: 's', body: 'no delay' }, null, { segment: 'de' }),
		];
		let clock = Date.parse('2026-03-01T12:00:00.000Z');
		const report = await runFixtures({ resolved, fixtures, provider: answering(days), now: () => new Date((clock += 1000)) });
		expect(report).toMatchObject({
			promptId: 'price-change',
			version: 4,
			contentHash: resolved.contentHash,
			model: { provider: 'openai', name: 'gpt-4o-mini' },
			startedAt: '2026-03-01T12:00:01.000Z',
			finishedAt: '2026-03-01T12:00:02.000Z',
		});
		expect(report.runId).toMatch(/^20260301T120001000Z-[0-9a-f]{6}$/);
		expect(report.summary.runId).toBe(report.runId);
		expect(report.baselineRunId).toBeUndefined();
		expect(report.results.map((r) => [r.fixtureId, r.passed, r.actual, r.segment])).toEqual([
			['f-pass', true, 14, 'de'],
			['f-wrong', false, 3, 'default'],
			['f-null', true, null, 'de'],
		]);
		expect(report.results[1].reason).toBe('expected 5, got 3');
		expect(report.results.map((r) => r.inputsHash)).toEqual(fixtures.map((f) => fixtureInputsHash(f)));
		expect(fixtureInputsHash({ inputs: { a: 1, b: 2 } })).toBe(fixtureInputsHash({ inputs: { b: 2, a: 1 } }));
		expect(fixtureInputsHash({ inputs: { a: 1 } })).not.toBe(fixtureInputsHash({ inputs: { a: 2 } }));
		expect(report.results[0].reason).toBeUndefined();
		expect(report.summary).toMatchObject({
			total: 3,
			passed: 2,
			failed: 1,
			segments: { de: { total: 2, passed: 2, failed: 0, passRate: 1 }, default: { total: 1, passed: 0, failed: 1, passRate: 0 } },
			tokens: { input: 30, output: 6 },
		});
	});

	test('an invalid answer is a failed, invalid fixture with the raw output', async () => {
		const provider = new ScriptedProvider(['fourteen']);
		const report = await runFixtures({ resolved, fixtures: [fixture('f', { subject: 's', body: 'b' }, 14)], provider });
		expect(report.results[0]).toMatchObject({ passed: false, valid: false, actual: null, rawOutput: 'fourteen', reason: expect.stringMatching(/after one repair attempt/) });
	});

	test('a provider error fails that fixture only, with the message; the run goes on', async () => {
		const provider = new ScriptedProvider([
			(req) => {
				if (req.messages[0].content.includes('boom')) throw new ProviderError('server error (HTTP 500)', 500);
				return '{"value": 1}';
			},
		]);
		const fixtures = [fixture('a', { subject: 's', body: 'ok' }, 1), fixture('b', { subject: 's', body: 'boom' }, 1), fixture('c', { subject: 's', body: 'ok' }, 1)];
		const report = await runFixtures({ resolved, fixtures, provider });
		expect(report.results.map((r) => r.passed)).toEqual([true, false, true]);
		expect(report.results[1]).toMatchObject({ valid: false, actual: null, rawOutput: null, reason: 'provider error: server error (HTTP 500)' });
		expect(report.summary.failed).toBe(1);
	});

	test('a fatal provider error (retrying cannot help) aborts the whole run: no report, later fixtures never start', async () => {
		const notFound = new ProviderError('model "nope" is not available at openai (http://x): check model.name (HTTP 404: not found)', 404, { fatal: true });
		expect(notFound.fatal).toBe(true);
		const provider = new ScriptedProvider([notFound], 'openai', { inputTokens: 10, outputTokens: 2 }, 5);
		const fixtures = Array.from({ length: 6 }, (_, i) => fixture(`f${i}`, { subject: 's', body: `${i} days` }, i));
		const seen: string[] = [];
		await expect(runFixtures({ resolved, fixtures, provider, concurrency: 2, onResult: (r) => seen.push(r.fixtureId) })).rejects.toBe(notFound);
		expect(provider.requests.length).toBeLessThanOrEqual(2); // only the calls already in flight
		expect(seen).toEqual([]);
	});

	test('fatal is set by assignment too; a 404 without it stays a per-fixture failure', async () => {
		const assigned = new ProviderError('no OpenAI API key for model "gpt-4o-mini": set OPENAI_API_KEY');
		assigned.fatal = true;
		await expect(runFixtures({ resolved, fixtures: [fixture('a', { subject: 's', body: 'b' }, 1)], provider: new ScriptedProvider([assigned]) })).rejects.toBe(assigned);
		for (const transient of [new ProviderError('rate limited (HTTP 429)', 429), new ProviderError('timed out'), new ProviderError('not found (HTTP 404)', 404, { fatal: false })]) {
			const report = await runFixtures({ resolved, fixtures: [fixture('a', { subject: 's', body: 'b' }, 1)], provider: new ScriptedProvider([transient]) });
			expect(report.results[0]).toMatchObject({ passed: false, reason: `provider error: ${transient.message}` });
		}
	});

	test('an expected object may leave out a nullable property: it is compared as null', async () => {
		const objSpec = makeSpec({ output: { type: 'object', properties: { price: { type: 'number' }, currency: { type: 'string', nullable: true } } } });
		const provider = new ScriptedProvider(['{"price": 3, "currency": null}']);
		const report = await runFixtures({ resolved: resolvedOf(objSpec), fixtures: [fixture('a', { subject: 's', body: 'b' }, { price: 3 }), fixture('b', { subject: 's', body: 'b' }, { price: 4 })], provider });
		expect(report.results.map((r) => r.passed)).toEqual([true, false]);
		expect(report.results[0].expected).toEqual({ price: 3 }); // stored as the fixture says
	});

	test('a fixture with a missing input fails as an input error without a model call', async () => {
		const provider = answering(() => 1);
		const report = await runFixtures({ resolved, fixtures: [fixture('a', { subject: 's' }, 1)], provider });
		expect(report.results[0]).toMatchObject({ passed: false, reason: expect.stringMatching(/^input error: .*"body" is missing/) });
		expect(provider.requests).toHaveLength(0);
	});

	test('unexpected errors are not swallowed', async () => {
		const provider = new ScriptedProvider([new RangeError('bug')]);
		await expect(runFixtures({ resolved, fixtures: [fixture('a', { subject: 's', body: 'b' }, 1)], provider })).rejects.toThrow(RangeError);
	});

	test('concurrency is bounded and results keep the fixtures order', async () => {
		const fixtures = Array.from({ length: 12 }, (_, i) => fixture(`f${String(i).padStart(2, '0')}`, { subject: 's', body: `${i} days` }, i));
		// Later fixtures answer faster, so completion order differs from fixture order.
		const provider = new ScriptedProvider([
			async (req) => {
				const n = days(req.messages[0].content)!;
				await new Promise((r) => setTimeout(r, 2 + (12 - n) * 2));
				return JSON.stringify({ value: n });
			},
		]);
		const seen: string[] = [];
		const report = await runFixtures({ resolved, fixtures, provider, concurrency: 3, onResult: (r) => seen.push(r.fixtureId) });
		expect(provider.maxInFlight).toBeLessThanOrEqual(3);
		expect(provider.maxInFlight).toBe(3);
		expect(report.results.map((r) => r.fixtureId)).toEqual(fixtures.map((f) => f.id));
		expect(report.summary.passed).toBe(12);
		expect(seen.sort()).toEqual(fixtures.map((f) => f.id));
	});

	test('a concurrency far above the fixture count (batch runs ask for 100,000) runs every fixture at once without a worker per unit of concurrency', async () => {
		const fixtures = Array.from({ length: 4 }, (_, i) => fixture(`f${i}`, { subject: 's', body: `${i} days` }, i));
		let pulls = 0;
		async function* stream(): AsyncGenerator<Fixture> {
			for (const f of fixtures) {
				await new Promise((r) => setTimeout(r, 1));
				yield f;
			}
		}
		const source = stream();
		const counted: AsyncIterable<Fixture> = {
			[Symbol.asyncIterator]: () => ({ next: () => ((pulls++), source.next()) }),
		};
		const provider = answering(days, 20);
		const startedAt = Date.now();
		const header = await streamFixtureRun({ resolved, fixtures: counted, provider, concurrency: 100_000, sink: () => undefined });
		expect(Date.now() - startedAt).toBeLessThan(2_000);
		expect(provider.maxInFlight).toBe(4);
		// Each fixture once, plus one "done" per worker: at most one worker more than there are fixtures.
		expect(pulls).toBeLessThanOrEqual(2 * fixtures.length + 1);
		expect(header.summary.passed).toBe(4);
	});

	test('concurrency below 1 runs one at a time', async () => {
		const provider = answering(() => 1, 2);
		const fixtures = Array.from({ length: 4 }, (_, i) => fixture(`f${i}`, { subject: 's', body: 'b' }, 1));
		await runFixtures({ resolved, fixtures, provider, concurrency: 0 });
		expect(provider.maxInFlight).toBe(1);
	});

	test('regressions against a baseline run are reported and the baseline is named', async () => {
		const baseline: RunReport = runReport({ runId: 'base-run', results: [
			{ fixtureId: 'a', passed: true, expected: 1 },
			{ fixtureId: 'b', passed: true, expected: 2 },
		] });
		const fixtures = [fixture('a', { subject: 's', body: '1 days' }, 1), fixture('b', { subject: 's', body: '3 days' }, 2)];
		const report = await runFixtures({ resolved, fixtures, provider: answering(days), baseline });
		expect(report.baselineRunId).toBe('base-run');
		expect(report.summary.regressions).toEqual(['b']);
	});

	test('pricing is applied per fixture and summed', async () => {
		const provider = new ScriptedProvider(['{"value": 1}'], 'openai', { inputTokens: 1_000_000, outputTokens: 0 });
		const fixtures = [fixture('a', { subject: 's', body: 'b' }, 1), fixture('b', { subject: 's', body: 'b' }, 1)];
		const report = await runFixtures({ resolved, fixtures, provider, pricing: { 'gpt-4o-mini': { input: 1.5, output: 0 } } });
		expect(report.results.map((r) => r.costUsd)).toEqual([1.5, 1.5]);
		expect(report.summary.costUsd).toBe(3);
	});

	test('each call is counted as what it was: a cached first answer with a fresh repair call is 1 of 2 cached; a cached batch answer was not sent', async () => {
		/** Marks the answers of the listed call numbers (1-based) as the response cache would, the others as sent through the batch API. */
		const marked = (cachedCalls: number[], steps: string[]): Provider => {
			const inner = new ScriptedProvider(steps);
			let n = 0;
			return {
				name: 'openai',
				complete: async (request) => {
					const response = await inner.complete(request);
					const cached = cachedCalls.includes(++n);
					return { ...response, batch: true, fetchedAt: cached ? '2026-01-01T00:00:00.000Z' : '2026-03-01T00:00:00.000Z', ...(cached ? { cached: true as const } : {}) };
				},
			};
		};
		const one = [fixture('a', { subject: 's', body: 'b' }, 1)];
		const pricing = { 'gpt-4o-mini': { input: 1, output: 0 } };
		const repaired = await runFixtures({ resolved, fixtures: one, provider: marked([1], ['not json', '{"value": 1}']), pricing });
		expect(repaired.results[0]).toMatchObject({ repaired: true, calls: 2, cachedCalls: 1, batchedCalls: 1, batch: true, fetchedAt: '2026-01-01T00:00:00.000Z' });
		expect(repaired.results[0].cached).toBeUndefined();
		expect(repaired.summary).toMatchObject({ cached: 0, batched: 1, calls: { total: 2, cached: 1, fresh: 1, batched: 1 } });

		const replayed = await runFixtures({ resolved, fixtures: one, provider: marked([1, 2], ['not json', '{"value": 1}']), pricing });
		expect(replayed.results[0]).toMatchObject({ calls: 2, cachedCalls: 2, cached: true });
		expect(replayed.results[0].batch).toBeUndefined();
		expect(replayed.results[0].batchedCalls).toBeUndefined();
		expect(replayed.summary).toMatchObject({ cached: 1, calls: { total: 2, cached: 2, fresh: 0, batched: 0 } });
		expect(replayed.summary.batched).toBeUndefined();
		// Priced as when fetched (through the batch API: half price), whether replayed or not.
		expect(replayed.results[0].costUsd).toBe(repaired.results[0].costUsd);

		const repeated = await runFixtures({ resolved, fixtures: one, repeat: 3, provider: marked([1], ['{"value": 1}']) });
		expect(repeated.results[0]).toMatchObject({ calls: 3, cachedCalls: 1, batchedCalls: 2 });
		expect(repeated.results[0].cached).toBeUndefined();
	});

	test('newRunId sorts by time', () => {
		const a = newRunId(new Date('2026-01-02T03:04:05.006Z'));
		const b = newRunId(new Date('2026-01-02T03:04:05.007Z'));
		expect(a).toMatch(/^20260102T030405006Z-[0-9a-f]{6}$/);
		expect([b, a].sort()).toEqual([a, b]);
	});
});
