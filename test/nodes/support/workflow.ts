/** Node types, credentials and small helpers shared by the node tests. */
import type { INodeExecutionData } from 'n8n-workflow';
import { PromptRegistryApi } from '../../../credentials/PromptRegistryApi.credentials';
import { ExtractSignal } from '../../../nodes/ExtractSignal/ExtractSignal.node';
import { RecordCorrection } from '../../../nodes/RecordCorrection/RecordCorrection.node';
import { ReviewQueue } from '../../../nodes/ReviewQueue/ReviewQueue.node';
import { RunPromptRelease } from '../../../nodes/RunPromptRelease/RunPromptRelease.node';
import type { ModelServer } from '../../../lib/testing/model-server';
import type { HarnessCredential } from '../../support/n8n-harness';

export const RUN = 'n8n-nodes-prompt-release.runPromptRelease';
export const EXTRACT = 'n8n-nodes-prompt-release.extractSignal';
export const CORRECT = 'n8n-nodes-prompt-release.recordCorrection';
export const REVIEW = 'n8n-nodes-prompt-release.reviewQueue';

export const nodeTypes = {
	[RUN]: new RunPromptRelease(),
	[EXTRACT]: new ExtractSignal(),
	[CORRECT]: new RecordCorrection(),
	[REVIEW]: new ReviewQueue(),
};

export const credentialTypes = [new PromptRegistryApi()];

/** Our registry credential + openAiApi / anthropicApi credentials whose Base URL is the loopback model server. */
export function credentials(registryPath: string, server: ModelServer): Record<string, HarnessCredential> {
	return {
		promptRegistryApi: { data: { registryPath } },
		openAiApi: { data: { apiKey: 'sk-node-test', organizationId: '', url: server.openaiBaseUrl } },
		anthropicApi: { data: { apiKey: 'sk-ant-node-test', url: server.anthropicBaseUrl } },
	};
}

export const emails = {
	increase: 'Dear customer, due to raw material costs we announce a price increase. The new unit price is 12.50 EUR from 1 March.',
	noChange: 'Hello, your order 4711 has shipped today and will arrive on time. Kind regards.',
	delay: 'Unfortunately delivery of order 815 is delayed by 14 days because of a strike.',
	vague: 'The shipment will be late, roughly two weeks, sorry.',
};

export function jsonOf(items: INodeExecutionData[]): Array<Record<string, unknown>> {
	return items.map((item) => item.json as Record<string, unknown>);
}

export function expectPaired(items: INodeExecutionData[], indexes: number[]): void {
	expect(items.map((item) => item.pairedItem)).toEqual(indexes.map((item) => ({ item })));
}
