/**
 * One contract for every RegistryStore: the same cases run against the file store and the PostgreSQL store.
 * A store is correct when it passes this suite unchanged.
 */
import { recordCorrection } from '../../lib/corrections';
import { contentHash } from '../../lib/hash';
import { closeRegistryConnections } from '../../lib/registry/open';
import { verifiedVersions } from '../../lib/registry/version-cache';
import type { Fixture, FrozenVersion, HistoryEntry, OutcomeRecord, PromptSpec, ReleasesState, RunReport } from '../../lib/types';
import { makeSpec } from '../unit/helpers';
import { servedLogId } from '../../lib/outcomes';
import { approveVersion } from '../../lib/approvals';
import { evaluateGate } from '../../lib/release';
import { fixtureInputsHash } from '../../lib/runner';
import { fileStoreFactory, postgresStoreFactory, type StoreFactory, type StoreUnderTest } from './stores';

const factories: StoreFactory[] = [fileStoreFactory(), postgresStoreFactory()];

afterAll(async () => {
	for (const f of factories) await f.cleanup();
	await closeRegistryConnections();
});

function frozenOf(spec: PromptSpec, version: number): FrozenVersion {
	return { version, contentHash: contentHash(spec), createdAt: '2026-01-01T00:00:00.000Z', author: 'tester', prompt: spec };
}

function fixtureOf(id: string, subject: string, expected: boolean): Fixture {
	return { id, inputs: { subject, body: 'b' }, expected, source: 'manual' };
}

function runOf(promptId: string, runId: string): RunReport {
	return {
		runId,
		promptId,
		version: 1,
		contentHash: 'sha256:x',
		model: { provider: 'openai', name: 'gpt-4o-mini' },
		startedAt: '2026-01-01T00:00:00Z',
		finishedAt: '2026-01-01T00:00:01Z',
		summary: { total: 1, passed: 1, passRate: 1, regressions: [] },
		results: [{ fixtureId: 'a', passed: true }],
	} as unknown as RunReport;
}

function entry(i: number): HistoryEntry {
	return { at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), action: 'release', channel: 'production', version: 1, by: `writer-${i}` };
}

describe.each(factories)('RegistryStore contract: $name', (factory) => {
	let t: StoreUnderTest;
	const spec = makeSpec();

	beforeEach(async () => {
		t = await factory.create();
		await t.store.writeDraft(spec);
	});

	it('keeps drafts, lists prompts sorted and names the prompts there are for an unknown one', async () => {
		await t.store.writeDraft(makeSpec({ id: 'alpha', description: 'first' }));
		expect(await t.store.listPrompts()).toEqual(['alpha', 'price-change']);
		expect(await t.store.readDraft('alpha')).toMatchObject({ id: 'alpha', description: 'first' });
		await t.store.writeDraft(makeSpec({ id: 'alpha', description: 'changed' }));
		expect((await t.store.readDraft('alpha')).description).toBe('changed');
		await expect(t.store.readDraft('nope')).rejects.toThrow(/prompt "nope" not found .*alpha, price-change/);
		await expect(t.store.readDraft('../etc')).rejects.toThrow(/prompt id "..\/etc" is invalid/);
	});

	it('creates versions once and never overwrites them', async () => {
		expect(await t.store.createVersion(spec.id, frozenOf(spec, 2))).toBe(true);
		expect(await t.store.createVersion(spec.id, frozenOf(spec, 1))).toBe(true);
		const other = makeSpec({ template: 'Other {{subject}} {{body}}' });
		expect(await t.store.createVersion(spec.id, frozenOf(other, 1))).toBe(false);
		expect(await t.store.listVersions(spec.id)).toEqual([1, 2]);
		expect((await t.store.readVersion(spec.id, 1)).contentHash).toBe(contentHash(spec));
		await expect(t.store.readVersion(spec.id, 9)).rejects.toThrow(/has no version 9 .*1, 2/);
	});

	it('refuses to create a version whose content does not match its hash', async () => {
		const bad = { ...frozenOf(spec, 1), contentHash: `sha256:${'0'.repeat(64)}` };
		await expect(t.store.createVersion(spec.id, bad)).rejects.toThrow(/content hash mismatch/);
		expect(await t.store.listVersions(spec.id)).toEqual([]);
	});

	it('checks the content hash of a version on every read, naming the prompt and field', async () => {
		await t.store.createVersion(spec.id, frozenOf(spec, 1));
		const tampered = { ...frozenOf(spec, 1), prompt: { ...spec, template: 'Tampered {{subject}} {{body}}' } };
		await t.overwriteVersion(spec.id, 1, tampered as unknown as Record<string, unknown>);
		await expect(t.store.readVersion(spec.id, 1)).rejects.toThrow(/price-change.*field "contentHash".*content hash mismatch/s);
	});

	it('names the prompt, item and field of stored content that fails validation', async () => {
		await t.store.writeFixture(spec.id, fixtureOf('a', 's', true));
		await t.overwriteFixture(spec.id, 'a', { id: 'a', inputs: { subject: 's', body: 'b' }, expected: 'yes', source: 'manual' });
		await expect(t.store.listFixtures(spec.id, spec)).rejects.toThrow(/fixture|fixtures/);
		await expect(t.store.readFixture(spec.id, 'a', spec)).rejects.toThrow(/(price-change.*"a"|a\.yaml).*field "expected"/s);
	});

	it('upserts fixtures by id, lists them sorted and finds one by its inputs', async () => {
		await t.store.writeFixture(spec.id, fixtureOf('b', 'second', false));
		await t.store.writeFixture(spec.id, fixtureOf('a', 'first', true));
		await t.store.writeFixture(spec.id, { ...fixtureOf('a', 'first', false), source: 'correction', note: 'fixed' });
		expect((await t.store.listFixtures(spec.id, spec)).map((f) => [f.id, f.expected])).toEqual([
			['a', false],
			['b', false],
		]);
		expect(await t.store.readFixture(spec.id, 'a')).toMatchObject({ source: 'correction', note: 'fixed' });
		expect(await t.store.readFixture(spec.id, 'zzz')).toBeUndefined();
		expect((await t.store.findFixtureByInputs(spec.id, { body: 'b', subject: 'second' }))?.id).toBe('b');
		expect(await t.store.findFixtureByInputs(spec.id, { subject: 'none', body: 'b' })).toBeUndefined();
	});

	it('records a correction in one step: the fixture covering the inputs, its segment and note kept, guarded by the version hash', async () => {
		await t.store.writeFixture(spec.id, { ...fixtureOf('manual-1', 'covered', false), segment: 'emails', note: 'by hand' });
		const correction = (subject: string, id: string): Fixture => ({ id, inputs: { subject, body: 'b' }, expected: true, source: 'correction', recorded: { version: 1, modelOutput: false, at: '2026-01-01T00:00:00.000Z' } });
		const updated = await t.store.recordFixtureForInputs(spec.id, correction('covered', 'correction-aaa'));
		expect(updated).toEqual({ created: false, fixture: expect.objectContaining({ id: 'manual-1', expected: true, segment: 'emails', note: 'by hand', source: 'correction' }) });
		expect(await t.store.readFixture(spec.id, 'correction-aaa')).toBeUndefined();
		const created = await t.store.recordFixtureForInputs(spec.id, correction('new', 'correction-bbb'));
		expect(created).toEqual({ created: true, fixture: expect.objectContaining({ id: 'correction-bbb', inputs: { subject: 'new', body: 'b' } }) });
		expect(await t.store.readFixture(spec.id, 'correction-bbb')).toMatchObject({ expected: true, source: 'correction' });
		// The derived id wins over another fixture with the same inputs.
		await t.store.writeFixture(spec.id, fixtureOf('aaa-manual', 'new', false));
		expect((await t.store.recordFixtureForInputs(spec.id, correction('new', 'correction-bbb')))?.fixture.id).toBe('correction-bbb');

		const frozen = frozenOf(spec, 1);
		await t.store.createVersion(spec.id, frozen);
		expect(await t.store.recordFixtureForInputs(spec.id, correction('guarded', 'correction-ccc'), { version: 1, contentHash: 'sha256:other' })).toBeUndefined();
		expect(await t.store.readFixture(spec.id, 'correction-ccc')).toBeUndefined();
		expect((await t.store.recordFixtureForInputs(spec.id, correction('guarded', 'correction-ccc'), { version: 1, contentHash: frozen.contentHash }))?.created).toBe(true);
		expect((await t.store.listFixtures(spec.id)).map((f) => f.id)).toEqual(['aaa-manual', 'correction-bbb', 'correction-ccc', 'manual-1']);
	});

	it('keeps the tags of the fixture a correction updates, and reports one created of concurrent corrections of new inputs', async () => {
		await t.store.writeFixture(spec.id, { ...fixtureOf('tagged-1', 'tagged', false), tags: ['ambiguous', 'quoted-thread'] });
		const correction = (subject: string, id: string): Fixture => ({ id, inputs: { subject, body: 'b' }, expected: true, source: 'correction', recorded: { version: 1, modelOutput: false, at: '2026-01-01T00:00:00.000Z' } });
		const updated = await t.store.recordFixtureForInputs(spec.id, correction('tagged', 'correction-ttt'));
		expect(updated?.fixture).toMatchObject({ id: 'tagged-1', expected: true, tags: ['ambiguous', 'quoted-thread'] });
		expect((await t.store.readFixture(spec.id, 'tagged-1'))?.tags).toEqual(['ambiguous', 'quoted-thread']);
		const raced = await Promise.all(Array.from({ length: 6 }, () => t.store.recordFixtureForInputs(spec.id, correction('raced', 'correction-rrr'))));
		expect(raced.filter((r) => r?.created)).toHaveLength(1);
		expect((await t.store.listFixtures(spec.id)).map((f) => f.id)).toEqual(['correction-rrr', 'tagged-1']);
	});

	it('gives corrections sent at the same time the answers each would get alone (a burst, as a node sends its items)', async () => {
		const frozen = frozenOf(spec, 1);
		await t.store.createVersion(spec.id, frozen);
		await t.store.writeFixture(spec.id, { ...fixtureOf('manual-1', 'covered', false), segment: 'emails', note: 'by hand', tags: ['kept'] });
		const correction = (subject: string, id: string, expected = true): Fixture => ({ id, inputs: { subject, body: 'b' }, expected, source: 'correction', recorded: { version: 1, modelOutput: !expected, at: '2026-01-01T00:00:00.000Z' } });
		const good = { version: 1, contentHash: frozen.contentHash };
		const burst = await Promise.all([
			...Array.from({ length: 12 }, (_, i) => t.store.recordFixtureForInputs(spec.id, correction(`new ${i}`, `correction-new-${i}`), good)),
			t.store.recordFixtureForInputs(spec.id, correction('covered', 'correction-covered'), good),
			t.store.recordFixtureForInputs(spec.id, correction('stale', 'correction-stale'), { version: 1, contentHash: 'sha256:other' }),
			...Array.from({ length: 4 }, () => t.store.recordFixtureForInputs(spec.id, correction('twice', 'correction-twice', false), good)),
		]);
		expect(burst.slice(0, 12)).toEqual(Array.from({ length: 12 }, (_, i) => ({ created: true, fixture: expect.objectContaining({ id: `correction-new-${i}`, inputs: { subject: `new ${i}`, body: 'b' }, expected: true }) })));
		expect(burst[12]).toEqual({ created: false, fixture: expect.objectContaining({ id: 'manual-1', expected: true, segment: 'emails', note: 'by hand', tags: ['kept'], source: 'correction' }) });
		expect(burst[13]).toBeUndefined();
		expect(burst.slice(14).map((r) => r?.created).sort()).toEqual([false, false, false, true]);
		expect(burst.slice(14).every((r) => r?.fixture.id === 'correction-twice' && r.fixture.expected === false)).toBe(true);
		const ids = (await t.store.listFixtures(spec.id)).map((f) => f.id);
		expect(ids).toHaveLength(14);
		expect(ids).not.toContain('correction-stale');
		expect(ids).not.toContain('correction-covered');
	});

	it('never records a correction against a cached version that storage no longer holds under that hash', async () => {
		verifiedVersions.clear();
		await t.store.createVersion(spec.id, frozenOf(spec, 1));
		const correct = (subject: string, corrected: unknown) => recordCorrection(t.store, { promptId: spec.id, version: 1, variables: { subject, body: 'b' }, modelOutput: null, corrected });
		expect((await correct('one', true)).fixture.expected).toBe(true);
		// Version 1 replaced under a new hash with a string output: 'maybe' only fits the new text.
		const changed = makeSpec({ output: { type: 'string' } });
		await t.overwriteVersion(spec.id, 1, frozenOf(changed, 1) as unknown as Record<string, unknown>);
		expect((await correct('two', 'maybe')).fixture.expected).toBe('maybe');
		// Replaced again, with a change no value check notices: the write's hash guard does.
		const reworded = makeSpec({ output: { type: 'string' }, instructions: 'Reworded.' });
		await t.overwriteVersion(spec.id, 1, frozenOf(reworded, 1) as unknown as Record<string, unknown>);
		await correct('three', 'yes');
		expect((await verifiedVersions.get(t.store, spec.id, 1)).contentHash).toBe(contentHash(reworded));
	});

	it('keeps every fixture written concurrently', async () => {
		await Promise.all(Array.from({ length: 40 }, (_, i) => t.store.writeFixture(spec.id, fixtureOf(`c${String(i).padStart(2, '0')}`, `s${i}`, i % 2 === 0))));
		expect((await t.store.listFixtures(spec.id)).length).toBe(40);
	});

	it('reports "created" for exactly one of many concurrent writers of a new fixture, and for none that replace it', async () => {
		for (let round = 0; round < 5; round++) {
			const id = `new-${round}`;
			const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.store.writeFixture(spec.id, fixtureOf(id, `s${round}`, i % 2 === 0))));
			expect(results.filter(Boolean)).toHaveLength(1);
			expect(await t.store.writeFixture(spec.id, fixtureOf(id, `s${round}`, true))).toBe(false);
		}
		expect((await t.store.listFixtures(spec.id)).length).toBe(5);
	});

	it('counts one created correction when workers correct the same new inputs at once', async () => {
		for (let round = 0; round < 5; round++) {
			const variables = { subject: `race ${round}`, body: 'same inputs' };
			const results = await Promise.all(Array.from({ length: 6 }, () => recordCorrection(t.store, { promptId: spec.id, variables, modelOutput: false, corrected: true })));
			expect(results.filter((r) => r.created)).toHaveLength(1);
		}
	});

	it('loses no history entry under concurrent release updates (reads inside the update included)', async () => {
		await t.store.createVersion(spec.id, frozenOf(spec, 1));
		const n = 40;
		await Promise.all(
			Array.from({ length: n }, (_, i) =>
				t.store.updateReleases(spec.id, async (s): Promise<ReleasesState> => {
					const frozen = await t.store.readVersion(spec.id, 1);
					return {
						channels: { production: { version: 1, contentHash: frozen.contentHash, since: entry(i).at } },
						history: [...s.history, entry(i)],
					};
				}),
			),
		);
		const state = await t.store.readReleases(spec.id);
		expect(state.history).toHaveLength(n);
		expect(new Set(state.history.map((h) => h.by)).size).toBe(n);
	});

	it('keeps approvals in the release history: who, when, the run they approved; the gate counts them only for that run', async () => {
		const frozen = { ...frozenOf(spec, 1), author: 'alice' };
		await t.store.createVersion(spec.id, frozen);
		await t.store.writeFixture(spec.id, fixtureOf('a', 'first', true));
		const run = { ...runOf(spec.id, '20260101T000000000Z-aaaaaa'), contentHash: frozen.contentHash, results: [{ fixtureId: 'a', passed: true, expected: true, actual: true, valid: true, segment: 'default', inputsHash: fixtureInputsHash(fixtureOf('a', 'first', true)), rawOutput: null, latencyMs: 1, inputTokens: 1, outputTokens: 1, costUsd: 0, repaired: false }] } as RunReport;
		await t.store.writeRun(run);
		await t.store.writePolicy({ approvals: 1 }, spec.id);
		expect((await evaluateGate(t.store, spec.id, 1)).violations.map((v) => v.rule)).toEqual(['approvals']);
		await expect(approveVersion(t.store, spec.id, 1, { by: 'alice' })).rejects.toThrow(/alice committed version 1 .* cannot approve it/);
		const { entry } = await approveVersion(t.store, spec.id, 1, { by: 'bob', reason: 'read the diff', now: new Date('2026-01-02T00:00:00.000Z') });
		expect(entry).toEqual({ at: '2026-01-02T00:00:00.000Z', action: 'approve', channel: 'production', version: 1, by: 'bob', reason: 'read the diff', runId: run.runId, contentHash: frozen.contentHash });
		expect((await t.store.readReleases(spec.id)).history).toEqual([entry]);
		expect((await approveVersion(t.store, spec.id, 1, { by: 'bob' })).unchanged).toBe(true);
		expect((await evaluateGate(t.store, spec.id, 1)).ok).toBe(true);
		// A newer run of the version is new evidence: the approval no longer counts.
		await t.store.writeRun({ ...run, runId: '20260102T000000000Z-bbbbbb' });
		const after = await evaluateGate(t.store, spec.id, 1);
		expect(after.ok).toBe(false);
		expect(after.violations[0].message).toContain("bob's approval of run 20260101T000000000Z-aaaaaa no longer counts");
	});

	it('writes nothing when an update fails, and refuses updates of unknown prompts', async () => {
		await t.store.updateReleases(spec.id, (s) => ({ ...s, history: [entry(1)] }));
		await expect(
			t.store.updateReleases(spec.id, () => {
				throw new Error('refused');
			}),
		).rejects.toThrow('refused');
		expect((await t.store.readReleases(spec.id)).history).toEqual([entry(1)]);
		await expect(t.store.updateReleases('nope', (s) => s)).rejects.toThrow(/prompt "nope" not found/);
		expect(await t.store.readReleases('other')).toEqual({ channels: {}, history: [] });
	});

	it('stores runs once, oldest first, and names a missing one', async () => {
		await t.store.writeRun(runOf(spec.id, '20260102-b'));
		await t.store.writeRun(runOf(spec.id, '20260101-a'));
		await expect(t.store.writeRun(runOf(spec.id, '20260101-a'))).rejects.toThrow(/already exists/);
		expect(await t.store.listRuns(spec.id)).toEqual(['20260101-a', '20260102-b']);
		expect((await t.store.readRun(spec.id, '20260101-a')).summary.passRate).toBe(1);
		await expect(t.store.readRun(spec.id, 'missing')).rejects.toThrow(/run "missing" not found/);
	});

	it('leaves a stored run exactly as it was when another run with its id is written', async () => {
		await t.store.writeRun(runOf(spec.id, '20260101-a'));
		const before = await t.store.readRun(spec.id, '20260101-a');
		const other = runOf(spec.id, '20260101-a');
		other.results = [{ fixtureId: 'x', passed: false }, { fixtureId: 'y', passed: false }, { fixtureId: 'z', passed: true }] as unknown as RunReport['results'];
		await expect(t.store.writeRun(other)).rejects.toThrow(/already exists/);
		const writer = await t.store.createRunWriter(spec.id, '20260101-a');
		for (const r of other.results) await writer.append(r);
		await expect(writer.commit(other)).rejects.toThrow(/already exists/);
		await writer.discard();
		expect(await t.store.readRun(spec.id, '20260101-a')).toEqual(before);
		expect(await t.store.listRuns(spec.id)).toEqual(['20260101-a']);
	});

	it('appends outcomes from concurrent writers without losing any', async () => {
		const rec = (w: number, i: number): OutcomeRecord => ({ at: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`, arm: w % 2 ? 'canary' : 'stable', version: 1, key: `w${w}-${i}` }) as unknown as OutcomeRecord;
		await Promise.all(Array.from({ length: 20 }, (_, w) => t.store.appendOutcomes(spec.id, 'canary-1', Array.from({ length: 5 }, (_, i) => rec(w, i)))));
		await t.store.appendOutcomes(spec.id, 'canary-1', []);
		const all = await t.store.readOutcomes(spec.id, 'canary-1');
		expect(all).toHaveLength(100);
		const w3 = all.filter((r) => (r as unknown as { key: string }).key.startsWith('w3-')).map((r) => (r as unknown as { key: string }).key);
		expect(w3).toEqual(['w3-0', 'w3-1', 'w3-2', 'w3-3', 'w3-4']);
		expect(await t.store.readOutcomes(spec.id, 'canary-2')).toEqual([]);
		await expect(t.store.readOutcomes(spec.id, '../x')).rejects.toThrow(/canary id/);
	});

	it('keeps served logs (served-<channel>) apart from canary logs and from each other, and refuses a served- canary id', async () => {
		const rec = (version: number, outcome: OutcomeRecord['outcome']): OutcomeRecord => ({ at: '2026-01-01T00:00:00.000Z', arm: 'stable', version, outcome });
		const longest = servedLogId('c'.repeat(64))!;
		await t.store.appendOutcomes(spec.id, servedLogId('production')!, [rec(1, 'valid'), rec(1, 'invalid')]);
		await t.store.appendOutcomes(spec.id, servedLogId('staging')!, [rec(2, 'corrected')]);
		await t.store.appendOutcomes(spec.id, longest, [rec(3, 'valid')]);
		await t.store.appendOutcomes(spec.id, 'canary-20260101T000000000Z-abcdef', [rec(9, 'valid')]);
		expect(await t.store.readOutcomes(spec.id, 'served-production')).toEqual([rec(1, 'valid'), rec(1, 'invalid')]);
		expect(await t.store.readOutcomes(spec.id, 'served-staging')).toEqual([rec(2, 'corrected')]);
		expect(await t.store.readOutcomes(spec.id, longest)).toEqual([rec(3, 'valid')]);
		const pointer = { version: 1, contentHash: 'sha256:x', since: '2026-01-01T00:00:00.000Z' };
		const canary = { id: 'served-production', version: 2, contentHash: 'sha256:y', since: '2026-01-01T00:00:00.000Z', percent: 10 };
		// Refused when written (PostgreSQL) or when read back (folder store): never taken for a canary.
		const guard = makeSpec({ id: 'served-guard' });
		await t.store.writeDraft(guard);
		const written = t.store.updateReleases(guard.id, () => ({ channels: { production: { ...pointer, canary } }, history: [] })).then(async () => await t.store.readReleases(guard.id));
		await expect(written).rejects.toThrow(/canary\.id.*reserved for served outcome logs/);
	});

	it('writes and reads policies (registry-wide and per prompt) and the price table', async () => {
		expect(await t.store.readPolicy()).toEqual({});
		expect(await t.store.readPricing()).toEqual({});
		await t.store.writePolicy({ maxRegressions: 0, minPassRate: 0.9 });
		await t.store.writePolicy({ repeat: 3 }, spec.id);
		await t.store.writePricing({ 'openai:gpt-4o-mini': { input: 0.15, output: 0.6 } });
		expect(await t.store.readPolicy()).toEqual({ maxRegressions: 0, minPassRate: 0.9 });
		expect(await t.store.readPolicy(spec.id)).toEqual({ repeat: 3 });
		expect(await t.store.readPricing()).toEqual({ 'openai:gpt-4o-mini': { input: 0.15, output: 0.6 } });
	});
});
