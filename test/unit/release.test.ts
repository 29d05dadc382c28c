import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, GateRefusal } from '../../lib/errors';
import { commitDraft } from '../../lib/registry/commit';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { resolvePrompt } from '../../lib/registry/resolve';
import { baselineRun, channelStack, currentUser, evaluateGate, latestRunOf, releaseVersion, rollbackChannel } from '../../lib/release';
import { runFixtures } from '../../lib/runner';
import type { RunReport } from '../../lib/types';
import { answering, fixture, makeSpec, tempRegistry } from './helpers';

let clock = Date.parse('2026-04-01T00:00:00.000Z');
const tick = () => new Date((clock += 1000));

/** Answers true when the body mentions "price", except for words listed in `blind`. */
function model(blind: string[] = []) {
	return answering((text) => /price/i.test(text) && !blind.some((w) => text.includes(w)));
}

async function setup(): Promise<FileRegistryStore> {
	const { store } = await tempRegistry();
	await store.writeDraft(makeSpec());
	await commitDraft(store, 'price-change'); // v1
	await store.writeDraft(makeSpec({ description: 'v2' }));
	await commitDraft(store, 'price-change'); // v2
	await store.writeDraft(makeSpec({ description: 'v3' }));
	await commitDraft(store, 'price-change'); // v3
	await store.writeFixture('price-change', fixture('up', { subject: 's', body: 'price up' }, true));
	await store.writeFixture('price-change', fixture('none', { subject: 's', body: 'hello' }, false));
	await store.writeFixture('price-change', fixture('tariff', { subject: 's', body: 'new price list (tariff)' }, true, { segment: 'de' }));
	return store;
}

/** What `prompt-release test <id> --version N` does: run all fixtures, store the run. */
async function testVersion(store: FileRegistryStore, version: number, blind: string[] = []): Promise<RunReport> {
	const resolved = await resolvePrompt(store, 'price-change', { version });
	const fixtures = await store.listFixtures('price-change', resolved.spec);
	const report = await runFixtures({ resolved, fixtures, provider: model(blind), baseline: await baselineRun(store, 'price-change'), now: tick });
	await store.writeRun(report);
	return report;
}

async function refusal(p: Promise<unknown>): Promise<GateRefusal> {
	const outcome = await p.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(outcome).toBeInstanceOf(GateRefusal);
	return outcome as GateRefusal;
}

describe('release gate', () => {
	test('a prompt without fixtures is refused: nothing ships untested', async () => {
		const { store } = await tempRegistry();
		await store.writeDraft(makeSpec());
		await commitDraft(store, 'price-change');
		const resolved = await resolvePrompt(store, 'price-change', { version: 1 });
		await store.writeRun(await runFixtures({ resolved, fixtures: [], provider: model(), now: tick }));
		const err = await refusal(releaseVersion(store, 'price-change', 1, { by: 'ann' }));
		expect(err.message).toMatch(/has no fixtures: nothing ships untested/);
		expect(await store.readReleases('price-change')).toEqual({ channels: {}, history: [] });
	});

	test('a fixture whose inputs no longer fit the prompt is named as failing, not a crash', async () => {
		const store = await setup();
		await store.writeFixture('price-change', fixture('no-body', { subject: 's' }, false));
		const resolved = await resolvePrompt(store, 'price-change', { version: 1 });
		const fixtures = await store.listFixtures('price-change');
		await store.writeRun(await runFixtures({ resolved, fixtures, provider: model(), now: tick }));
		const err = await refusal(releaseVersion(store, 'price-change', 1, { by: 'ann' }));
		expect(err.failingFixtures).toEqual(['no-body']);
		expect(err.message).toMatch(/no-body \(input error: .*required variable "body" is missing/);
	});

	test('resolving a channel of an unknown prompt says "not found"', async () => {
		const store = await setup();
		await expect(resolvePrompt(store, 'no-such-prompt', { channel: 'production' })).rejects.toThrow(/prompt "no-such-prompt" not found in registry .*\(prompts: price-change\)/);
	});

	test('no stored run → refused, and nothing written', async () => {
		const store = await setup();
		const err = await refusal(releaseVersion(store, 'price-change', 1, { by: 'ann' }));
		expect(err.message).toMatch(/no stored test run of version 1 \(sha256:[0-9a-f]+\): run "prompt-release test price-change --version 1" first/);
		expect(err.failingFixtures).toEqual([]);
		expect(await store.readReleases('price-change')).toEqual({ channels: {}, history: [] });
	});

	test('a run of another version does not count', async () => {
		const store = await setup();
		await testVersion(store, 2);
		await refusal(releaseVersion(store, 'price-change', 1));
	});

	test('failing fixtures are named with their reason', async () => {
		const store = await setup();
		await testVersion(store, 1, ['tariff']);
		const err = await refusal(releaseVersion(store, 'price-change', 1));
		expect(err.failingFixtures).toEqual(['tariff']);
		expect(err.message).toMatch(/failed 1 of 3 fixtures: tariff \(expected true, got false\)/);
	});

	test('a passing run releases, recording who, when, why, run and hash', async () => {
		const store = await setup();
		const run = await testVersion(store, 1);
		const out = await releaseVersion(store, 'price-change', 1, { by: 'ann', reason: 'first release', now: new Date('2026-05-01T09:00:00Z') });
		expect(out.unchanged).toBe(false);
		expect(out.run?.runId).toBe(run.runId);
		const entry = { at: '2026-05-01T09:00:00.000Z', action: 'release', channel: 'production', version: 1, by: 'ann', reason: 'first release', runId: run.runId, contentHash: run.contentHash };
		expect(out.entry).toEqual(entry);
		expect(await store.readReleases('price-change')).toEqual({
			channels: { production: { version: 1, contentHash: run.contentHash, since: '2026-05-01T09:00:00.000Z', runId: run.runId } },
			history: [entry],
		});
		expect((await resolvePrompt(store, 'price-change')).version).toBe(1);
	});

	test('a fixture added after the run makes the run stale', async () => {
		const store = await setup();
		await testVersion(store, 1);
		await store.writeFixture('price-change', fixture('late', { subject: 's', body: 'price' }, true));
		const err = await refusal(releaseVersion(store, 'price-change', 1));
		expect(err.message).toMatch(/out of date: fixtures added or changed since: late/);
		// Not run, so not failing: the evidence rule names it.
		expect(err.failingFixtures).toEqual([]);
	});

	test('a fixture whose expected value changed after the run makes the run stale', async () => {
		const store = await setup();
		await testVersion(store, 1);
		await store.writeFixture('price-change', fixture('none', { subject: 's', body: 'hello' }, true));
		const err = await refusal(releaseVersion(store, 'price-change', 1));
		expect(err.message).toMatch(/fixtures added or changed since: none/);
	});

	test('a fixture whose inputs changed after the run makes the run stale', async () => {
		const store = await setup();
		await testVersion(store, 1);
		await store.writeFixture('price-change', fixture('none', { subject: 's', body: 'hello again' }, false));
		const err = await refusal(releaseVersion(store, 'price-change', 1));
		expect(err.message).toMatch(/fixtures added or changed since: none/);
		// It passed with its old inputs: out of date, not failing.
		expect(err.failingFixtures).toEqual([]);
	});

	test('runs stored before inputs were recorded are judged by expected values only', async () => {
		const store = await setup();
		const run = await testVersion(store, 1);
		const { promises: fs } = await import('node:fs');
		const file = `${store.root}/price-change/runs/${run.runId}.json`;
		// Stored the old way too: one document with the results inline (run format 1).
		const old: RunReport = await store.readRun('price-change', run.runId);
		for (const r of old.results) delete (r as { inputsHash?: string }).inputsHash;
		await fs.rm(`${store.root}/price-change/runs/${run.runId}.results.jsonl`);
		await fs.writeFile(file, JSON.stringify(old));
		expect((await evaluateGate(store, 'price-change', 1)).ok).toBe(true);
	});

	test('a fixture deleted after the run no longer blocks (its failure is ignored)', async () => {
		const store = await setup();
		await testVersion(store, 1, ['tariff']);
		const { promises: fs } = await import('node:fs');
		await fs.rm(`${store.root}/price-change/fixtures/tariff.yaml`);
		await expect(releaseVersion(store, 'price-change', 1, { by: 'x' })).resolves.toMatchObject({ unchanged: false });
	});

	test('the newest run of the version decides', async () => {
		const store = await setup();
		await testVersion(store, 1, ['tariff']);
		await testVersion(store, 1);
		expect((await evaluateGate(store, 'price-change', 1)).ok).toBe(true);
		await testVersion(store, 1, ['up']);
		const verdict = await evaluateGate(store, 'price-change', 1);
		expect(verdict.ok).toBe(false);
		expect(verdict.failingFixtures).toEqual(['up']);
	});

	test('a regression against the production baseline is named', async () => {
		const store = await setup();
		const base = await testVersion(store, 1);
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		const run2 = await testVersion(store, 2, ['up']);
		expect(run2.baselineRunId).toBe(base.runId);
		expect(run2.summary.regressions).toEqual(['up']);
		const err = await refusal(releaseVersion(store, 'price-change', 2));
		expect(err.message).toContain(`regressions against the run behind "production" (${base.runId}): up`);
		expect(err.failingFixtures).toEqual(['up']);
		// staging has no baseline: only the failure is reported
		const staging = await evaluateGate(store, 'price-change', 2, 'staging');
		expect(staging.reasons.join('\n')).not.toMatch(/regressions/);
	});

	test('a production run that is missing or unreadable stops test and release with the file named, never skipping regressions', async () => {
		const store = await setup();
		const base = await testVersion(store, 1);
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		const resolved = await resolvePrompt(store, 'price-change', { version: 2 });
		await store.writeRun(await runFixtures({ resolved, fixtures: await store.listFixtures('price-change'), provider: model(['up']), now: tick }));
		const file = path.join(store.root, 'price-change', 'runs', `${base.runId}.json`);
		const saved = await fs.readFile(file, 'utf8');
		const expectError = async (p: Promise<unknown>) => {
			const error = await p.then(() => undefined, (e: unknown) => e);
			expect(error).toBeInstanceOf(ConfigError);
			expect((error as ConfigError).location.file).toMatch(new RegExp(`price-change[/\\\\]runs[/\\\\]${base.runId}\\.json$`));
			expect((error as ConfigError).message).toContain(`channel "production" of "price-change" was released with run ${base.runId}, but that run cannot be read`);
			expect((error as ConfigError).message).toContain(`restore runs/${base.runId}.json from git`);
		};
		await fs.rm(file);
		await expectError(baselineRun(store, 'price-change'));
		await expectError(testVersion(store, 2));
		await expectError(releaseVersion(store, 'price-change', 2));
		await fs.writeFile(file, '{"runId": 1}'); // unreadable: not a run
		await expectError(baselineRun(store, 'price-change'));
		await expect(baselineRun(store, 'price-change')).rejects.toThrow(/cannot be read: field "runId": Expected string, received number; field "promptId": is required/);
		await fs.writeFile(file, saved);
		expect((await baselineRun(store, 'price-change'))?.runId).toBe(base.runId);
		expect((await refusal(releaseVersion(store, 'price-change', 2))).failingFixtures).toEqual(['up']);
	});

	test('evaluateGate changes nothing', async () => {
		const store = await setup();
		await testVersion(store, 1);
		const verdict = await evaluateGate(store, 'price-change', 1);
		expect(verdict).toMatchObject({ ok: true, reasons: [], failingFixtures: [] });
		expect((await store.readReleases('price-change')).history).toEqual([]);
	});

	test('releasing the same version twice is unchanged and adds no entry', async () => {
		const store = await setup();
		await testVersion(store, 1);
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		const again = await releaseVersion(store, 'price-change', 1, { by: 'bob' });
		expect(again.unchanged).toBe(true);
		expect(again.entry).toBeUndefined();
		const state = await store.readReleases('price-change');
		expect(state.history).toHaveLength(1);
		expect(state.history[0].by).toBe('ann');
	});

	test('by defaults to PROMPT_RELEASE_USER', async () => {
		const saved = process.env.PROMPT_RELEASE_USER;
		process.env.PROMPT_RELEASE_USER = 'release-bot';
		try {
			expect(currentUser()).toBe('release-bot');
			const store = await setup();
			await testVersion(store, 1);
			const out = await releaseVersion(store, 'price-change', 1);
			expect(out.entry?.by).toBe('release-bot');
		} finally {
			if (saved === undefined) delete process.env.PROMPT_RELEASE_USER;
			else process.env.PROMPT_RELEASE_USER = saved;
		}
	});

	test('latestRunOf ignores runs of other content', async () => {
		const store = await setup();
		const run = await testVersion(store, 2);
		const v2 = await store.readVersion('price-change', 2);
		expect((await latestRunOf(store, 'price-change', 2, v2.contentHash))?.runId).toBe(run.runId);
		expect(await latestRunOf(store, 'price-change', 2, 'sha256:' + '0'.repeat(64))).toBeUndefined();
	});
});

describe('rollback', () => {
	async function releasedThree(): Promise<FileRegistryStore> {
		const store = await setup();
		for (const v of [1, 2, 3]) {
			await testVersion(store, v);
			await releaseVersion(store, 'price-change', v, { by: 'ann', reason: `v${v}` });
		}
		return store;
	}

	test('an unknown prompt → not found, and no folder is created', async () => {
		const store = await setup();
		await expect(rollbackChannel(store, 'typo')).rejects.toThrow(/prompt "typo" not found/);
		const { promises: fs } = await import('node:fs');
		expect(await fs.readdir(store.root)).toEqual(['price-change']);
	});

	test('nothing released → refused', async () => {
		const store = await setup();
		await expect(rollbackChannel(store, 'price-change', { by: 'ann' })).rejects.toThrow(/nothing released on channel "production": nothing to roll back/);
	});

	test('a single release → refused, nothing written', async () => {
		const store = await setup();
		await testVersion(store, 1);
		await releaseVersion(store, 'price-change', 1, { by: 'ann' });
		await expect(rollbackChannel(store, 'price-change')).rejects.toThrow(GateRefusal);
		await expect(rollbackChannel(store, 'price-change')).rejects.toThrow(/version 1 is the only release left/);
		expect((await store.readReleases('price-change')).history).toHaveLength(1);
	});

	test('walks back through the stack; rollback after rollback; then refuses', async () => {
		const store = await releasedThree();
		const r1 = await rollbackChannel(store, 'price-change', { by: 'bob', reason: 'bad answers', now: new Date('2026-06-01T00:00:00Z') });
		const v2 = await store.readVersion('price-change', 2);
		expect(r1.entry).toMatchObject({ action: 'rollback', channel: 'production', version: 2, from: 3, by: 'bob', reason: 'bad answers', at: '2026-06-01T00:00:00.000Z', contentHash: v2.contentHash });
		expect(r1.state.channels.production).toMatchObject({ version: 2, contentHash: v2.contentHash, since: '2026-06-01T00:00:00.000Z' });
		expect((await resolvePrompt(store, 'price-change')).version).toBe(2);

		const r2 = await rollbackChannel(store, 'price-change', { by: 'bob' });
		expect(r2.entry).toMatchObject({ version: 1, from: 2 });
		expect((await resolvePrompt(store, 'price-change')).version).toBe(1);

		await expect(rollbackChannel(store, 'price-change')).rejects.toThrow(/only release left/);
		const state = await store.readReleases('price-change');
		expect(state.history.map((h) => `${h.action}:${h.version}`)).toEqual(['release:1', 'release:2', 'release:3', 'rollback:2', 'rollback:1']);
	});

	test('the rolled-back channel points at the run behind the restored release (the new baseline)', async () => {
		const store = await releasedThree();
		const run2 = (await store.readReleases('price-change')).history[1].runId;
		await rollbackChannel(store, 'price-change');
		expect((await store.readReleases('price-change')).channels.production.runId).toBe(run2);
		expect((await baselineRun(store, 'price-change'))?.runId).toBe(run2);
	});

	test('release after a rollback, then rollback returns to the pre-release version', async () => {
		const store = await releasedThree();
		await rollbackChannel(store, 'price-change'); // 3 → 2
		await releaseVersion(store, 'price-change', 3, { by: 'ann' }); // 2 → 3 again
		const back = await rollbackChannel(store, 'price-change');
		expect(back.entry).toMatchObject({ version: 2, from: 3 });
	});

	test('channels are independent', async () => {
		const store = await releasedThree();
		await releaseVersion(store, 'price-change', 1, { channel: 'staging', by: 'ann' });
		await expect(rollbackChannel(store, 'price-change', { channel: 'staging' })).rejects.toThrow(/only release left/);
		const out = await rollbackChannel(store, 'price-change', { channel: 'production' });
		expect(out.entry.version).toBe(2);
		expect(out.state.channels.staging.version).toBe(1);
	});

	test('channelStack', () => {
		const e = (action: 'release' | 'rollback', version: number, channel = 'production') => ({ at: 'x', action, channel, version, by: 'a' });
		const state = { channels: {}, history: [e('release', 1), e('release', 5, 'staging'), e('release', 2), e('release', 3), e('rollback', 2), e('release', 4)] };
		expect(channelStack(state, 'production').map((h) => h.version)).toEqual([1, 2, 4]);
		expect(channelStack(state, 'staging').map((h) => h.version)).toEqual([5]);
		expect(channelStack(state, 'none')).toEqual([]);
	});
});
