/**
 * Interrupted runs leave nothing behind: a run stopped through its signal starts no further fixture and aborts
 * the calls in flight; a discarded writer removes its partial results, also while a write is under way, and
 * never a run whose commit finished; partial results files name their writer, so `validate` tells a run in
 * progress from one whose process is gone, reports the latter and `validate --fix` removes it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { exitCodeOf, interruptLine } from '../../bin/shared/interrupt';
import { RunInterrupted } from '../../lib/errors';
import { discardOpenRuns } from '../../lib/registry/open-runs';
import { hostTag } from '../../lib/registry/process-logs';
import { ABANDONED_PARTIAL_MS, listPartialRuns, partialFileName } from '../../lib/registry/run-files';
import { streamFixtureRun } from '../../lib/streamed-run';
import { validateRegistry } from '../../lib/validate-registry';
import type { Provider, ProviderRequest, ProviderResponse } from '../../lib/providers/types';
import type { Fixture, FixtureResult } from '../../lib/types';
import { fixture, makeSpec, resolvedOf, runReport, tempRegistry } from './helpers';

/** A process id no process has: above Linux's largest (4,194,304). */
const DEAD_PID = 4_194_305;

function result(i: number): FixtureResult {
	return runReport({ results: [{ fixtureId: `f${i}`, passed: true, expected: true, rawOutput: 'x'.repeat(400) }] }).results[0];
}

describe('streamFixtureRun with a signal', () => {
	test('aborting starts no further fixture, aborts the calls in flight and rejects with RunInterrupted', async () => {
		const controller = new AbortController();
		let calls = 0;
		let aborted = 0;
		const provider: Provider = {
			name: 'openai',
			complete: (request: ProviderRequest) =>
				new Promise<ProviderResponse>((resolve, reject) => {
					calls++;
					if (calls === 10) controller.abort('SIGINT');
					// Answers after 5 ms, unless the call is aborted first.
					const timer = setTimeout(() => resolve({ text: '{"value": true}', usage: { inputTokens: 1, outputTokens: 1 }, end: { reason: 'stop', providerReason: 'stop' } }), 5);
					request.signal?.addEventListener('abort', () => {
						clearTimeout(timer);
						aborted++;
						reject(new Error('aborted'));
					});
				}),
		};
		let pulled = 0;
		function* fixtures(): Generator<Fixture> {
			for (let i = 0; i < 10_000; i++) {
				pulled++;
				yield fixture(`f${i}`, { subject: 's', body: `b${i}` }, true);
			}
		}
		const sunk: FixtureResult[] = [];
		const run = streamFixtureRun({ resolved: resolvedOf(makeSpec()), fixtures: fixtures(), provider, concurrency: 4, signal: controller.signal, sink: (r) => void sunk.push(r) });
		await expect(run).rejects.toThrow(RunInterrupted);
		await expect(run).rejects.toMatchObject({ reason: 'SIGINT' });
		expect(calls).toBe(10); // the tenth call aborted the run: nothing was sent after it
		expect(pulled).toBeLessThanOrEqual(11);
		expect(aborted).toBeGreaterThan(0);
		expect(sunk.length).toBeLessThan(10);
	});

	test('a signal aborted before the run starts sends nothing', async () => {
		const controller = new AbortController();
		controller.abort('SIGTERM');
		let calls = 0;
		const provider: Provider = { name: 'openai', complete: async () => ((calls++), { text: '{"value": true}', usage: { inputTokens: 1, outputTokens: 1 }, end: { reason: 'stop', providerReason: 'stop' } }) };
		await expect(streamFixtureRun({ resolved: resolvedOf(makeSpec()), fixtures: [fixture('a', { subject: 's', body: 'b' }, true)], provider, signal: controller.signal, sink: () => undefined })).rejects.toMatchObject({ reason: 'SIGTERM' });
		expect(calls).toBe(0);
	});
});

describe('discarding a run being written', () => {
	test('removes the partial results file named after this process, and refuses further appends and the commit', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const runsDir = path.join(root, 'price-change', 'runs');
		const writer = await store.createRunWriter('price-change', 'r1');
		for (let i = 0; i < 1000; i++) await writer.append(result(i)); // more than one flush (256 KB)
		expect(await fs.readdir(runsDir)).toEqual([partialFileName('r1')]);
		expect(partialFileName('r1')).toBe(`.r1.results.jsonl.${hostTag()}-${process.pid}.partial`);
		expect(await writer.discard()).toBe(true);
		expect(await fs.readdir(runsDir)).toEqual([]);
		await expect(writer.append(result(1001))).rejects.toThrow(/run r1 of "price-change" was discarded \(interrupted\)/);
		await expect(writer.commit(runReport({ runId: 'r1', results: [] }))).rejects.toThrow(/was discarded/);
		expect(await fs.readdir(runsDir)).toEqual([]);
		expect(await store.listRuns('price-change')).toEqual([]);
	});

	test('while a flush is under way: waits for it, so no file is written after the removal', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const writer = await store.createRunWriter('price-change', 'r2');
		// The partial file is created slowly (a busy disk): a discard that did not wait would remove it before it exists.
		const open = fs.open;
		const slowOpen = jest.spyOn(fs, 'open').mockImplementation(async (...args: Parameters<typeof fs.open>) => {
			await new Promise((r) => setTimeout(r, 50));
			return open(...args);
		});
		// One result larger than a flush (256 KB): its append starts writing the partial file at once.
		const appending = writer.append({ ...result(0), rawOutput: 'x'.repeat(300 * 1024) });
		const discarding = writer.discard();
		await appending;
		expect(await discarding).toBe(true);
		slowOpen.mockRestore();
		expect(await fs.readdir(path.join(root, 'price-change', 'runs'))).toEqual([]);
		await expect(writer.append(result(1))).rejects.toThrow(/was discarded/);
	});

	test('a commit under way wins: the run stays stored and discard says so', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const writer = await store.createRunWriter('price-change', 'r3');
		const report = runReport({ runId: 'r3', results: Array.from({ length: 600 }, (_, i) => ({ fixtureId: `f${i}`, passed: true, expected: true })) });
		for (const r of report.results) await writer.append(r);
		const committing = writer.commit(report);
		expect(await writer.discard()).toBe(false);
		await committing;
		expect((await store.readRun('price-change', 'r3')).results).toHaveLength(600);
	});

	test('discardOpenRuns discards every run of the process not yet committed, and leaves committed ones', async () => {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const done = await store.createRunWriter('price-change', 'done');
		await done.append(result(0));
		await done.commit(runReport({ runId: 'done', results: [{ fixtureId: 'f0', passed: true, expected: true }] }));
		const open = [await store.createRunWriter('price-change', 'open-a'), await store.createRunWriter('price-change', 'open-b')];
		for (const w of open) for (let i = 0; i < 700; i++) await w.append(result(i));
		expect((await fs.readdir(path.join(root, 'price-change', 'runs'))).filter((f) => f.endsWith('.partial'))).toHaveLength(2);
		expect(await discardOpenRuns()).toEqual({ discarded: 2, errors: [] });
		expect((await fs.readdir(path.join(root, 'price-change', 'runs'))).sort()).toEqual(['done.json', 'done.results.jsonl']);
		expect(await discardOpenRuns()).toEqual({ discarded: 0, errors: [] });
	});
});

describe('partial results of runs that never finished', () => {
	async function partials() {
		const { store, root } = await tempRegistry();
		await store.writeDraft(makeSpec());
		const runsDir = path.join(root, 'price-change', 'runs');
		await fs.mkdir(runsDir, { recursive: true });
		const write = async (name: string, ageMs = 0) => {
			const file = path.join(runsDir, name);
			await fs.writeFile(file, '{"fixtureId":"a","passed":true}\n');
			const at = new Date(Date.now() - ageMs);
			await fs.utimes(file, at, at);
			return file;
		};
		const files = {
			deadHere: await write(partialFileName('dead-here', hostTag(), DEAD_PID)),
			aliveHere: await write(partialFileName('alive-here')),
			otherHostFresh: await write(partialFileName('other-fresh', 'another-host', 4242)),
			otherHostOld: await write(partialFileName('other-old', 'another-host', 4242), ABANDONED_PARTIAL_MS + 60_000),
			legacyFresh: await write('.legacy-fresh.results.jsonl.partial'),
			legacyOld: await write('.legacy-old.results.jsonl.partial', ABANDONED_PARTIAL_MS + 60_000),
			aliveButIdle: await write(partialFileName('alive-idle'), ABANDONED_PARTIAL_MS + 60_000),
		};
		return { store, runsDir, files };
	}

	test('abandoned: the writer on this host is gone, or nothing wrote to it for 7 days; else possibly in progress', async () => {
		const { runsDir } = await partials();
		const judged = Object.fromEntries((await listPartialRuns(runsDir)).map((p) => [p.runId, p.abandoned]));
		expect(judged).toEqual({
			'dead-here': `its writer, process ${DEAD_PID} on this host, is no longer running`,
			'alive-here': undefined,
			'other-fresh': undefined,
			'other-old': 'nothing has written to it for 7 days (written by process 4242 on host another-host)',
			'legacy-fresh': undefined,
			'legacy-old': 'nothing has written to it for 7 days',
			'alive-idle': `nothing has written to it for 7 days (written by process ${process.pid} on this host)`,
		});
	});

	test('validate names each abandoned one; validate --fix removes exactly those', async () => {
		const { store, runsDir, files } = await partials();
		const report = await validateRegistry(store);
		const messages = report.errors.map((e) => e.message);
		expect(messages).toHaveLength(4);
		const dead = messages.find((m) => m.includes('dead-here'))!;
		expect(dead).toContain(`${path.basename(files.deadHere)}: abandoned partial run dead-here: the results of a run that never finished (1 KB, last written `);
		expect(dead).toContain(`its writer, process ${DEAD_PID} on this host, is no longer running). No run reads it: run "prompt-release validate --fix" to remove it`);
		for (const id of ['other-old', 'legacy-old', 'alive-idle']) expect(messages.some((m) => m.includes(`abandoned partial run ${id}:`))).toBe(true);

		const fixed = await validateRegistry(store, { fix: true });
		expect(fixed.errors).toEqual([]);
		expect(fixed.removedPartialRuns).toEqual({ files: 4, bytes: 4 * 32 });
		expect((await fs.readdir(runsDir)).sort()).toEqual([files.aliveHere, files.otherHostFresh, files.legacyFresh].map((f) => path.basename(f)).sort());
		expect((await validateRegistry(store)).errors).toEqual([]);
	});
});

describe('the line the CLI prints on an interrupt', () => {
	test('one line per outcome; exit 130 for SIGINT, 143 for SIGTERM', () => {
		expect([exitCodeOf('SIGINT'), exitCodeOf('SIGTERM')]).toEqual([130, 143]);
		expect(interruptLine('SIGINT', { what: 'the run' }, { discarded: 1, errors: [] })).toBe('interrupted by SIGINT: the run stopped and nothing was stored.');
		expect(interruptLine('SIGTERM', { what: 'the run', batchIds: () => ['batch_1'] }, { discarded: 0, errors: [] })).toBe(
			'interrupted by SIGTERM: nothing was stored; the batch keeps running at the provider (batch batch_1) and its id is kept in the cache folder: run the same command again to resume it without paying twice.',
		);
		expect(interruptLine('SIGINT', { what: 'the run' }, { stored: 'run r1 (prompts/p/runs/r1.json)', discarded: 0, errors: [] })).toBe('interrupted by SIGINT after run r1 (prompts/p/runs/r1.json) was stored; the rest of the output was skipped.');
		expect(interruptLine('SIGINT', { what: 'the migration run' }, { discarded: 0, errors: [new Error('EACCES: permission denied')] })).toBe(
			'interrupted by SIGINT: the migration run stopped and no run was stored, but its partial results could not be removed (EACCES: permission denied): "prompt-release validate --fix" removes them.',
		);
	});
});
