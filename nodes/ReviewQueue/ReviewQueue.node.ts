import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { resolvePrompt } from '../../lib/registry/resolve';
import type { RegistryStore } from '../../lib/registry/store';
import { reviewForm } from '../../lib/review/form';
import { REVIEW_STATUSES, type ReviewCase, type ReviewStatus } from '../../lib/review/types';
import type { OutputSchema } from '../../lib/types';
import { promptLocator } from '../shared/descriptions';
import { errorOutputField, toNodeError } from '../shared/errors';
import { promptMethods } from '../shared/prompt-search';
import { getRegistryStore } from '../shared/registry';

type Operation = 'getNext' | 'dismiss' | 'list';

/** Get Next Case has two outputs (case, queue empty), the others one. Self-contained: n8n evaluates its source text. */
const configuredOutputs = (parameters: { operation?: string }) =>
	parameters.operation === 'dismiss' || parameters.operation === 'list'
		? [{ type: 'main', displayName: 'cases' }]
		: [
				{ type: 'main', displayName: 'case' },
				{ type: 'main', displayName: 'queue empty' },
			];

const forOperations = (operations: Operation[], property: INodeProperties): INodeProperties => ({ ...property, displayOptions: { show: { operation: operations } } });

/** A case as an item: everything the analyst and the workflow need (the form is added by Get Next Case). */
function caseJson(kase: ReviewCase): IDataObject {
	return {
		caseId: kase.id,
		prompt: kase.promptId,
		version: kase.version,
		kind: kase.kind,
		reason: kase.reason,
		modelOutput: kase.modelOutput as IDataObject[string],
		inputs: kase.inputs as IDataObject,
		occurrences: kase.occurrences,
		firstSeen: kase.firstSeen,
		lastSeen: kase.lastSeen,
		arm: kase.arm ?? null,
		channel: kase.channel ?? null,
		...(kase.canaryId ? { canaryId: kase.canaryId } : {}),
		...(kase.finishReason ? { finishReason: kase.finishReason } : {}),
		source: (kase.source ?? {}) as IDataObject,
		status: kase.status,
		...(kase.closed ? { closed: kase.closed as unknown as IDataObject } : {}),
		...(kase.previous ? { previous: kase.previous as unknown as IDataObject } : {}),
	};
}

const byAge = (a: ReviewCase, b: ReviewCase): number =>
	a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : a.promptId < b.promptId ? -1 : a.promptId > b.promptId ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** The prompt parameter: a prompt id, or undefined when empty (every prompt). */
function promptParameter(ctx: IExecuteFunctions, itemIndex: number): string | undefined {
	return String(ctx.getNodeParameter('prompt', itemIndex, '', { extractValue: true }) ?? '').trim() || undefined;
}

// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool -- the queue is a person's work list: an agent must not take cases from the analyst or dismiss them
export class ReviewQueue implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Review Queue',
		name: 'reviewQueue',
		icon: { light: 'file:reviewQueue.svg', dark: 'file:reviewQueue.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ { getNext: "Get next case", dismiss: "Dismiss case", list: "List cases" }[$parameter["operation"]] }}',
		description: 'Cases for a person: the next pending case with a review form for its declared type, dismiss a case, or list cases',
		defaults: { name: 'Review Queue' },
		inputs: [NodeConnectionTypes.Main],
		outputs: `={{(${configuredOutputs})($parameter)}}`,
		credentials: [{ name: 'promptRegistryApi', required: true, testedBy: 'promptRegistryTest' }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Dismiss Case', value: 'dismiss', action: 'Dismiss a review case', description: 'Close a pending case without a fixture, with the reason why none is needed' },
					{
						name: 'Get Next Case',
						value: 'getNext',
						action: 'Get the next review case',
						description: 'The oldest pending case with form fields for its declared answer type (output "case"), or output "queue empty"',
					},
					{ name: 'List Cases', value: 'list', action: 'List review cases', description: 'One item per case, oldest first' },
				],
				default: 'getNext',
			},
			forOperations(['getNext', 'list'], promptLocator({ required: false, description: 'Only cases of this prompt. Empty: every prompt of the registry.' })),
			forOperations(['dismiss'], promptLocator({ description: 'The prompt of the case (the "prompt" field of the case or the form)' })),
			forOperations(['dismiss'], {
				displayName: 'Case ID',
				name: 'caseId',
				type: 'string',
				default: '',
				required: true,
				placeholder: 'e.g. review-3f2a9c0d1e4b5a6f',
				description: 'The case to dismiss: "caseId" of Get Next Case, List Cases or the submitted review form',
			}),
			forOperations(['dismiss'], {
				displayName: 'Reason',
				name: 'reason',
				type: 'string',
				default: '',
				required: true,
				placeholder: 'e.g. spam, not a supplier email',
				description: 'Why no fixture is needed for this case (kept with the case)',
			}),
			forOperations(['list'], {
				displayName: 'Status',
				name: 'status',
				type: 'options',
				options: [
					{ name: 'All', value: 'all' },
					{ name: 'Dismissed', value: 'dismissed' },
					{ name: 'Pending', value: 'pending' },
					{ name: 'Resolved', value: 'resolved' },
				],
				default: 'pending',
				description: 'Which cases to list',
			}),
			forOperations(['list'], {
				displayName: 'Limit',
				name: 'limit',
				type: 'number',
				default: 50,
				typeOptions: { minValue: 1 },
				description: 'Max number of results to return',
			}),
		],
	};

	methods = promptMethods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const operation = this.getNodeParameter('operation', 0, 'getNext') as Operation;
		const store = await getRegistryStore(this);
		const queue = new CaseQueue(store, this.getNode());
		if (operation === 'getNext') return await getNext(this, queue);
		if (operation === 'dismiss') return [await perItem(this, queue, dismiss)];
		if (operation === 'list') return [await perItem(this, queue, list)];
		throw new NodeOperationError(this.getNode(), `Unknown operation "${String(operation)}"`, { description: 'Choose Get Next Case, Dismiss Case or List Cases.' });
	}
}

/** The registry's cases as one execution reads them: each prompt's list and each version's output type once. */
class CaseQueue {
	private prompts?: Promise<string[]>;
	private readonly outputs = new Map<string, Promise<OutputSchema>>();
	private readonly pendingLists = new Map<string, Promise<ReviewCase[]>>();

	constructor(
		readonly store: RegistryStore,
		readonly node: INode,
	) {}

	/** Throws a NodeOperationError listing the registry's prompts when `promptId` is not one of them. */
	async checkPrompt(promptId: string, itemIndex: number): Promise<void> {
		const known = await (this.prompts ??= this.store.listPrompts());
		if (!known.includes(promptId)) {
			throw new NodeOperationError(this.node, `prompt "${promptId}" not found in registry ${this.store.location}`, {
				itemIndex,
				description: known.length ? `Prompts: ${known.join(', ')}.` : 'The registry holds no prompts.',
			});
		}
	}

	/** Cases of one prompt, or of every prompt (undefined), oldest first; with `status`, only those. */
	async cases(promptId: string | undefined, status: ReviewStatus | undefined, itemIndex: number): Promise<ReviewCase[]> {
		if (promptId) {
			await this.checkPrompt(promptId, itemIndex);
			return await this.store.listReviews(promptId, status);
		}
		const ids = await (this.prompts ??= this.store.listPrompts());
		const all = await Promise.all(ids.map(async (id) => await this.store.listReviews(id, status)));
		return all.flat().sort(byAge);
	}

	/** The pending cases of a filter, read once per execution (Get Next Case hands them out in order). */
	pending(promptId: string | undefined, itemIndex: number): Promise<ReviewCase[]> {
		const key = promptId ?? '';
		let list = this.pendingLists.get(key);
		if (!list) this.pendingLists.set(key, (list = this.cases(promptId, 'pending', itemIndex)));
		return list;
	}

	/** The declared output type of the version that answered the case. */
	output(kase: ReviewCase): Promise<OutputSchema> {
		const key = `${kase.promptId}@${kase.version}`;
		let output = this.outputs.get(key);
		if (!output) this.outputs.set(key, (output = resolvePrompt(this.store, kase.promptId, { version: kase.version }).then((r) => r.spec.output)));
		return output;
	}
}

/** Run `operation` per input item; errors name the item (continueOnFail: an item with `error`). */
async function perItem(ctx: IExecuteFunctions, queue: CaseQueue, operation: (ctx: IExecuteFunctions, queue: CaseQueue, i: number) => Promise<IDataObject[]>): Promise<INodeExecutionData[]> {
	const out: INodeExecutionData[] = [];
	const items = ctx.getInputData();
	for (let i = 0; i < items.length; i++) {
		try {
			for (const json of await operation(ctx, queue, i)) out.push({ json, pairedItem: { item: i } });
		} catch (error) {
			const wrapped = toNodeError(queue.node, error, { itemIndex: i });
			if (!ctx.continueOnFail()) throw wrapped;
			out.push({ json: { error: wrapped.message }, ...errorOutputField(queue.node, wrapped), pairedItem: { item: i } });
		}
	}
	return out;
}

/**
 * Get Next Case: the oldest pending case (of the prompt, or of every prompt) on output "case", with its
 * review form; several input items get successive cases. No case left: an item on output "queue empty".
 */
async function getNext(ctx: IExecuteFunctions, queue: CaseQueue): Promise<INodeExecutionData[][]> {
	const found: INodeExecutionData[] = [];
	const empty: INodeExecutionData[] = [];
	const handedOut = new Map<string, number>();
	const items = ctx.getInputData();
	for (let i = 0; i < items.length; i++) {
		try {
			const promptId = promptParameter(ctx, i);
			const pending = await queue.pending(promptId, i);
			const n = handedOut.get(promptId ?? '') ?? 0;
			const kase = pending[n];
			if (!kase) {
				empty.push({ json: { pending: 0, prompt: promptId ?? null, message: 'Nothing to review' }, pairedItem: { item: i } });
				continue;
			}
			handedOut.set(promptId ?? '', n + 1);
			/** Cases waiting, this one included. */
			const left = pending.length - n;
			// Queued again after it was answered: show what the fixture says now.
			const earlier = kase.previous?.fixtureId ? await queue.store.readFixture(kase.promptId, kase.previous.fixtureId).catch(() => undefined) : undefined;
			const form = reviewForm(kase, await queue.output(kase), left, earlier);
			found.push({ json: { ...caseJson(kase), pending: left, form: form as unknown as IDataObject }, pairedItem: { item: i } });
		} catch (error) {
			const wrapped = toNodeError(queue.node, error, { itemIndex: i });
			if (!ctx.continueOnFail()) throw wrapped;
			found.push({ json: { error: wrapped.message }, ...errorOutputField(queue.node, wrapped), pairedItem: { item: i } });
		}
	}
	return [found, empty];
}

/** Dismiss Case: close a pending case with a reason; a case closed before stays as it was (alreadyClosed: true). */
async function dismiss(ctx: IExecuteFunctions, queue: CaseQueue, i: number): Promise<IDataObject[]> {
	const node = queue.node;
	const promptId = promptParameter(ctx, i);
	if (!promptId) throw new NodeOperationError(node, 'No prompt selected', { itemIndex: i, description: 'Choose the prompt of the case in "Prompt" (e.g. {{ $json.prompt }}).' });
	const caseId = String(ctx.getNodeParameter('caseId', i, '') ?? '').trim();
	if (!caseId) throw new NodeOperationError(node, 'Case ID is empty', { itemIndex: i, description: 'Map the case to dismiss, e.g. {{ $json.caseId }}.' });
	const reason = String(ctx.getNodeParameter('reason', i, '') ?? '').trim();
	if (!reason) throw new NodeOperationError(node, `Reason is empty: say why case "${caseId}" needs no fixture`, { itemIndex: i, description: 'e.g. "spam" or "not a supplier email".' });
	await queue.checkPrompt(promptId, i);
	const at = new Date().toISOString();
	const closed = await queue.store.closeReview(promptId, caseId, { status: 'dismissed', at, reason });
	if (!closed) {
		throw new NodeOperationError(node, `no review case "${caseId}" for prompt "${promptId}"`, {
			itemIndex: i,
			description: 'Take the case id from Get Next Case, List Cases or the submitted review form, with the prompt it belongs to.',
		});
	}
	const mine = closed.status === 'dismissed' && closed.closed?.at === at && closed.closed.reason === reason;
	return [{ ...caseJson(closed), alreadyClosed: !mine }];
}

/** List Cases: one item per case of the prompt (or of every prompt), oldest first, at most Limit. */
async function list(ctx: IExecuteFunctions, queue: CaseQueue, i: number): Promise<IDataObject[]> {
	const status = ctx.getNodeParameter('status', i, 'pending') as string;
	if (status !== 'all' && !(REVIEW_STATUSES as readonly string[]).includes(status)) {
		throw new NodeOperationError(queue.node, `Status "${status}" is not allowed`, { itemIndex: i, description: 'Choose Pending, Resolved, Dismissed or All.' });
	}
	const limit = Math.floor(Number(ctx.getNodeParameter('limit', i, 50)));
	if (!Number.isFinite(limit) || limit < 1) throw new NodeOperationError(queue.node, `Limit must be a whole number of 1 or more, got ${String(limit)}`, { itemIndex: i });
	const cases = await queue.cases(promptParameter(ctx, i), status === 'all' ? undefined : (status as ReviewStatus), i);
	return cases.slice(0, limit).map(caseJson);
}
