/**
 * Outcomes of items served from a channel without a canary, in real n8n-core workflow runs: Run Prompt
 * Release and Extract Signal append them to the channel's served log (one batch per execution), Record
 * Correction counts corrections there, pinned versions and drafts record nothing, and `metrics` reports
 * the rates per channel and version.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { INodeExecutionData } from 'n8n-workflow';
import { collectMetrics } from '../../lib/metrics/collect';
import { servedLogId } from '../../lib/outcomes';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { sharedReleaseCache } from '../../lib/release-cache';
import { startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { resetOutcomeRecorders } from '../../nodes/shared/outcomes';
import { connect, runWorkflow, type HarnessNode } from '../support/n8n-harness';
import { addPrompt, commitAndRelease, promptSpec, tempRegistry, type TempRegistry } from './support/registry';
import { CORRECT, EXTRACT, RUN, credentialTypes, credentials, jsonOf, nodeTypes } from './support/workflow';

let server: ModelServer;
let registry: TempRegistry;

/** "Order 3" and "Order 7" get an answer that is not a boolean; everything else `true`. */
const rules = {
	models: ['test-model'],
	rules: [
		{ prompt: 'served-run', when: 'Order 3 ', raw: 'maybe' },
		{ prompt: 'served-run', value: true },
		{ prompt: 'served-extract', when: 'Order 7 ', raw: 'maybe' },
		{ prompt: 'served-extract', value: true },
	],
};

const anyEmail = { id: 'any', inputs: { email_body: 'hello' }, expected: true, source: 'manual' as const };

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

async function run(nodes: HarnessNode[], triggerItems: INodeExecutionData[]) {
	const links = nodes.map((n, i): [string, string] => [i === 0 ? 'Trigger' : nodes[i - 1].name, n.name]);
	return await runWorkflow({ nodeTypes, nodes, connections: connect(...links), credentials: credentials(registry.root, server), credentialTypes, triggerItems });
}

const mail = (i: number): INodeExecutionData => ({ json: { from: `buyer${i}@acme.example`, body: `Order ${i} from acme` } });

function runNode(promptId: string, release: Record<string, unknown> = {}): HarnessNode {
	return {
		name: 'Run',
		type: RUN,
		parameters: {
			prompt: { __rl: true, mode: 'id', value: promptId },
			variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
			options: { maxRetries: 0 },
			...release,
		},
		onError: 'continueRegularOutput',
	};
}

const correct = (parameters: HarnessNode['parameters']): HarnessNode => ({ name: 'Correct', type: CORRECT, parameters });

/** The outcome logs of a prompt (folder names of the file store). */
async function logs(promptId: string): Promise<string[]> {
	return (await fs.readdir(path.join(registry.root, promptId, 'outcomes')).catch(() => [] as string[])).sort();
}

describe('outcomes of items served without a canary', () => {
	it('Run Prompt Release: every item from a channel lands in its served log; pinned versions and drafts record nothing; metrics reports the rates', async () => {
		const { store } = registry;
		await addPrompt(store, promptSpec('served-run'), [anyEmail]);
		await commitAndRelease(store, server, 'served-run'); // v1 on production
		await store.writeDraft(promptSpec('served-run', { template: 'v-two {{email_body}}' }));
		await commitAndRelease(store, server, 'served-run', 'staging'); // v2 on staging

		const served = (await run([runNode('served-run')], [1, 2, 3, 4].map(mail))).outputOf('Run');
		expect(jsonOf(served).map((i) => [i.arm, i.version, i.valid])).toEqual([['stable', 1, true], ['stable', 1, true], ['stable', 1, false], ['stable', 1, true]]);
		const production = servedLogId('production')!;
		let records = await store.readOutcomes('served-run', production);
		expect(records.map((r) => [r.arm, r.version, r.outcome]).sort()).toEqual([['stable', 1, 'invalid'], ['stable', 1, 'valid'], ['stable', 1, 'valid'], ['stable', 1, 'valid']]);

		await run([runNode('served-run', { channel: 'staging' })], [mail(5)]);
		expect(await store.readOutcomes('served-run', servedLogId('staging')!)).toEqual([expect.objectContaining({ arm: 'stable', version: 2, outcome: 'valid' })]);

		// A pinned version and the draft are not channels: nothing recorded, no new log.
		const pinned = (await run([runNode('served-run', { release: 'version', version: 1 })], [mail(1), mail(3)])).outputOf('Run');
		expect(jsonOf(pinned).map((i) => [i.arm ?? null, i.version])).toEqual([[null, 1], [null, 1]]);
		await run([runNode('served-run', { release: 'draft' })], [mail(1)]);
		expect(await logs('served-run')).toEqual(['served-production', 'served-staging']);
		expect(await store.readOutcomes('served-run', production)).toHaveLength(4);

		// Corrections of channel-served items count once per fixture, and only for a changed answer.
		const fromRun = (value: string) => correct({ source: 'runPromptRelease', correctedValue: value });
		const corrected = async () => (await store.readOutcomes('served-run', production)).filter((r) => r.outcome === 'corrected');
		await run([fromRun('false')], [served[0]]);
		expect(await corrected()).toEqual([expect.objectContaining({ arm: 'stable', version: 1 })]);
		await run([fromRun('false')], [served[0]]); // the same correction again
		expect(await corrected()).toHaveLength(1);
		await run([fromRun('true')], [served[1]]); // confirms the served answer
		expect(await corrected()).toHaveLength(1);
		await run([fromRun('true')], [served[2]]); // served no valid value: always a change
		expect(await corrected()).toHaveLength(2);
		await run([fromRun('false')], [pinned[0]]); // a pinned version's item: no log
		expect(await corrected()).toHaveLength(2);
		expect(await logs('served-run')).toEqual(['served-production', 'served-staging']);

		// Once the channel serves the version anew (a later `since`), the fixture counts again for it.
		await store.updateReleases('served-run', (state) => ({ ...state, channels: { ...state.channels, production: { ...state.channels.production, since: new Date(Date.now() + 1000).toISOString() } } }));
		await new Promise((resolve) => setTimeout(resolve, 1100));
		await run([fromRun('false')], [served[0]]);
		expect(await corrected()).toHaveLength(3);

		const report = await collectMetrics(store, { since: new Date(Date.now() - 3_600_000), prompts: ['served-run'] });
		expect(report.prompts[0].outcomes).toEqual([
			{ version: 1, arm: 'stable', source: 'served', channel: 'production', items: 4, invalid: 1, corrected: 3, invalidRate: 0.25, correctionRate: 0.75 },
			{ version: 2, arm: 'stable', source: 'served', channel: 'staging', items: 1, invalid: 0, corrected: 0, invalidRate: 0, correctionRate: 0 },
		]);
		records = await store.readOutcomes('served-run', production);
		expect(records).toHaveLength(7);
	});

	it('Extract Signal: valid and invalid signals land in the served log, one append per execution; a correction of the invalid item counts there', async () => {
		const { store } = registry;
		await addPrompt(store, promptSpec('served-extract'), [anyEmail]);
		await commitAndRelease(store, server, 'served-extract');
		const extract: HarnessNode = {
			name: 'Extract',
			type: EXTRACT,
			parameters: {
				signals: { signal: [{ field: 'flag', prompt: 'served-extract', release: 'production' }] },
				variables: { variable: [{ name: 'email_body', value: '={{ $json.body }}' }] },
				options: { maxRetries: 0 },
			},
		};
		const appends = jest.spyOn(FileRegistryStore.prototype, 'appendOutcomes');
		const result = await run([extract], [mail(6), mail(7), mail(8)]);
		// One batch per execution.
		expect(appends.mock.calls.map(([promptId, logId, records]) => [promptId, logId, records.length])).toEqual([['served-extract', 'served-production', 3]]);
		appends.mockRestore();
		const [valid, invalid] = result.outputsOf('Extract');
		expect(jsonOf(valid).map((i) => i.flag)).toEqual([true, true]);
		expect(jsonOf(invalid)).toHaveLength(1);
		const log = servedLogId('production')!;
		expect((await store.readOutcomes('served-extract', log)).map((r) => [r.arm, r.version, r.outcome]).sort()).toEqual([['stable', 1, 'invalid'], ['stable', 1, 'valid'], ['stable', 1, 'valid']]);

		await run([correct({ source: 'extractSignal', correctedValue: 'false' })], invalid);
		expect((await store.readOutcomes('served-extract', log)).filter((r) => r.outcome === 'corrected')).toEqual([expect.objectContaining({ arm: 'stable', version: 1 })]);
		expect(await logs('served-extract')).toEqual(['served-production']);
	});
});
