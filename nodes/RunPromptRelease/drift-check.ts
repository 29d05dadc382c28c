/**
 * The "Check Drift" operation of Run Prompt Release: for each item, rerun the fixtures of the version
 * released on a channel with fresh answers (no response cache) and compare them answer by answer with the
 * run behind the release (lib/drift.ts). One output item per input item: `changed`, the changed fixtures
 * with their answers before and now (the first 100, `changedCount` counts all), and a Markdown `report`
 * ready for an alert. Schedule it daily
 * (Schedule Trigger → this → IF changed → alert): see examples/workflows/model-drift-check.json.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { checkDrift, driftMarkdown } from '../../lib/drift';
import { concurrencyOf } from '../shared/concurrency';
import { errorOutputField, toNodeError } from '../shared/errors';
import { callEnvironment } from '../shared/prompt-call';
import type { ModelCallOptionValues } from '../shared/descriptions';

/** The operation's own parameters (shown only for Check Drift). */
export const driftProperties: INodeProperties[] = [
	{
		displayName: 'Channel',
		name: 'driftChannel',
		type: 'string',
		default: 'production',
		placeholder: 'e.g. production',
		description: 'The channel whose released version is checked',
		displayOptions: { show: { operation: ['checkDrift'] } },
	},
];

export async function executeDriftCheck(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const options = ctx.getNodeParameter('options', 0, {}) as ModelCallOptionValues;
	const env = await callEnvironment(ctx, options);
	const node = ctx.getNode();
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		let promptId: string | undefined;
		try {
			promptId = String(ctx.getNodeParameter('prompt', i, '', { extractValue: true }) ?? '').trim() || undefined;
			if (!promptId) throw new NodeOperationError(node, 'No prompt selected', { itemIndex: i, description: 'Choose the prompt to check in "Prompt".' });
			const channel = String(ctx.getNodeParameter('driftChannel', i, 'production') ?? '').trim() || 'production';
			const pointer = (await env.store.readReleases(promptId)).channels[channel];
			if (!pointer) {
				throw new NodeOperationError(node, `prompt "${promptId}" has nothing released on channel "${channel}"`, { itemIndex: i, description: 'Release a version first, or check another channel.' });
			}
			const released = await env.store.readVersion(promptId, pointer.version);
			// Straight to the model: a cached answer cannot show drift.
			const provider = await env.providers.get(released.prompt.model, promptId);
			const report = await checkDrift(env.store, promptId, { channel, provider, concurrency: concurrencyOf(options.concurrency) });
			const json: IDataObject = {
				changed: report.changed,
				prompt: report.promptId,
				channel: report.channel,
				version: report.version,
				contentHash: report.contentHash,
				model: report.model.name,
				provider: report.model.provider,
				releasedRunId: report.releasedRunId,
				releasedRunAt: report.releasedRunAt,
				checkedAt: report.checkedAt,
				compared: report.compared,
				changedCount: report.changedCount,
				// The first 100 of each, with their answers; the counts count them all.
				changedFixtures: report.changes as unknown as IDataObject[],
				skippedCount: report.skippedCount,
				skipped: report.skipped as unknown as IDataObject[],
				passRate: report.run.summary.passRate,
				costUsd: report.run.summary.costUsd,
				report: driftMarkdown(report),
			};
			out.push({ json, pairedItem: { item: i } });
		} catch (error) {
			if (!ctx.continueOnFail()) throw toNodeError(node, error, { itemIndex: i, promptId });
			const failure = toNodeError(node, error, { itemIndex: i, promptId });
			out.push({ json: { error: failure.message, changed: null, prompt: promptId ?? null }, ...errorOutputField(node, failure), pairedItem: { item: i } });
		}
	}
	return [out];
}
