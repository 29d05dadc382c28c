/**
 * `prompt-release review` (list, JSON, CSV/JSONL export, dismiss), the pending count in `status` and `metrics`,
 * through the compiled CLI on a folder registry and on PostgreSQL; then `validate` of folder review logs and
 * `db status` / `db migrate` of a registry from before the review queue.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { recordCorrection } from '../../lib/corrections';
import { closeRegistryConnections, openRegistryStore } from '../../lib/registry/open';
import { MIGRATIONS } from '../../lib/registry/postgres/migrations';
import type { RegistryStore } from '../../lib/registry/store';
import type { ReviewCase, ReviewRequest } from '../../lib/review/types';
import { dropSchemas, pgUrl, sql, uniqueSchema } from '../support/postgres';
import { cli, makeRegistry, write } from './helpers';

const schemas: string[] = [];

afterAll(async () => {
	await closeRegistryConnections();
	await dropSchemas(schemas);
});

const at = (minute: number): string => new Date(Date.UTC(2026, 10, 27, 9, minute)).toISOString();

function request(subject: string, minute: number, over: Partial<ReviewRequest> = {}): ReviewRequest {
	return { kind: 'invalid', version: 'draft', inputs: { subject, body: 'Dear customer,\nnew prices.' }, modelOutput: 'It seems', reason: 'not JSON: text instead of a boolean', at: at(minute), ...over };
}

interface Registry {
	cwd: string;
	/** The --registry value. */
	location: string;
	store: RegistryStore;
}

async function folderRegistry(): Promise<Registry> {
	const { cwd, registry } = await makeRegistry();
	return { cwd, location: 'prompts', store: openRegistryStore(registry) };
}

async function postgresRegistry(): Promise<Registry> {
	const { cwd } = await makeRegistry();
	const schema = uniqueSchema('cli_review');
	schemas.push(schema);
	const url = pgUrl(schema);
	const published = await cli(['publish', 'prompts', '--to', url], cwd);
	expect(published.code).toBe(0);
	return { cwd, location: url, store: openRegistryStore(url) };
}

describe.each([
	['folder', folderRegistry],
	['PostgreSQL', postgresRegistry],
] as const)('review on a %s registry', (_name, create) => {
	let r: Registry;
	const run = (...args: string[]) => cli([...args, '--registry', r.location], r.cwd, { PROMPT_RELEASE_USER: 'ann' });

	beforeAll(async () => {
		r = await create();
		await r.store.queueReviews('price-change', [
			request('New price list', 5, { channel: 'production', source: { routingKey: 'supplier-17', executionId: '812', node: 'Extract Signal' } }),
			request('New price list', 42, { finishReason: 'length' }),
			request('Re: delivery', 12, { kind: 'audit', reason: 'audit sample', modelOutput: false }),
			request('=HYPERLINK("http://x")', 20, { modelOutput: null, reason: 'refused: content filter', inputs: { subject: '=HYPERLINK("http://x")', body: 'Surcharge, "energy", +4%' } }),
		]);
	});

	test('lists pending cases as a table, as JSON, and by status; a bad status exits 2', async () => {
		const table = await run('review');
		expect(table.stderr).toBe('');
		expect(table.code).toBe(0);
		const lines = table.stdout.split('\n');
		expect(lines[0]).toMatch(/^ID\s+PROMPT\s+KIND\s+VERSION\s+REASON\s+SEEN\s+FIRST SEEN\s+LAST SEEN\s+ANSWER\s+INPUTS$/);
		expect(lines[1]).toMatch(/^review-[0-9a-f]{16}\s+price-change\s+invalid\s+draft\s+not JSON: text instead of a boolean\s+2\s+2026-11-27 09:05Z\s+2026-11-27 09:42Z\s+"It seems"\s+subject="New price list" body="Dear customer, new pri…$/);
		expect(lines[2]).toMatch(/\saudit\s.*\saudit sample\s+1\s+2026-11-27 09:12Z .* false\s/);
		expect(table.stdout).toContain(`3 pending review cases in ${r.location}. Answer a pending one with Record Correction`);

		const json = JSON.parse((await run('review', 'price-change', '--json')).stdout) as ReviewCase[];
		expect(json.map((c) => [c.inputs.subject, c.occurrences, c.status])).toEqual([
			['New price list', 2, 'pending'],
			['Re: delivery', 1, 'pending'],
			['=HYPERLINK("http://x")', 1, 'pending'],
		]);
		expect(Object.keys(json[0]).slice(0, 3)).toEqual(['id', 'promptId', 'status']);
		expect(json[0]).toMatchObject({ finishReason: 'length', firstSeen: at(5), lastSeen: at(42) });

		expect((await run('review', '--status', 'dismissed')).stdout).toBe(`no dismissed review cases in ${r.location}\n`);
		const bad = await run('review', '--status', 'open');
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('--status "open" is invalid: use pending, resolved, dismissed or all');
		const unknown = await run('review', 'nope');
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toMatch(/prompt "nope" not found/);
	});

	test('exports CSV (inputs as columns, formulas defused) and JSONL atomically to --out, or to stdout', async () => {
		const wrote = await run('review', '--format', 'csv', '--out', 'out/cases.csv');
		expect(wrote.code).toBe(0);
		expect(wrote.stdout).toBe('wrote 3 review cases to out/cases.csv (csv)\n');
		const text = await fs.readFile(path.join(r.cwd, 'out', 'cases.csv'), 'utf8');
		expect(text.endsWith('\r\n')).toBe(true);
		const rows = parseCsv(text, { columns: true }) as Array<Record<string, string>>;
		expect(rows).toHaveLength(3);
		expect(Object.keys(rows[0])).toEqual(expect.arrayContaining(['case_id', 'prompt', 'status', 'kind', 'version', 'reason', 'occurrences', 'first_seen', 'last_seen', 'model_output', 'inputs.subject', 'inputs.body']));
		expect(rows[0]).toMatchObject({ prompt: 'price-change', status: 'pending', version: 'draft', occurrences: '2', model_output: 'It seems', 'inputs.subject': 'New price list', 'inputs.body': 'Dear customer,\nnew prices.', finish_reason: 'length' });
		expect(rows[1]).toMatchObject({ kind: 'audit', model_output: 'false' });
		expect(rows[2]).toMatchObject({ model_output: 'null', 'inputs.subject': `'=HYPERLINK("http://x")`, 'inputs.body': 'Surcharge, "energy", +4%' });
		expect((await fs.readdir(path.join(r.cwd, 'out'))).sort()).toEqual(['cases.csv']);

		expect((await run('review', 'price-change', '--out', 'cases.jsonl')).code).toBe(0);
		const jsonl = (await fs.readFile(path.join(r.cwd, 'cases.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as ReviewCase);
		expect(jsonl.map((c) => c.occurrences)).toEqual([2, 1, 1]);
		const stdout = await run('review', '--format', 'jsonl');
		expect(stdout.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as ReviewCase).id)).toEqual(jsonl.map((c) => c.id));

		for (const args of [['--json', '--format', 'csv'], ['--out', 'cases.txt'], ['--format', 'xlsx']]) {
			const refused = await run('review', ...args);
			expect(refused.code).toBe(2);
			expect(refused.stderr).toMatch(/--json prints JSON|--out "cases.txt": say which format|--format "xlsx" is invalid/);
		}
	});

	test('dismiss closes a pending case once, says when it is already closed, and refuses unknown cases', async () => {
		const [, audit, filtered] = await r.store.listReviews('price-change');
		const done = await run('review', 'dismiss', 'price-change', audit.id, '--reason', 'the answer was right');
		expect(done.stderr).toBe('');
		expect(done.code).toBe(0);
		expect(done.stdout).toBe(`dismissed ${audit.id} of price-change as ann: "the answer was right"\n`);
		const again = await run('review', 'dismiss', 'price-change', audit.id, '--reason', 'twice');
		expect(again.code).toBe(0);
		expect(again.stdout).toMatch(new RegExp(`^${audit.id} of price-change is already dismissed: "the answer was right" \\(by ann at .*\\); nothing changed\\n$`));
		expect((await r.store.listReviews('price-change', 'dismissed')).map((c) => c.closed?.reason)).toEqual(['the answer was right']);

		// Record Correction resolves a case; dismissing it afterwards changes nothing.
		const corrected = await recordCorrection(r.store, { promptId: 'price-change', variables: filtered.inputs, modelOutput: null, corrected: 'true' });
		const resolved = await run('review', 'dismiss', 'price-change', filtered.id, '--reason', 'too late');
		expect(resolved.stdout).toContain(`${filtered.id} of price-change is already resolved by fixture ${corrected.fixture.id}`);

		const unknown = await run('review', 'dismiss', 'price-change', 'review-0000000000000000', '--reason', 'x');
		expect(unknown.code).toBe(1);
		expect(unknown.stderr).toBe('prompt-release: no review case "review-0000000000000000" in prompt "price-change" (1 pending case: list them with "prompt-release review price-change")\n');
		const malformed = await run('review', 'dismiss', 'price-change', 'case-1', '--reason', 'x');
		expect(malformed.code).toBe(2);
		expect(malformed.stderr).toContain('"case-1" is not a review case id');
		const noReason = await run('review', 'dismiss', 'price-change', audit.id);
		expect(noReason.code).toBe(2);
		expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
		const blank = await run('review', 'dismiss', 'price-change', audit.id, '--reason', '  ');
		expect(blank.code).toBe(2);

		const all = JSON.parse((await run('review', '--status', 'all', '--json')).stdout) as ReviewCase[];
		expect(all.map((c) => c.status)).toEqual(['pending', 'dismissed', 'resolved']);
		const table = await run('review', '--status', 'all');
		expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+PROMPT\s+STATUS\s+KIND/);
		expect(table.stdout).toContain('3 review cases in');
		// Only closed cases listed: nothing to answer, so no hint to answer one.
		const closed = await run('review', '--status', 'resolved');
		expect(closed.stdout).toContain('1 resolved review case in');
		expect(closed.stdout).not.toContain('Answer');
	});

	test('status and metrics count the pending cases per prompt', async () => {
		const pending = (await r.store.countReviews('price-change')).pending;
		expect(pending).toBe(1);
		const text = await run('status', 'price-change');
		expect(text.stdout).toMatch(/\n {2}reviews\s+1 pending \(prompt-release review price-change\)\n/);
		const all = await run('status');
		expect(all.stdout).toMatch(/^PROMPT\s+MODEL\s+VERSIONS\s+DRAFT\s+CHANNELS\s+FIXTURES\s+PENDING REVIEWS\s+LAST RUN\n/);
		expect(all.stdout.split('\n')[1]).toMatch(/\s1\s+-$/);
		expect((JSON.parse((await run('status', 'price-change', '--json')).stdout) as { pendingReviews: number }).pendingReviews).toBe(1);
		expect((JSON.parse((await run('metrics', '--json')).stdout) as { prompts: Array<{ pendingReviews: number }> }).prompts[0].pendingReviews).toBe(1);
		expect((await run('metrics', '--prometheus')).stdout).toContain('# TYPE prompt_release_pending_reviews gauge\nprompt_release_pending_reviews{prompt="price-change"} 1\n');
		expect((await run('metrics')).stdout).toContain('  pending reviews: 1\n');
	});
});

describe('validate checks the review logs of a folder registry', () => {
	test('every bad line is named by file:line; a torn last line is not a problem', async () => {
		const { cwd, store } = await folderRegistry();
		await store.queueReviews('price-change', [request('a', 1)]);
		const good = JSON.stringify({ t: 'queued', request: request('b', 2) });
		await write(cwd, 'prompts/price-change/reviews/host-2-aaaa.jsonl', `${good}\n${good.slice(0, 30)}`);
		const ok = await cli(['validate'], cwd);
		expect(ok.stderr).toBe('');
		expect(ok.code).toBe(0);
		await write(cwd, 'prompts/price-change/reviews/host-3-bbbb.jsonl', `${good}\n{"t":"queued"\n${JSON.stringify({ t: 'closed', id: 'review-1', closing: { status: 'dismissed', at: at(3) } })}\n${good}\n`);
		const bad = await cli(['validate'], cwd);
		expect(bad.code).toBe(2);
		expect(bad.stderr.split('\n')).toEqual([
			'prompts/price-change/reviews/host-3-bbbb.jsonl:2: not a JSON line: restore the file from a backup or delete that line',
			'prompts/price-change/reviews/host-3-bbbb.jsonl:3: closed event: field "id" must be a case id (review-<16 hex digits>), got "review-1": correct or delete that line',
			'prompt-release: 2 errors in prompts (1 prompts, 0 versions, 4 fixtures checked)',
			'',
		]);
		// The listing still works: the bad line is skipped with a warning naming it.
		const listing = await cli(['review'], cwd);
		expect(listing.code).toBe(0);
		expect(listing.stderr).toContain('review log line skipped: prompts/price-change/reviews/host-3-bbbb.jsonl:2: not a JSON line');
		const status = await cli(['status'], cwd);
		expect(status.code).toBe(0);
		expect(status.stdout).toContain('price-change');
	});
});

describe('db status and db migrate with the review queue migration', () => {
	test('a registry at schema version 4 is reported behind, then upgraded to the review queue', async () => {
		const { cwd } = await makeRegistry();
		const schema = uniqueSchema('cli_v4');
		schemas.push(schema);
		await sql(`CREATE SCHEMA "${schema}"`);
		await sql(`CREATE TABLE "${schema}".schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
		for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
			for (const statement of m.sql) await sql(statement.replaceAll('{s}', `"${schema}"`));
			await sql(`INSERT INTO "${schema}".schema_migrations VALUES ($1, $2)`, [m.version, m.description]);
		}
		const url = pgUrl(schema);
		const before = await cli(['db', 'status', '--registry', url], cwd);
		expect(before.code).toBe(1);
		expect(before.stdout).toContain(`schema version 4, expected 5\nregistry schema "${schema}" is at schema version 4, expected 5: run prompt-release db migrate`);
		const migrated = await cli(['db', 'migrate', '--registry', url], cwd);
		expect(migrated.code).toBe(0);
		expect(migrated.stdout).toContain('applied migration 5: review queue');
		expect(migrated.stdout).toContain('schema version 4 → 5');
		const after = await cli(['db', 'status', '--registry', url], cwd);
		expect(after.code).toBe(0);
		expect(after.stdout).toContain('schema version 5, expected 5 (up to date)');
		expect((await cli(['review', '--registry', url], cwd)).stdout).toBe(`no pending review cases in ${url}\n`);
	});
});
