/** Fixture tags (hard negatives): the fixture format, imports, pass rates per tag, and the gate's requireTags rule. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ConfigErrors } from '../../lib/errors';
import { importFixtures } from '../../lib/fixtures-import';
import { checkPolicy, DEFAULT_POLICY, loadPolicy } from '../../lib/policy';
import { commitDraft } from '../../lib/registry/commit';
import { resolvePrompt } from '../../lib/registry/resolve';
import { evaluateGate } from '../../lib/release';
import { buildBundle, renderHtml, renderMarkdown } from '../../lib/report';
import { runFixtures, summarize } from '../../lib/runner';
import { SummaryBuilder } from '../../lib/streamed-run';
import type { FixtureResult } from '../../lib/types';
import { answering, fixture, makeSpec, runReport, tempDir, tempRegistry, writeFixtureFile, writeText } from './helpers';

function tagged(id: string, tags: string[] | undefined, passed: boolean): FixtureResult {
	return { fixtureId: id, segment: 'default', ...(tags ? { tags } : {}), passed, expected: false, actual: passed ? false : true, valid: true, rawOutput: null, latencyMs: 1, inputTokens: 1, outputTokens: 1, costUsd: 0, repaired: false };
}

const results = [tagged('amb-1', ['ambiguous'], true), tagged('amb-2', ['ambiguous', 'quoted-thread'], false), tagged('adv-1', ['adversarial'], false), tagged('plain', undefined, true)];

test('pass rates per tag, the same streamed and from a list; absent without tags', () => {
	const s = summarize('r', results);
	expect(s.tags).toEqual({
		adversarial: { total: 1, passed: 0, failed: 1, passRate: 0 },
		ambiguous: { total: 2, passed: 1, failed: 1, passRate: 0.5 },
		'quoted-thread': { total: 1, passed: 0, failed: 1, passRate: 0 },
	});
	const builder = new SummaryBuilder();
	for (const r of results) builder.add(r);
	expect(builder.summary('r').tags).toEqual(s.tags);
	expect(summarize('r', [tagged('x', undefined, true)]).tags).toBeUndefined();
});

test('requireTags: skipped when not set; refused naming a tag without fixtures and a tag whose fixtures all fail', () => {
	const run = runReport({ results });
	expect(checkPolicy(run, undefined, { ...DEFAULT_POLICY, minPassRate: 0 }).checks.find((c) => c.rule === 'requireTags')).toEqual({ rule: 'requireTags', status: 'skipped', message: 'not set' });
	const ok = checkPolicy(run, undefined, { ...DEFAULT_POLICY, minPassRate: 0, requireTags: ['ambiguous'] });
	expect(ok.ok).toBe(true);
	expect(ok.checks.find((c) => c.rule === 'requireTags')?.message).toBe('every required tag has a passing fixture (ambiguous 1/2)');
	const refused = checkPolicy(run, undefined, { ...DEFAULT_POLICY, minPassRate: 0, requireTags: ['ambiguous', 'adversarial', 'long-context'] });
	expect(refused.ok).toBe(false);
	expect(refused.violations).toEqual([
		{
			rule: 'requireTags',
			message: 'run run-1: no passing fixture tagged "adversarial" (1 tagged, all failing: adv-1); no fixture is tagged "long-context": add one (a fixture file\'s "tags: [long-context]", or a "tags" column when importing)',
			fixtures: ['adv-1'],
		},
	]);
});

test('the fixture format validates tags; the policy file validates requireTags, naming file and field', async () => {
	const { root, store } = await tempRegistry();
	await store.writeDraft(makeSpec());
	await writeFixtureFile(root, 'price-change', { id: 'ok', inputs: { subject: 's', body: 'b' }, expected: true, tags: ['quoted-thread', 'long_context'] });
	expect((await store.readFixture('price-change', 'ok'))?.tags).toEqual(['quoted-thread', 'long_context']);
	await writeFixtureFile(root, 'price-change', { id: 'bad', inputs: { subject: 's', body: 'b' }, expected: true, tags: ['has space', 'x'] });
	await expect(store.readFixture('price-change', 'bad')).rejects.toThrow(/bad\.yaml:\d+ field "tags\[0\]": must be a tag of letters, digits/);
	await writeFixtureFile(root, 'price-change', { id: 'bad', inputs: { subject: 's', body: 'b' }, expected: true, tags: 'adversarial' });
	await expect(store.readFixture('price-change', 'bad')).rejects.toThrow(/tags.*must be a list of tags/);
	await writeFixtureFile(root, 'price-change', { id: 'bad', inputs: { subject: 's', body: 'b' }, expected: true, tags: ['a', 'a'] });
	await expect(store.readFixture('price-change', 'bad')).rejects.toThrow(/lists a tag twice/);
	await writeText(path.join(root, 'policy.yaml'), 'requireTags: adversarial\n');
	const error = (await loadPolicy(store, 'price-change').catch((e: unknown) => e)) as Error;
	expect(error).toBeInstanceOf(ConfigError);
	expect(error.message).toMatch(/policy\.yaml.*requireTags.*must be a list of tags/);
});

test('imports read a tags column (CSV) or field (JSONL), as a list or as text', async () => {
	const { store } = await tempRegistry();
	await store.writeDraft(makeSpec());
	const dir = await tempDir();
	const csv = path.join(dir, 'rows.csv');
	await fs.writeFile(csv, 'id,subject,body,expected,tags\nq1,Re: prices,> old change,false,"quoted-thread, ambiguous"\nn1,Hello,nothing,false,\n');
	await importFixtures(store, 'price-change', csv);
	expect((await store.readFixture('price-change', 'q1'))?.tags).toEqual(['quoted-thread', 'ambiguous']);
	expect((await store.readFixture('price-change', 'n1'))?.tags).toBeUndefined();
	const jsonl = path.join(dir, 'rows.jsonl');
	await fs.writeFile(jsonl, `${JSON.stringify({ id: 'a1', inputs: { subject: 'x', body: 'y' }, expected: false, tags: ['adversarial'] })}\n${JSON.stringify({ id: 'a2', inputs: { subject: 'x2', body: 'y' }, expected: false, tags: 'long-context' })}\n`);
	await importFixtures(store, 'price-change', jsonl);
	expect((await store.readFixture('price-change', 'a1'))?.tags).toEqual(['adversarial']);
	expect((await store.readFixture('price-change', 'a2'))?.tags).toEqual(['long-context']);
	await fs.writeFile(jsonl, `${JSON.stringify({ id: 'b1', inputs: { subject: 'z', body: 'y' }, expected: false, tags: ['no/slash'] })}\n`);
	const bad = (await importFixtures(store, 'price-change', jsonl).catch((e: unknown) => e)) as ConfigError | ConfigErrors;
	expect(bad.message).toMatch(/rows\.jsonl:1.*tags/);
});

test('the gate reads tags from the fixtures as they are now, and refuses a required tag with no passing fixture', async () => {
	const { root, store } = await tempRegistry();
	await store.writeDraft(makeSpec());
	await writeText(path.join(root, 'price-change', 'policy.yaml'), 'minPassRate: 0.5\nrequireTags: [quoted-thread]\n');
	const fixtures = [fixture('inc', { subject: 'price increase', body: 'x' }, true), fixture('quoted', { subject: 'Re: hello', body: '> price increase' }, false, { tags: ['quoted-thread'] }), fixture('none', { subject: 'hello', body: 'x' }, false)];
	for (const f of fixtures) await store.writeFixture('price-change', f);
	await commitDraft(store, 'price-change', { now: new Date() });
	const resolved = await resolvePrompt(store, 'price-change', { version: 1 });
	const run = await runFixtures({ resolved, fixtures, provider: answering((user) => /price increase/.test(user)) });
	expect(run.results.find((r) => r.fixtureId === 'quoted')?.tags).toEqual(['quoted-thread']);
	expect(run.summary.tags).toEqual({ 'quoted-thread': { total: 1, passed: 0, failed: 1, passRate: 0 } });
	await store.writeRun(run);
	const refused = await evaluateGate(store, 'price-change', 1);
	expect(refused.violations.map((v) => v.rule)).toEqual(['requireTags']);
	expect(refused.violations[0].message).toContain('no passing fixture tagged "quoted-thread" (1 tagged, all failing: quoted)');
	// Tagging a passing fixture needs no new run: the gate reads the tags of the current fixtures.
	await store.writeFixture('price-change', { ...fixtures[2], tags: ['quoted-thread'] });
	expect((await evaluateGate(store, 'price-change', 1)).ok).toBe(true);

	const bundle = buildBundle({ run });
	expect(bundle.passRate.tags).toEqual([{ name: 'quoted-thread', total: 1, passed: 0, passRate: 0 }]);
	expect(renderMarkdown(bundle)).toContain('| quoted-thread | 0/1 | 0.0% |');
	expect(renderHtml(bundle)).toContain('aria-label="Pass rate by tag"');
});
