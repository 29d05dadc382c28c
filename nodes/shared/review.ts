/**
 * The review queue for the model-calling nodes (Extract Signal, Run Prompt Release): the "Queue for Review"
 * and "Audit Sample (%)" options, and a per-execution collector. Invalid items (and the audit sample of valid
 * ones) are collected while the node runs and written at the end with ONE store.queueReviews call per prompt
 * (like the canary outcomes). A failed write never stops the items: each queued item says
 * `review: { caseId, kind, queued: false, error }` and the node logs a warning.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';
import { declaredInputs } from '../../lib/corrections';
import type { RegistryStore } from '../../lib/registry/store';
import { inAuditSample } from '../../lib/review/audit';
import { reviewCaseId, type ReviewKind, type ReviewRequest, type ReviewSource } from '../../lib/review/types';
import type { ResolvedPrompt } from '../../lib/types';

export const reviewOptions: INodeProperties[] = [
	{
		displayName: 'Queue for Review',
		name: 'reviewQueue',
		type: 'options',
		options: [
			{ name: 'Off', value: 'off', description: 'Invalid items only go to the invalid output' },
			{
				name: 'Invalid Items',
				value: 'invalid',
				description: 'Every invalid answer also becomes a pending case for a person (Review Queue node, review form); one case per prompt and inputs',
			},
		],
		default: 'off',
		description: 'Whether invalid answers are queued for a person to answer. Items whose prompt or variables cannot be read are not queued: there is no answer to review, the workflow needs fixing.',
	},
	{
		displayName: 'Audit Sample (%)',
		name: 'auditPercent',
		type: 'number',
		default: 0,
		typeOptions: { minValue: 0, maxValue: 100 },
		description: 'Share of VALID answers queued for a person to check too. Sticky per routing key: the same key (e.g. a supplier) is always in or always out. 0: none.',
	},
];

export interface ReviewOptionValues {
	reviewQueue?: string;
	auditPercent?: number;
}

/** What an item carries about its review case. `queued: false` and `error` only when the queue write failed. */
export interface ReviewMark extends IDataObject {
	caseId: string;
	kind: ReviewKind;
}

/** Where in the execution the item is (the source of the case). */
export interface QueueSite {
	itemIndex: number;
	/** Extract Signal: the signal's output field. */
	field?: string;
	/** The Routing Key parameter when set (not the variables standing in for it). */
	routingKey?: string;
}

/** What the model answered for one item (a CallResult, or nothing when the call failed). */
export interface AnswerFacts {
	reason?: string;
	/** Invalid: the raw text (null when none); audit: the checked value. */
	modelOutput: unknown;
	finishReasons?: string[];
}

/** Collects the review requests of one node execution; `flush` writes them, one call per prompt. */
export class ReviewQueuer {
	private readonly pending = new Map<string, Array<{ request: ReviewRequest; mark: ReviewMark }>>();

	private constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly store: RegistryStore,
		readonly queueInvalid: boolean,
		readonly auditPercent: number,
	) {}

	/** From the node's options; throws a NodeOperationError naming the option when a value is not allowed. */
	static fromOptions(ctx: IExecuteFunctions, store: RegistryStore, options: ReviewOptionValues): ReviewQueuer {
		const node = ctx.getNode();
		const mode = options.reviewQueue ?? 'off';
		if (mode !== 'off' && mode !== 'invalid') {
			throw new NodeOperationError(node, `Options: Queue for Review "${String(mode)}" is not allowed`, { description: 'Choose Off or Invalid Items.' });
		}
		const percent = options.auditPercent === undefined || options.auditPercent === null ? 0 : Number(options.auditPercent);
		if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
			throw new NodeOperationError(node, `Options: Audit Sample (%) must be a number from 0 to 100, got ${JSON.stringify(options.auditPercent)}`, {
				description: 'Enter the share of valid answers to queue for a person, e.g. 2 for 2 %, or 0 for none.',
			});
		}
		return new ReviewQueuer(ctx, store, mode === 'invalid', percent);
	}

	/** Whether valid answers are sampled (the routing key is then needed for every item). */
	get auditing(): boolean {
		return this.auditPercent > 0;
	}

	/** Queue an invalid answer; undefined when Queue for Review is off. */
	invalid(resolved: ResolvedPrompt, variables: Record<string, unknown>, answer: AnswerFacts, site: QueueSite): ReviewMark | undefined {
		if (!this.queueInvalid) return undefined;
		return this.add('invalid', resolved, variables, answer, site);
	}

	/** Queue a valid answer when its routing key is in the audit sample of its prompt; else undefined. */
	audit(resolved: ResolvedPrompt, variables: Record<string, unknown>, answer: AnswerFacts, site: QueueSite, routingKey: string): ReviewMark | undefined {
		if (!inAuditSample(resolved.promptId, routingKey, this.auditPercent)) return undefined;
		return this.add('audit', resolved, variables, { ...answer, reason: 'audit sample' }, site);
	}

	private add(kind: ReviewKind, resolved: ResolvedPrompt, variables: Record<string, unknown>, answer: AnswerFacts, site: QueueSite): ReviewMark {
		// The case id must equal the one a correction of these inputs resolves: declared inputs only.
		const inputs = declaredInputs(resolved.spec, variables);
		const source: ReviewSource = {
			...(site.routingKey !== undefined ? { routingKey: site.routingKey } : {}),
			workflowId: this.ctx.getWorkflow().id,
			executionId: this.ctx.getExecutionId(),
			node: this.ctx.getNode().name,
			itemIndex: site.itemIndex,
			...(site.field ? { field: site.field } : {}),
		};
		const finishReason = answer.finishReasons?.length ? answer.finishReasons[answer.finishReasons.length - 1] : undefined;
		const request: ReviewRequest = {
			kind,
			version: resolved.version,
			contentHash: resolved.contentHash,
			inputs,
			modelOutput: answer.modelOutput ?? null,
			reason: answer.reason ?? kind,
			...(finishReason ? { finishReason } : {}),
			...(resolved.channel ? { channel: resolved.channel } : {}),
			...(resolved.arm ? { arm: resolved.arm } : {}),
			...(resolved.canaryId ? { canaryId: resolved.canaryId } : {}),
			source,
			at: new Date().toISOString(),
		};
		const mark: ReviewMark = { caseId: reviewCaseId(inputs), kind };
		let list = this.pending.get(resolved.promptId);
		if (!list) this.pending.set(resolved.promptId, (list = []));
		list.push({ request, mark });
		return mark;
	}

	/** Write what was collected (one queueReviews call per prompt); failures mark the items and are logged, never thrown. */
	async flush(): Promise<void> {
		const batches = [...this.pending.entries()];
		this.pending.clear();
		const store = this.store;
		await Promise.all(
			batches.map(async ([promptId, entries]) => {
				try {
					await store.queueReviews(
						promptId,
						entries.map((e) => e.request),
					);
				} catch (error) {
					const message = error instanceof Error ? error.message : String(error);
					for (const { mark } of entries) Object.assign(mark, { queued: false, error: `not queued for review: ${message}` });
					this.ctx.logger.warn(`prompt-release: could not queue ${entries.length} review case(s) of "${promptId}": ${message}. The items went on with review.queued: false.`);
				}
			}),
		);
	}
}
