/**
 * This package in a REAL n8n 2.41.1 in queue mode: one main and two `n8n worker` processes, Redis for the
 * queue, PostgreSQL for n8n's own database, the package installed where n8n's community-package installer
 * puts it in every process's user folder, and the PostgreSQL registry (a database of its own) that every
 * process reads and writes, filled from a registry folder with `publish` and read back with `pull`.
 *
 *  1. 500 webhook requests through Extract Signal spread over both workers, `prompt-release rollback`
 *     halfway: every request answered, each answer's version the channel's at that moment up to the
 *     measured propagation window (bounded by the nodes' cache TTL), executions on both workers.
 *  2. 200 corrections recorded by both workers at once, some of the same inputs: 0 lost, 0 duplicated;
 *     `pull` writes them to the folder as fixture files.
 *  3. A canary with a freeze rule: outcomes from both workers counted together, one freeze for all.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

import { correctionFixtureId } from '../../../lib/corrections';
import { pgQuery } from '../support/services';
import { FREEZE, TTL_SECONDS, WORKFLOWS, cli, setUpQueueMode, type QueueSetup } from './setup';
import { sendTraffic, type Exchange } from './traffic';

const MINUTE = 60_000;
/** Scheduling, queue and HTTP round trips on a loaded 2-core machine, on top of the cache TTL. */
const MARGIN_MS = 4_000;
type Json = Record<string, any>;

let q: QueueSetup;

beforeAll(async () => {
	q = await setUpQueueMode();
}, 12 * MINUTE);

afterAll(async () => {
	await q?.dispose();
}, 2 * MINUTE);

/** Which worker ran each execution id (from the workers' logs). */
function workerOf(): Map<string, string> {
	const out = new Map<string, string>();
	for (const [worker, ids] of Object.entries(q.n8n.executionsByWorker())) for (const id of ids) out.set(id, worker);
	return out;
}

/** Count of answers per worker, and answers whose execution no worker logged. */
function spread(exchanges: Exchange[]): Record<string, number> {
	const byId = workerOf();
	const counts: Record<string, number> = {};
	for (const e of exchanges) {
		const worker = byId.get(String(e.body?.executionId)) ?? 'no worker';
		counts[worker] = (counts[worker] ?? 0) + 1;
	}
	return counts;
}

function failures(exchanges: Exchange[]): string[] {
	return exchanges.filter((e) => e.status !== 200 || !e.body).map((e) => `#${e.i}: ${e.status} ${e.text.slice(0, 300)}`);
}

/** Executions n8n stored for a workflow, by status. */
async function storedExecutions(workflowId: string): Promise<Record<string, number>> {
	const rows = await pgQuery<{ status: string; n: string }>(q.n8n.database, 'SELECT status, count(*) AS n FROM execution_entity WHERE "workflowId" = $1 GROUP BY status', [workflowId]);
	return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Version, arm and canary in force an Extract Signal answer (valid or invalid output) carries for field `flag`. */
function served(body: Json | undefined): { version: unknown; arm: unknown; canaryId: unknown; valid: boolean } {
	if (body?._signals?.flag) return { version: body._signals.flag.version, arm: body._signals.flag.arm, canaryId: body._signals.flag.trace?.canaryId, valid: true };
	const invalid = body?._invalid?.[0];
	return { version: invalid?.version, arm: invalid?.arm, canaryId: invalid?.trace?.canaryId, valid: false };
}

test(
	'500 webhook requests over both workers with a rollback halfway: all answered, versions follow the channel within the measured window',
	async () => {
		const TOTAL = 500;
		let rollback: Promise<{ code: number | null; stderr: string }> | undefined;
		let rollbackStart = 0;
		let rollbackDone = 0;
		const exchanges = await sendTraffic({
			url: q.webhook(WORKFLOWS.signal.path),
			count: TOTAL,
			concurrency: 8,
			intervalMs: 25,
			deadline: Date.now() + 4 * MINUTE,
			body: (i) => ({ text: `order ${i}`, key: `customer-${i}` }),
			beforeSend: (i) => {
				if (i !== TOTAL / 2) return;
				rollbackStart = Date.now();
				rollback = cli(q.registryUrl, ['rollback', 'flag', '--reason', 'queue-mode e2e: rollback under load']).then((r) => {
					rollbackDone = Date.now();
					return r;
				});
			},
		});
		const rolledBack = await rollback!;
		expect({ code: rolledBack.code, stderr: rolledBack.stderr }).toEqual({ code: 0, stderr: '' });

		// Every request answered, none lost: 500 answers, 500 distinct executions, all stored as successful.
		if (failures(exchanges).length) {
			// What the failure looked like inside n8n: stored executions by status, and the processes' warnings and errors.
			const statuses = await pgQuery<{ id: string; status: string; finished: boolean }>(q.n8n.database, `SELECT id, status, finished FROM execution_entity WHERE status NOT IN ('success') ORDER BY id`, []);
			const noteworthy = (text: string) => text.split('\n').filter((l) => /error|warn|fail|timed out|stalled/i.test(l)).slice(-40).join('\n');
			console.log(`not successful executions: ${JSON.stringify(statuses)}\nmain:\n${noteworthy(q.n8n.mainLogs())}\n${q.n8n.workers.map((w) => `${w.name}:\n${noteworthy(w.server?.logs() ?? '')}`).join('\n')}`);
		}
		expect(failures(exchanges)).toEqual([]);
		expect(exchanges).toHaveLength(TOTAL);
		expect(new Set(exchanges.map((e) => e.body!.executionId)).size).toBe(TOTAL);
		expect(exchanges.map((e) => served(e.body)).filter((s) => !s.valid || ![1, 2].includes(s.version as number))).toEqual([]);

		// Before the rollback started: v2 only. After it: v2 only within the measured window, then v1.
		const before = exchanges.filter((e) => e.receivedAt < rollbackStart);
		expect(before.filter((e) => served(e.body).version !== 2).map((e) => e.i)).toEqual([]);
		const lateV2 = exchanges.filter((e) => e.sentAt > rollbackDone && served(e.body).version === 2);
		const windowMs = Math.max(0, ...lateV2.map((e) => e.sentAt - rollbackDone));
		const afterWindow = exchanges.filter((e) => e.sentAt > rollbackDone + windowMs);
		expect(afterWindow.filter((e) => served(e.body).version !== 1).map((e) => e.i)).toEqual([]);
		expect(windowMs).toBeLessThanOrEqual(TTL_SECONDS * 1000 + MARGIN_MS);
		// The traffic outlasted the window: the switch to v1 was observed, not assumed.
		expect(afterWindow.length).toBeGreaterThanOrEqual(50);

		// Every execution ran on a worker, and both workers ran some.
		const counts = spread(exchanges);
		expect(counts['no worker']).toBeUndefined();
		expect(Object.keys(counts).sort()).toEqual(['worker-1', 'worker-2']);
		expect(counts['worker-1'] + counts['worker-2']).toBe(TOTAL);
		expect(await storedExecutions(WORKFLOWS.signal.id)).toEqual({ success: TOTAL + q.warmUps[WORKFLOWS.signal.id] });
		console.log(
			`rollback under load: ${TOTAL} answers (${JSON.stringify(counts)}), ${before.length} before the rollback, ${lateV2.length} v2 answers after it within ${windowMs} ms, ${afterWindow.length} after the window all v1; CLI took ${rollbackDone - rollbackStart} ms`,
		);
	},
	8 * MINUTE,
);

test(
	'200 corrections recorded by both workers at once, some of the same inputs: 0 lost, 0 duplicated fixtures',
	async () => {
		const DISTINCT = 150;
		// Each third case is corrected twice, the second right behind the first (in flight together).
		const order: number[] = [];
		for (let k = 0; k < DISTINCT; k++) {
			order.push(k);
			if (k % 3 === 0) order.push(k);
		}
		expect(order).toHaveLength(200);
		const text = (k: number): string => `correction case ${k}`;
		const value = (k: number): number => k % 9;
		const exchanges = await sendTraffic({
			url: q.webhook(WORKFLOWS.correction.path),
			count: order.length,
			concurrency: 8,
			intervalMs: 0,
			deadline: Date.now() + 4 * MINUTE,
			body: (i) => ({ text: text(order[i]), corrected: String(value(order[i])) }),
		});
		expect(failures(exchanges)).toEqual([]);
		expect(exchanges).toHaveLength(200);
		const idOf = (k: number): string => correctionFixtureId({ email_body: text(k) });
		expect(exchanges.filter((e) => e.body!.fixture?.id !== idOf(order[e.i])).map((e) => e.i)).toEqual([]);

		// In the registry: the hand-written fixture plus exactly one fixture per distinct case, each with its value.
		const wanted = [...new Set(order)].map(idOf);
		const stored = await q.store.listFixtures('corrected');
		expect(stored.map((f) => f.id).sort()).toEqual(['manual-one', ...wanted].sort());
		const byId = new Map(stored.map((f) => [f.id, f]));
		for (let k = 0; k < DISTINCT; k++) {
			const f = byId.get(idOf(k))!;
			expect({ k, inputs: f.inputs, expected: f.expected, source: f.source }).toEqual({ k, inputs: { email_body: text(k) }, expected: value(k), source: 'correction' });
		}
		// `pull` brings them back as fixture files of the registry folder, for review in git.
		const pulled = await cli(q.folder, ['pull', '--from', q.registryUrl, q.folder, 'corrected']);
		expect({ code: pulled.code, stderr: pulled.stderr }).toEqual({ code: 0, stderr: '' });
		const dir = path.join(q.folder, 'corrected', 'fixtures');
		// Fixture files only: pull also keeps the documented fixtures/.index/ folder beside them.
		const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
		expect(files).toEqual(['manual-one.yaml', ...wanted.map((id) => `${id}.yaml`)].sort());
		for (let k = 0; k < DISTINCT; k++) {
			const fixture = parseYaml(fs.readFileSync(path.join(dir, `${idOf(k)}.yaml`), 'utf8')) as Json;
			expect({ k, inputs: fixture.inputs, expected: fixture.expected, source: fixture.source }).toEqual({ k, inputs: { email_body: text(k) }, expected: value(k), source: 'correction' });
		}
		// Every new fixture was reported created; a case corrected once was reported created once. (Two workers
		// correcting the same new case at the same moment may both say "created": they wrote one file.)
		const createdAnswers = exchanges.filter((e) => e.body!.fixture.created === true);
		expect(new Set(createdAnswers.map((e) => e.body!.fixture.id)).size).toBe(DISTINCT);
		const once = [...new Set(order)].filter((k) => k % 3 !== 0).map(idOf);
		expect(createdAnswers.filter((e) => once.includes(e.body!.fixture.id))).toHaveLength(once.length);
		const created = createdAnswers.length;

		const counts = spread(exchanges);
		expect(Object.keys(counts).sort()).toEqual(['worker-1', 'worker-2']);
		expect(await storedExecutions(WORKFLOWS.correction.id)).toEqual({ success: 200, error: q.warmUps[WORKFLOWS.correction.id] });
		console.log(`corrections: 200 answers (${JSON.stringify(counts)}), ${stored.length - 1} correction fixtures in PostgreSQL, ${files.length - 1} pulled as files, ${created} answers said "created"`);
	},
	6 * MINUTE,
);

test(
	"a canary's outcomes from both workers are counted together and its freeze rule freezes it once, for all",
	async () => {
		// v2 is committed and tested in git, published, and canaried on the PostgreSQL registry.
		const env = { OPENAI_BASE_URL: q.model.openaiBaseUrl, OPENAI_API_KEY: 'sk-queue-cli' };
		for (const [registry, args] of [
			[q.folder, ['commit', 'canaried', '-m', 'v2 wording']],
			[q.folder, ['test', 'canaried', '--version', '2', '--json']],
			[q.folder, ['publish', q.folder, '--to', q.registryUrl, 'canaried']],
			[q.registryUrl, ['release', 'canaried', '--version', '2', '--canary', '50', '--reason', 'queue-mode e2e canary']],
		] as Array<[string, string[]]>) {
			const r = await cli(registry, args, env);
			expect({ args, code: r.code, errors: r.stderr.split('\n').filter((l) => l.startsWith('prompt-release:')) }).toEqual({ args, code: 0, errors: [] });
		}
		const store = q.store;
		const canaryId = (await store.readReleases('canaried')).channels.production.canary!.id;
		let frozenAt: number | undefined;
		let lastPoll = 0;
		let sentAfterSettle = 0;
		const SETTLED = 40;
		const settle = TTL_SECONDS * 1000 + MARGIN_MS;
		const exchanges = await sendTraffic({
			url: q.webhook(WORKFLOWS.canary.path),
			count: 600,
			concurrency: 6,
			intervalMs: 30,
			deadline: Date.now() + 4 * MINUTE,
			body: (i) => ({ text: `live ${i}`, key: `supplier-${i}` }),
			beforeSend: async () => {
				if (frozenAt !== undefined && Date.now() > frozenAt + settle) sentAfterSettle++;
				if (frozenAt !== undefined || Date.now() - lastPoll < 250) return;
				lastPoll = Date.now();
				const frozen = (await store.readReleases('canaried')).channels.production.canary?.frozen;
				if (frozen) frozenAt = Date.parse(frozen.at);
			},
			// After the freeze: the settle time, then SETTLED more requests, then stop.
			stop: () => sentAfterSettle >= SETTLED,
		});
		expect(failures(exchanges)).toEqual([]);
		expect(frozenAt).toBeDefined();

		// One freeze, recorded once, for the one canary.
		const releases = await store.readReleases('canaried');
		const freezes = releases.history.filter((h) => h.action === 'freeze');
		expect(freezes.map((h) => h.canaryId)).toEqual([canaryId]);
		expect(releases.channels.production.canary).toMatchObject({ id: canaryId, version: 2, frozen: { at: freezes[0].at } });

		// Every item served while the canary ran was recorded once: the outcome log holds exactly those answers' arms.
		const records = await store.readOutcomes('canaried', canaryId);
		const armsAnswered = (arm: string): number => exchanges.filter((e) => served(e.body).arm === arm && served(e.body).canaryId === canaryId).length;
		expect({ canary: records.filter((r) => r.arm === 'canary').length, stable: records.filter((r) => r.arm === 'stable').length }).toEqual({
			canary: armsAnswered('canary'),
			stable: armsAnswered('stable'),
		});
		// The rule counted both workers' items: more than either worker could have recorded when it froze
		// (its canary answers to requests sent before the freeze).
		const byWorker = workerOf();
		const canaryBeforeFreeze = q.n8n.workers.map(
			(w) => exchanges.filter((e) => e.sentAt <= frozenAt! && served(e.body).arm === 'canary' && byWorker.get(String(e.body!.executionId)) === w.name).length,
		);
		const counted = Number(/after (\d+) canary items/.exec(freezes[0].reason ?? '')?.[1]);
		expect(counted).toBeGreaterThanOrEqual(FREEZE.minItems);
		expect(canaryBeforeFreeze.every((n) => n > 0 && n < counted)).toBe(true);

		// Before the freeze the canary arm answered invalid (v2) and stable valid (v1); after it, stable only.
		const arms = exchanges.map((e) => ({ e, s: served(e.body) }));
		expect(arms.filter(({ s }) => !((s.arm === 'canary' && s.version === 2 && !s.valid) || (s.arm === 'stable' && s.version === 1 && s.valid))).map(({ e }) => e.i)).toEqual([]);
		const lateCanary = arms.filter(({ e, s }) => e.sentAt > frozenAt! && s.arm === 'canary');
		const windowMs = Math.max(0, ...lateCanary.map(({ e }) => e.sentAt - frozenAt!));
		expect(windowMs).toBeLessThanOrEqual(settle);
		const settled = exchanges.filter((e) => e.sentAt > frozenAt! + settle);
		expect(settled.length).toBeGreaterThanOrEqual(SETTLED);
		expect(settled.filter((e) => served(e.body).arm !== 'stable').map((e) => e.i)).toEqual([]);
		expect(Object.keys(spread(settled)).sort()).toEqual(['worker-1', 'worker-2']);
		console.log(
			`canary: ${exchanges.length} answers, frozen after ${counted} canary items (per worker before the freeze: ${canaryBeforeFreeze.join(', ')}), ${lateCanary.length} canary answers within ${windowMs} ms after the freeze, ${settled.length} after it all stable (${JSON.stringify(spread(settled))})`,
		);
	},
	8 * MINUTE,
);
