/**
 * Canary runtime in real n8n-core workflow runs: the arm is chosen per routing key (sticky), every output
 * says which arm served it, outcomes land in the canary's log, and a freeze rule in the policy freezes the
 * canary by itself — after which the node serves stable.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { INodeExecutionData } from 'n8n-workflow';
import { commitDraft } from '../../lib/registry/commit';
import { sharedReleaseCache } from '../../lib/release-cache';
import { startCanary } from '../../lib/release';
import { chooseArm } from '../../lib/routing';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import type { PromptSpec } from '../../lib/types';
import { resetOutcomeRecorders } from '../../nodes/shared/outcomes';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { addPrompt, commitAndRelease, promptSpec, tempRegistry, type TempRegistry } from './support/registry';
import { CORRECT, EXTRACT, RUN, credentialTypes, credentials, jsonOf, nodeTypes } from './support/workflow';

let server: ModelServer;
let registry: TempRegistry;

/** v1 of each prompt says "v-one", v2 "v-two"; canary-bad's v2 answers with text that is not a boolean. */
const rules = {
	models: ['test-model'],
	rules: [
		{ prompt: 'canary-bad', when: 'v-two', raw: 'maybe' },
		{ prompt: 'canary-bad', value: true },
		{ prompt: 'canary-ok', value: true },
		{ prompt: 'canary-corr', value: true },
		{ prompt: 'canary-below', when: 'v-two', raw: 'maybe' },
		{ prompt: 'canary-below', value: true },
		{ prompt: 'canary-stable-corr', value: true },
		{ prompt: 'canary-404', value: true },
		{ prompt: 'canary-404-extract', value: true },
		{ prompt: 'canary-corr-once', when: 'Order 7 from', raw: 'maybe' },
		{ prompt: 'canary-corr-once', value: true },
	],
};

const anyEmail = { id: 'any', inputs: { email_body: 'hello' }, expected: true, source: 'manual' as const };

/** v1 released on production, v2 (`v2` overrides its spec) committed and started as a canary (forced: its answers may be invalid). */
async function canaryPrompt(id: string, canary: { percent?: number; segments?: string[] }, freeze?: string, v2: Partial<PromptSpec> = {}): Promise<string> {
	const { store, root } = registry;
	await addPrompt(store, promptSpec(id, { template: 'v-one {{email_body}}' }), [anyEmail]);
	await commitAndRelease(store, server, id);
	await store.writeDraft(promptSpec(id, { template: 'v-two {{email_body}}', ...v2 }));
	await commitDraft(store, id);
	if (freeze) await fs.writeFile(path.join(root, id, 'policy.yaml'), freeze, 'utf8');
	const started = await startCanary(store, id, 2, { ...canary, by: 'node-tests', reason: 'canary under test', force: true });
	return started.canary.id;
}

beforeAll(async () => {
	server = await startModelServer({ rules });
	registry = await tempRegistry();
});

afterAll(async () => {
	await server.close();
	await registry.cleanup();
});

beforeEach(() => {
	server.reset();
	sharedReleaseCache.clear();
});

afterEach(() => {
	resetOutcomeRecorders();
});

function runNode(promptId: string, parameters: Record<string, unknown> = {}, extra: Partial<HarnessNode> = {}): HarnessNode {
	return {
		name: 'Run',
		type: RUN,
		parameters: {
			prompt: { __rl: true, mode: 'id', value: promptId },
			variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
			routingKey: "={{ $json.from.split('@')[1] }}",
			options: { maxRetries: 0 },
			...parameters,
		},
		...extra,
	};
}

async function run(nodes: HarnessNode[], triggerItems: INodeExecutionData[]) {
	const links = nodes.map((n, i): [string, string] => [i === 0 ? 'Trigger' : nodes[i - 1].name, n.name]);
	return await runWorkflow({
		nodeTypes,
		nodes,
		connections: connect(...links),
		credentials: credentials(registry.root, server),
		credentialTypes,
		triggerItems,
	});
}

const mail = (domain: string, i: number): INodeExecutionData => ({ json: { from: `buyer${i}@${domain}`, body: `Order ${i} from ${domain}` } });

describe('canary routing in the nodes', () => {
	it('splits items by routing key (sticky per supplier), marks the arm on every output, and logs per-arm outcomes', async () => {
		const canaryId = await canaryPrompt('canary-ok', { percent: 30 });
		const domains = Array.from({ length: 60 }, (_, i) => `supplier-${i}.example`);
		const items = domains.flatMap((d, i) => [mail(d, i), mail(d, i + 100)]); // two mails per supplier
		const result = await run([runNode('canary-ok')], items);
		expect(result.status).toBe('success');
		const out = jsonOf(result.outputOf('Run'));
		expect(out).toHaveLength(120);
		const pointer = (await registry.store.readReleases('canary-ok')).channels.production;
		out.forEach((item, n) => {
			const domain = domains[Math.floor(n / 2)];
			const arm = chooseArm(pointer, 'canary-ok', 'production', domain);
			expect(item).toMatchObject({ valid: true, arm, version: arm === 'canary' ? 2 : 1, channel: 'production' });
			expect(item.trace).toMatchObject({ arm, canaryId, channel: 'production', version: arm === 'canary' ? 2 : 1 });
		});
		// One supplier, one arm.
		for (let d = 0; d < domains.length; d++) expect(out[2 * d].arm).toBe(out[2 * d + 1].arm);
		const canaryShare = out.filter((i) => i.arm === 'canary').length / out.length;
		expect(canaryShare).toBeGreaterThan(0.1);
		expect(canaryShare).toBeLessThan(0.5);
		// The model saw v-two only for canary items.
		const bodies = server.requests.filter((r) => r.method === 'POST').map((r) => JSON.stringify(r.body));
		expect(bodies.filter((b) => b.includes('v-two'))).toHaveLength(out.filter((i) => i.arm === 'canary').length);

		// Outcomes: one record per item, flushed at the end of the node execution.
		const outcomes = await registry.store.readOutcomes('canary-ok', canaryId);
		expect(outcomes).toHaveLength(120);
		expect(outcomes.filter((o) => o.arm === 'canary').every((o) => o.version === 2 && o.outcome === 'valid')).toBe(true);
		expect(outcomes.filter((o) => o.arm === 'canary')).toHaveLength(out.filter((i) => i.arm === 'canary').length);

		// Sticky across executions and cache refreshes.
		sharedReleaseCache.clear();
		const again = jsonOf((await run([runNode('canary-ok')], items)).outputOf('Run'));
		expect(again.map((i) => i.arm)).toEqual(out.map((i) => i.arm));
		// One outcome file per process and canary.
		expect(await fs.readdir(path.join(registry.root, 'canary-ok', 'outcomes', canaryId))).toHaveLength(1);
	});

	it('without a Routing Key, identical variables always see the same arm', async () => {
		const items = Array.from({ length: 40 }, (_, i) => ({ json: { body: `mail ${i % 10}` } }));
		const node = runNode('canary-ok', { routingKey: '' });
		const out = jsonOf((await run([node], items)).outputOf('Run'));
		for (let i = 10; i < 40; i++) expect(out[i].arm).toBe(out[i % 10].arm);
		expect(out.every((i) => i.arm === 'stable' || i.arm === 'canary')).toBe(true);
	});

	it('Extract Signal carries the arm per signal, in _signals and in invalid entries', async () => {
		await canaryPrompt('canary-below', { segments: ['acme.example'] });
		const node: HarnessNode = {
			name: 'Extract',
			type: EXTRACT,
			parameters: {
				signals: { signal: [{ field: 'flag', prompt: 'canary-below', release: 'production' }, { field: 'ok', prompt: 'canary-ok', release: '1' }] },
				variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
				routingKey: "={{ $json.from.split('@')[1] }}",
				options: { maxRetries: 0 },
			},
		};
		const result = await run([node], [mail('acme.example', 1), mail('globex.example', 2)]);
		const [valid] = jsonOf(result.outputOf('Extract', 0));
		const [invalid] = jsonOf(result.outputOf('Extract', 1));
		expect(valid).toMatchObject({ flag: true, _signals: { flag: { arm: 'stable', version: 1 }, ok: { arm: null, version: 1 } } });
		expect((invalid._invalid as Array<Record<string, unknown>>)[0]).toMatchObject({ field: 'flag', arm: 'canary', version: 2, trace: { arm: 'canary', channel: 'production' } });
		expect(invalid).not.toHaveProperty('flag');
	});
});

describe('freeze rules', () => {
	const invalidPolicy = 'freeze:\n  minItems: 10\n  maxInvalidRatePointsAbove: 5\n';

	it('invalid-rate rule: below minItems nothing happens; past it the canary freezes by itself, history says why, and the node serves stable', async () => {
		const canaryId = await canaryPrompt('canary-bad', { segments: ['acme.example'] }, invalidPolicy);
		const node = runNode('canary-bad', {}, { onError: 'continueRegularOutput' });
		const batch = (n: number, from: number) => [...Array.from({ length: n }, (_, i) => mail('acme.example', from + i)), ...Array.from({ length: n }, (_, i) => mail('globex.example', from + i))];

		// 6 canary items: invalid every one, but below minItems 10.
		let out = jsonOf((await run([node], batch(6, 0))).outputOf('Run'));
		expect(out.filter((i) => i.arm === 'canary').every((i) => i.valid === false && i.version === 2)).toBe(true);
		expect(out.filter((i) => i.arm === 'stable').every((i) => i.valid === true && i.version === 1)).toBe(true);
		let state = await registry.store.readReleases('canary-bad');
		expect(state.channels.production.canary!.frozen).toBeUndefined();

		// 6 more: 12 canary items, 100 % invalid vs 0 % on stable → frozen.
		out = jsonOf((await run([node], batch(6, 6))).outputOf('Run'));
		expect(out.filter((i) => i.arm === 'canary')).toHaveLength(6);
		state = await registry.store.readReleases('canary-bad');
		const reason = "canary invalid rate 100.0% is 100 points above stable's 0.0% (limit 5 points) after 12 canary items";
		expect(state.channels.production.canary!.frozen!.reason).toBe(reason);
		expect(state.history.at(-1)).toMatchObject({ action: 'freeze', channel: 'production', canaryId, version: 1, from: 2, reason });
		const yaml = await fs.readFile(path.join(registry.root, 'canary-bad', 'releases.yaml'), 'utf8');
		expect(yaml).toContain('action: freeze');

		// This process serves stable at once (the freezing node dropped the cache entry): acme too.
		out = jsonOf((await run([node], batch(3, 20))).outputOf('Run'));
		expect(out.every((i) => i.arm === 'stable' && i.version === 1 && i.valid === true)).toBe(true);
		expect((out[0].trace as Record<string, unknown>).canaryId).toBeUndefined();
		// No more outcomes for a frozen canary.
		expect(await registry.store.readOutcomes('canary-bad', canaryId)).toHaveLength(24);
	});

	it('a call that fails on the canary arm (its model is unknown: 404) counts as invalid, with or without continueOnFail, and freezes the canary', async () => {
		const model = promptSpec('canary-404').model;
		const canaryId = await canaryPrompt('canary-404', { segments: ['acme.example'] }, 'freeze:\n  minItems: 3\n  maxInvalidRatePointsAbove: 5\n', { model: { ...model, name: 'no-such-model' } });

		// Without continueOnFail the node fails on the canary item; its outcome is recorded all the same.
		const failed = await run([runNode('canary-404', { options: { maxRetries: 0, concurrency: 1 } })], [mail('globex.example', 1), mail('acme.example', 2)]);
		expect(failed.status).toBe('error');
		let outcomes = await registry.store.readOutcomes('canary-404', canaryId);
		expect(outcomes.filter((o) => o.arm === 'canary')).toEqual([expect.objectContaining({ version: 2, outcome: 'invalid' })]);
		expect((await registry.store.readReleases('canary-404')).channels.production.canary!.frozen).toBeUndefined();

		// With continueOnFail the canary items flow on with valid: false — and count: 3 of 3 invalid → frozen.
		const out = jsonOf((await run([runNode('canary-404', {}, { onError: 'continueRegularOutput' })], [mail('acme.example', 3), mail('acme.example', 4), mail('globex.example', 5)])).outputOf('Run'));
		expect(out.map((i) => [i.arm, i.valid])).toEqual([['canary', false], ['canary', false], ['stable', true]]);
		outcomes = await registry.store.readOutcomes('canary-404', canaryId);
		expect(outcomes.filter((o) => o.arm === 'canary').map((o) => o.outcome)).toEqual(['invalid', 'invalid', 'invalid']);
		const state = await registry.store.readReleases('canary-404');
		expect(state.channels.production.canary!.frozen!.reason).toBe("canary invalid rate 100.0% is 100 points above stable's 0.0% (limit 5 points) after 3 canary items");
		expect(state.history.at(-1)).toMatchObject({ action: 'freeze', canaryId });

		// Extract Signal records a failed signal call the same way (the canary is frozen now: stable serves).
		const extract: HarnessNode = {
			name: 'Extract',
			type: EXTRACT,
			parameters: {
				signals: { signal: [{ field: 'flag', prompt: 'canary-404', release: 'production' }] },
				variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
				routingKey: "={{ $json.from.split('@')[1] }}",
				options: { maxRetries: 0 },
			},
		};
		const after = await run([extract], [mail('acme.example', 6)]);
		expect(jsonOf(after.outputOf('Extract', 0))[0]).toMatchObject({ flag: true, _signals: { flag: { arm: 'stable', version: 1 } } });
	});

	it('Extract Signal: a failed signal call on the canary arm counts as invalid', async () => {
		const model = promptSpec('canary-404-extract').model;
		const canaryId = await canaryPrompt('canary-404-extract', { segments: ['acme.example'] }, undefined, { model: { ...model, name: 'no-such-model' } });
		const node: HarnessNode = {
			name: 'Extract',
			type: EXTRACT,
			parameters: {
				signals: { signal: [{ field: 'flag', prompt: 'canary-404-extract', release: 'production' }] },
				variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
				routingKey: "={{ $json.from.split('@')[1] }}",
				options: { maxRetries: 0 },
			},
			onError: 'continueErrorOutput',
		};
		const result = await run([node], [mail('acme.example', 1), mail('globex.example', 2)]);
		expect((jsonOf(result.outputOf('Extract', 1))[0]._invalid as Array<Record<string, unknown>>)[0]).toMatchObject({ field: 'flag', arm: 'canary', version: 2 });
		const outcomes = await registry.store.readOutcomes('canary-404-extract', canaryId);
		expect(outcomes.map((o) => [o.arm, o.outcome]).sort()).toEqual([['canary', 'invalid'], ['stable', 'valid']]);
	});

	it('correction-rate rule: corrections recorded by Record Correction count against the arm that served, and freeze the canary', async () => {
		resetOutcomeRecorders({ freezeCheckIntervalMs: 0 });
		const canaryId = await canaryPrompt('canary-corr', { segments: ['acme.example'] }, 'freeze:\n  minItems: 4\n  maxCorrectionRatePointsAbove: 20\n');
		const items = [...[1, 2, 3, 4].map((i) => mail('acme.example', i)), ...[5, 6, 7, 8].map((i) => mail('globex.example', i))];
		const served = (await run([runNode('canary-corr')], items)).outputOf('Run');
		expect(jsonOf(served).map((i) => i.arm)).toEqual(['canary', 'canary', 'canary', 'canary', 'stable', 'stable', 'stable', 'stable']);
		expect((await registry.store.readReleases('canary-corr')).channels.production.canary!.frozen).toBeUndefined();

		// A reviewer corrects the first canary answer: 1 of 4 = 25 points above stable's 0 (limit 20).
		const correct: HarnessNode = {
			name: 'Correct',
			type: CORRECT,
			parameters: { source: 'runPromptRelease', correctedValue: 'false' },
		};
		const result = await run([correct], [served[0]]);
		expect(result.status).toBe('success');
		expect(jsonOf(result.outputOf('Correct'))[0]).toMatchObject({ fixture: { promptId: 'canary-corr', expected: false } });
		const outcomes = await registry.store.readOutcomes('canary-corr', canaryId);
		expect(outcomes.filter((o) => o.outcome === 'corrected')).toEqual([expect.objectContaining({ arm: 'canary', version: 2 })]);
		const state = await registry.store.readReleases('canary-corr');
		expect(state.channels.production.canary!.frozen!.reason).toBe("canary correction rate 25.0% is 25 points above stable's 0.0% (limit 20 points) after 4 canary items");
	});

	it('a correction counts once per canary and fixture, and only when it changes the served answer', async () => {
		const canaryId = await canaryPrompt('canary-corr-once', { segments: ['acme.example'] });
		const served = (await run([runNode('canary-corr-once', {}, { onError: 'continueRegularOutput' })], [mail('acme.example', 1), mail('acme.example', 2), mail('acme.example', 7), mail('globex.example', 4)])).outputOf('Run');
		expect(jsonOf(served).map((i) => [i.arm, i.valid])).toEqual([['canary', true], ['canary', true], ['canary', false], ['stable', true]]);
		const correct = (value: string): HarnessNode => ({ name: 'Correct', type: CORRECT, parameters: { source: 'runPromptRelease', correctedValue: value } });
		const corrected = async () => (await registry.store.readOutcomes('canary-corr-once', canaryId)).filter((o) => o.outcome === 'corrected');

		// A changed answer counts…
		let result = await run([correct('false')], [served[0]]);
		expect(jsonOf(result.outputOf('Correct'))[0]).toMatchObject({ fixture: { created: true, expected: false } });
		expect(await corrected()).toHaveLength(1);
		// …once: the same correction again (the fixture is updated, not created) adds none.
		result = await run([correct('false')], [served[0]]);
		expect(jsonOf(result.outputOf('Correct'))[0]).toMatchObject({ fixture: { created: false, expected: false } });
		expect(await corrected()).toHaveLength(1);
		// Confirming the served value (a new fixture all the same) adds none, on either arm.
		result = await run([correct('true')], [served[1], served[3]]);
		expect(jsonOf(result.outputOf('Correct')).map((i) => (i.fixture as Record<string, unknown>).created)).toEqual([true, true]);
		expect(await corrected()).toHaveLength(1);
		// An item served no valid value always counts, even corrected to what the stable arm would say.
		await run([correct('true')], [served[2]]);
		expect((await corrected()).map((o) => o.arm)).toEqual(['canary', 'canary']);
	});

	it('a stable-arm correction does not freeze the canary', async () => {
		const canaryId = await canaryPrompt('canary-stable-corr', { segments: ['acme.example'] }, 'freeze:\n  minItems: 1\n  maxCorrectionRatePointsAbove: 10\n');
		const served = (await run([runNode('canary-stable-corr')], [mail('acme.example', 1), mail('globex.example', 2)])).outputOf('Run');
		await run([{ name: 'Correct', type: CORRECT, parameters: { source: 'runPromptRelease', correctedValue: 'false' } }], [served[1]]);
		const outcomes = await registry.store.readOutcomes('canary-stable-corr', canaryId);
		expect(outcomes.filter((o) => o.outcome === 'corrected')).toEqual([expect.objectContaining({ arm: 'stable', version: 1 })]);
		expect((await registry.store.readReleases('canary-stable-corr')).channels.production.canary!.frozen).toBeUndefined();
	});
});
