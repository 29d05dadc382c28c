/** Two-person approval: one person under any spelling of their name is one approver, and the author is never one. */
import { approvalsOf, approveVersion, checkApprovals } from '../../lib/approvals';
import { identityKey, sameIdentity } from '../../lib/identity';
import { commitDraft } from '../../lib/registry/commit';
import type { HistoryEntry, ReleasesState } from '../../lib/types';
import { makeSpec, runReport, tempRegistry } from './helpers';

const RUN = '20261120T090000000Z-aaaaaa';

/** A registry whose version 1 was committed by `author`, with one stored run of it. */
async function committedBy(author: string) {
	const { store } = await tempRegistry();
	await store.writeDraft(makeSpec());
	const frozen = await commitDraft(store, 'price-change', { author });
	await store.writeRun({ ...runReport({ runId: RUN, results: [{ fixtureId: 'a', passed: true, expected: true }] }), contentHash: frozen.contentHash });
	return store;
}

test('identityKey: trimmed, NFKC, case-folded; recorded names are not changed by it', () => {
	expect(identityKey(' Alice ')).toBe('alice');
	expect(identityKey('BOB')).toBe(identityKey('Bob'));
	expect(identityKey('ＡＬＩＣＥ')).toBe('alice'); // full-width letters (NFKC)
	expect(identityKey('STRAẞE')).toBe(identityKey('Straße'));
	expect(identityKey('Straße')).toBe(identityKey('strasse'));
	expect(identityKey('Ann\u00a0 Lee')).toBe('ann lee');
	expect(identityKey(' \t ')).toBe('');
	expect(sameIdentity('alice', ' ALICE')).toBe(true);
	expect(sameIdentity('alice', 'alicia')).toBe(false);
	expect(sameIdentity('', ' ')).toBe(false);
	expect(sameIdentity('alice', undefined)).toBe(false);
});

test('approvalsOf counts one approval per person, however the name is spelled, and never the author', () => {
	const approve = (by: string, runId = RUN): HistoryEntry => ({ at: '2026-11-20T10:00:00.000Z', action: 'approve', channel: 'production', version: 2, by, runId });
	const state: ReleasesState = { channels: {}, history: [approve('Bob'), approve('BOB'), approve('Alice'), approve(' alice '), approve('ａｌｉｃｅ'), approve('  '), approve('bob ', 'older-run')] };
	const judged = approvalsOf(state, 'production', 2, RUN, 'alice');
	expect(judged.valid.map((a) => a.by)).toEqual(['Bob']);
	expect(judged.stale.map((a) => a.by)).toEqual(['bob ']);
	const verdict = checkApprovals(2, judged, 'price-change');
	expect(verdict.status).toBe('fail');
	expect(verdict.message).toContain('version 2 has 1 of 2 approval(s) (Bob) for run');
	expect(verdict.message).toContain('Ask a reviewer to run "prompt-release approve price-change --version 2"');
	expect(verdict.message).not.toContain('<prompt>');

	const carol = approvalsOf({ ...state, history: [...state.history, approve('Carol')] }, 'production', 2, RUN, 'alice');
	expect(checkApprovals(2, carol, 'price-change')).toMatchObject({ status: 'pass', message: `2 of 2 approval(s) (Bob, Carol) for run ${RUN}` });
});

test('approveVersion refuses the author under another spelling and blank names; the same person twice writes nothing', async () => {
	const store = await committedBy('alice');
	for (const by of ['Alice', ' alice ', 'ＡＬＩＣＥ']) {
		await expect(approveVersion(store, 'price-change', 1, { by })).rejects.toThrow(`${by} committed version 1 of "price-change" (as "alice") and cannot approve it`);
	}
	for (const by of ['', '   ']) await expect(approveVersion(store, 'price-change', 1, { by })).rejects.toThrow("the approver's name is blank");
	expect((await store.readReleases('price-change')).history).toEqual([]);

	const first = await approveVersion(store, 'price-change', 1, { by: 'Bob' });
	expect(first.entry?.by).toBe('Bob'); // recorded as typed
	const again = await approveVersion(store, 'price-change', 1, { by: 'BOB' });
	expect(again.unchanged).toBe(true);
	expect((await store.readReleases('price-change')).history.map((e) => e.by)).toEqual(['Bob']);
	expect(again.state.valid.map((a) => a.by)).toEqual(['Bob']);
});

test('an author recorded with stray spaces or capitals is still the author', async () => {
	const store = await committedBy(' Alice ');
	await expect(approveVersion(store, 'price-change', 1, { by: 'alice' })).rejects.toThrow('cannot approve it');
	expect((await approveVersion(store, 'price-change', 1, { by: 'bob' })).state.valid.map((a) => a.by)).toEqual(['bob']);
});
