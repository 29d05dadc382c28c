/**
 * The whole loop through the public entry point (lib/index): draft → commit → fixtures → test run →
 * gated release → a correction becomes a fixture → the next version is held back until it passes.
 */
import * as core from '../../lib';
import { answering, makeSpec, tempRegistry } from './helpers';

describe('errors', () => {
	test('names, locations and messages', () => {
		const e = new core.ConfigError('is required', { file: 'p/prompt.yaml', field: 'output', line: 7 });
		expect(e.name).toBe('ConfigError');
		expect(e).toBeInstanceOf(core.PromptReleaseError);
		expect(e.message).toBe('p/prompt.yaml:7 field "output": is required');
		expect(new core.ConfigError('x', { file: 'f' }).message).toBe('f: x');
		expect(new core.ConfigError('x').message).toBe('x');
		const many = new core.ConfigErrors([e, new core.ConfigError('y', { file: 'g' })]);
		expect(many.message).toBe('p/prompt.yaml:7 field "output": is required\ng: y');
		expect(new core.GateRefusal('no', ['a']).failingFixtures).toEqual(['a']);
		expect(new core.ProviderError('down', 503)).toMatchObject({ name: 'ProviderError', status: 503 });
		expect(new core.InputError('bad').name).toBe('InputError');
	});
});

describe('lifecycle through lib/index', () => {
	test('commit, test, release, correct, re-test, release, roll back', async () => {
		const { store } = await tempRegistry();
		const spec = makeSpec({ output: { type: 'integer', minimum: 0, nullable: true }, id: 'delay-days' });
		await store.writeDraft(spec);
		const v1 = await core.commitDraft(store, 'delay-days', { author: 'ann' });

		await store.writeFixture('delay-days', { id: 'days', inputs: { subject: 's', body: 'delayed 3 days' }, expected: 3, source: 'manual' });
		await store.writeFixture('delay-days', { id: 'none', inputs: { subject: 's', body: 'on time' }, expected: null, source: 'manual' });

		// v1 reads "N days" only.
		const v1Model = answering((t) => (/(\d+) days/.exec(t) ? Number(/(\d+) days/.exec(t)![1]) : null));
		const testVersion = async (version: number, provider = v1Model) => {
			const resolved = await core.resolvePrompt(store, 'delay-days', core.parseRef(String(version)));
			const report = await core.runFixtures({ resolved, fixtures: await store.listFixtures('delay-days', resolved.spec), provider, baseline: await core.baselineRun(store, 'delay-days') });
			await store.writeRun(report);
			return report;
		};
		expect((await testVersion(1)).summary.passRate).toBe(1);
		await core.releaseVersion(store, 'delay-days', 1, { by: 'ann', reason: 'initial' });
		const cache = new core.ReleaseCache(() => 0);
		expect((await cache.resolve(store, 'delay-days', core.parseRef(undefined))).contentHash).toBe(v1.contentHash);

		// In production v1 answers "two weeks" with null; an analyst corrects it to "14".
		const call = await core.runPrompt(await core.resolvePrompt(store, 'delay-days'), { subject: 's', body: 'delayed two weeks' }, v1Model);
		expect(call).toMatchObject({ valid: true, value: null, meta: { version: 1, channel: 'production' } });
		const { fixture } = await core.recordCorrection(store, { promptId: 'delay-days', version: call.meta.version, variables: { subject: 's', body: 'delayed two weeks', itemId: 9 }, modelOutput: call.rawOutput, corrected: '14' });
		expect(fixture).toMatchObject({ expected: 14, source: 'correction', recorded: { version: 1 } });

		// The released run is now stale; re-testing v1 shows the failure.
		expect((await core.evaluateGate(store, 'delay-days', 1)).reasons.join()).toMatch(/out of date/);
		const rerun = await testVersion(1);
		expect(rerun.summary.failed).toBe(1);

		// v2 understands weeks; it passes everything and is released.
		await store.writeDraft({ ...spec, instructions: `${spec.instructions} Convert weeks to days.` });
		const v2 = await core.commitDraft(store, 'delay-days');
		const v2Model = answering((t) => (/two weeks/.test(t) ? 14 : /(\d+) days/.exec(t) ? Number(/(\d+) days/.exec(t)![1]) : null));
		const run2 = await testVersion(2, v2Model);
		expect(run2.summary).toMatchObject({ total: 3, passed: 3, regressions: [] });
		const released = await core.releaseVersion(store, 'delay-days', 2, { by: 'bob', reason: 'weeks' });
		expect(released.entry).toMatchObject({ version: 2, from: 1, by: 'bob', runId: run2.runId });
		expect((await core.resolvePrompt(store, 'delay-days')).contentHash).toBe(v2.contentHash);

		const status = await core.promptStatus(store, 'delay-days');
		expect(status).toMatchObject({ versions: [1, 2], draftChanged: false, fixtures: { total: 3, bySource: { manual: 2, correction: 1 } }, channels: { production: { version: 2 } } });

		const back = await core.rollbackChannel(store, 'delay-days', { by: 'carol', reason: 'incident' });
		expect(back.entry).toMatchObject({ action: 'rollback', version: 1, from: 2 });
		expect((await core.validateRegistry(store)).errors).toEqual([]);
	});
});
