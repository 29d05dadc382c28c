import pLimit from 'p-limit';
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { pickArm } from '../../lib/registry/resolve';
import type { ResolvedPrompt } from '../../lib/types';
import { concurrencyOf, lookahead, mapLimited } from '../shared/concurrency';
import {
	byDisplayName,
	concurrencyOption,
	modelCallOptions,
	promptLocator,
	releaseProperties,
	variableProperties,
	type ModelCallOptionValues,
} from '../shared/descriptions';
import { cancelledError, errorOutputField, toNodeError } from '../shared/errors';
import { flushOutcomes, recordOutcome, routingKeyOf, routingKeyParameter, routingKeyProperty } from '../shared/outcomes';
import { callEnvironment, callPrompt, declaredNames, metaJson, metaOfResolved, prepareVariables, resolveRelease, traceOf } from '../shared/prompt-call';
import { promptMethods } from '../shared/prompt-search';
import { readReleaseRef } from '../shared/release-ref';
import { ReviewQueuer, reviewOptions, type QueueSite, type ReviewMark, type ReviewOptionValues } from '../shared/review';
import { readVariables } from '../shared/variables';
import { driftProperties, executeDriftCheck } from './drift-check';

/** Shown only for the Run operation (the default, so workflows saved before operations existed keep running). */
function forRun(property: INodeProperties): INodeProperties {
	return { ...property, displayOptions: { ...property.displayOptions, show: { ...property.displayOptions?.show, operation: ['run'] } } };
}

/** The item's `review` field, when the item was queued. */
function reviewField(mark: ReviewMark | undefined): { review?: ReviewMark } {
	return mark ? { review: mark } : {};
}

interface RunOptions extends ModelCallOptionValues, ReviewOptionValues {
	includeInputFields?: boolean;
}

export class RunPromptRelease implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Run Prompt Release',
		name: 'runPromptRelease',
		icon: { light: 'file:runPromptRelease.svg', dark: 'file:runPromptRelease.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ ($parameter["operation"] === "checkDrift" ? "drift: " : "") + ($parameter["prompt"].cachedResultName || $parameter["prompt"].value || "") + " @ " + ($parameter["operation"] === "checkDrift" ? $parameter["driftChannel"] : $parameter["release"] === "version" ? "v" + $parameter["version"] : $parameter["release"] === "draft" ? "draft" : $parameter["channel"]) }}',
		description: 'Call a released, versioned prompt and get a schema-checked value (valid: true), or valid: false with the reason',
		defaults: { name: 'Run Prompt Release' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'promptRegistryApi', required: true, testedBy: 'promptRegistryTest' },
			// Deliberate: n8n's own model credentials, picked at run time by the prompt's model.provider, so a team keeps
			// one OpenAI / Anthropic credential for all its AI nodes. (Self-hosted package: n8n Cloud verification forbids this.)
			// eslint-disable-next-line @n8n/community-nodes/no-credential-reuse, @n8n/community-nodes/valid-credential-references
			{ name: 'openAiApi', required: false, displayName: 'OpenAI (for prompts with provider openai or openai-compatible)' },
			// eslint-disable-next-line @n8n/community-nodes/no-credential-reuse, @n8n/community-nodes/valid-credential-references
			{ name: 'anthropicApi', required: false, displayName: 'Anthropic (for prompts with provider anthropic)' },
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Check Drift',
						value: 'checkDrift',
						action: 'Check a release for model drift',
						description: "Rerun the released version's fixtures with fresh answers and report every answer that changed since the release (changed: true), even when it still passes",
					},
					{ name: 'Run', value: 'run', action: 'Run a prompt release', description: 'Call the released prompt for each item and get a schema-checked value' },
				],
				default: 'run',
			},
			promptLocator(),
			...releaseProperties.map(forRun),
			...variableProperties.map(forRun),
			forRun({ ...routingKeyProperty, displayOptions: { show: { release: ['channel'] } } }),
			...driftProperties,
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: byDisplayName([
					{
						displayName: 'Include Input Fields',
						name: 'includeInputFields',
						type: 'boolean',
						default: false,
						description: 'Whether to keep the input item\'s fields next to the result (the result\'s fields win on a name clash)',
					},
					concurrencyOption,
					...modelCallOptions,
					...reviewOptions.map((option) => ({ ...option, displayOptions: { show: { '/operation': ['run'] } } })),
				]),
			},
		],
	};

	methods = promptMethods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		if (this.getNodeParameter('operation', 0, 'run') === 'checkDrift') return await executeDriftCheck(this);
		const items = this.getInputData();
		const options = this.getNodeParameter('options', 0, {}) as RunOptions;
		const env = await callEnvironment(this, options);
		const review = ReviewQueuer.fromOptions(this, env.store, options);
		const continueOnFail = this.continueOnFail();
		const node = this.getNode();
		const concurrency = concurrencyOf(options.concurrency);
		/** Bounds the model calls in flight over all items. */
		const calls = pLimit(concurrency);

		const runItem = async (i: number, signal: AbortSignal): Promise<INodeExecutionData> => {
			const base: IDataObject = options.includeInputFields ? { ...items[i].json } : {};
			/** The input fields for an item with valid: false: an incoming `value` must not pass as a checked one. */
			const invalidBase = (): IDataObject => {
				const fields = { ...base };
				delete fields.value;
				return fields;
			};
			let resolved: ResolvedPrompt | undefined;
			let variables: Record<string, unknown> = {};
			let promptId: string | undefined;
			/** Whether this item's outcome is buffered for the canary log. */
			let recorded = false;
			/** Whether the variables were read (an item without them has nothing to review). */
			let prepared = false;
			let site: QueueSite = { itemIndex: i };
			try {
				promptId = String(this.getNodeParameter('prompt', i, '', { extractValue: true }) ?? '').trim() || undefined;
				if (!promptId) {
					throw new NodeOperationError(node, 'No prompt selected', { itemIndex: i, description: 'Choose a prompt from the list or enter its ID in "Prompt".' });
				}
				const resolution = await resolveRelease(env, promptId, readReleaseRef(this, i));
				const raw = readVariables(this, i, declaredNames(resolution));
				// The routing key is read only when the channel runs a canary.
				const routingKey = resolution.canary || review.auditing ? routingKeyOf(this, i, raw) : undefined;
				resolved = pickArm(resolution, resolution.canary ? routingKey : undefined);
				if (review.queueInvalid || review.auditing) site = { itemIndex: i, routingKey: routingKeyParameter(this, i) };
				variables = prepareVariables(resolved, raw);
				prepared = true;
				const call = resolved;
				const result = await calls(() => {
					if (signal.aborted) throw signal.reason;
					return callPrompt({ ...env, signal }, call, variables);
				});
				recordOutcome(env.store, resolved, result.valid ? 'valid' : 'invalid');
				recorded = true;
				const trace = traceOf(resolved, variables, result);
				const answer = { modelOutput: result.valid ? result.value : result.rawOutput, finishReasons: result.meta.finishReasons };
				if (result.valid) {
					const audited = review.auditing ? review.audit(resolved, variables, answer, site, routingKey!) : undefined;
					return { json: { ...base, value: result.value, valid: true, ...metaJson(result.meta), trace, ...reviewField(audited) }, pairedItem: { item: i } };
				}
				const queued = review.invalid(resolved, variables, { ...answer, reason: result.reason }, site);
				// An answer that is not valid (cut off, refused, unreadable, or a transient provider failure that outlived
				// the retries) is an item with valid: false and its reason, never a node failure: the other items flow on.
				return {
					json: {
						...invalidBase(),
						valid: false,
						reason: result.reason,
						retryable: result.retryable === true,
						...(result.refused ? { refused: true } : {}),
						rawOutput: result.rawOutput,
						...metaJson(result.meta),
						trace,
						...reviewField(queued),
					},
					pairedItem: { item: i },
				};
			} catch (error) {
				// A failure after the arm was chosen (new required input, wrong model or credential, …) is the arm's
				// invalid outcome, whether the node goes on or fails; a cancelled item is no outcome.
				if (signal.aborted) throw cancelledError(node, i); // another item's error is the node's
				if (resolved && !recorded) recordOutcome(env.store, resolved, 'invalid');
				// Named once, like Extract Signal's "item 2, signal "b"": which item failed, then which prompt.
				if (!continueOnFail) throw toNodeError(node, error, { itemIndex: i, subject: `item ${i}`, promptId });
				const failure = toNodeError(node, error, { itemIndex: i, subject: `item ${i}`, promptId });
				const message = failure.message;
				const queued = resolved && prepared ? review.invalid(resolved, variables, { reason: message, modelOutput: null }, site) : undefined;
				return {
					json: {
						...invalidBase(),
						error: message,
						valid: false,
						reason: message,
						retryable: false,
						rawOutput: null,
						...(resolved ? { ...metaOfResolved(resolved, (error as { meta?: object }).meta), trace: traceOf(resolved, variables) } : {}),
						...reviewField(queued),
					},
					// With "Continue (using error output)" the item leaves by the error output (errorOutputField).
					...errorOutputField(node, failure),
					pairedItem: { item: i },
				};
			}
		};

		try {
			// Items run ahead of the call limit (see Extract Signal): parameters are read while calls are in flight.
			return [await mapLimited(this.getNode(), items.length, lookahead(concurrency), runItem, this.getExecutionCancelSignal())];
		} finally {
			await Promise.all([flushOutcomes(this, env.store), review.flush()]);
		}
	}
}
