import pLimit from 'p-limit';
import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { pickArm, type ReleaseResolution } from '../../lib/registry/resolve';
import type { ResolvedPrompt } from '../../lib/types';
import { concurrencyOf, lookahead, mapLimited } from '../shared/concurrency';
import { byDisplayName, concurrencyOption, modelCallOptions, variableProperties, type ModelCallOptionValues } from '../shared/descriptions';
import { cancelledError, toNodeError } from '../shared/errors';
import { flushOutcomes, recordOutcome, routingKeyOf, routingKeyParameter, routingKeyProperty } from '../shared/outcomes';
import { callEnvironment, callPrompt, declaredNames, metaJson, prepareVariables, resolveRelease, traceOf } from '../shared/prompt-call';
import { promptMethods } from '../shared/prompt-search';
import { parseReleaseText } from '../shared/release-ref';
import { itemParameter } from '../shared/json-expressions';
import { readVariables } from '../shared/variables';
import { ReviewQueuer, reviewOptions, type QueueSite, type ReviewOptionValues } from '../shared/review';

interface SignalParameter {
	field?: unknown;
	prompt?: unknown;
	release?: unknown;
}

interface Signal {
	field: string;
	promptId: string;
	release: string;
}

/** The item's routing key (the parameter, else its variables) and the parameter alone, when either is needed. */
interface ItemKeys {
	routingKey?: string;
	parameter?: string;
}

type SignalOutcome =
	| { kind: 'valid'; field: string; value: unknown; info: IDataObject }
	| { kind: 'invalid'; field: string; entry: IDataObject };

const FIELD_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Names that would reach the object's prototype machinery instead of being a plain field (`__proto__` also starts with "_"). */
const FORBIDDEN_FIELDS = new Set(['__proto__', 'constructor', 'prototype']);

// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool -- as a tool only the "valid" output would reach the agent and invalid results would be dropped; Run Prompt Release is the tool form
export class ExtractSignal implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Extract Signal',
		name: 'extractSignal',
		icon: { light: 'file:extractSignal.svg', dark: 'file:extractSignal.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ ($parameter["signals"]["signal"] || []).length + " signal(s)" }}',
		description: 'Extract schema-checked signals (prices, dates, flags) from each item with released prompts; invalid answers go to a second output',
		defaults: { name: 'Extract Signal' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['valid', 'invalid'],
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
				displayName: 'Signals',
				name: 'signals',
				placeholder: 'Add Signal',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true, sortable: true },
				default: {},
				required: true,
				description: 'Each signal runs one prompt and stores its checked value in a field of the item',
				options: [
					{
						displayName: 'Signal',
						name: 'signal',
						values: [
							{
								displayName: 'Field Name',
								name: 'field',
								type: 'string',
								default: '',
								required: true,
								placeholder: 'e.g. newUnitPrice',
								description: 'Name of the output field that receives the value',
							},
							{
								displayName: 'Prompt Name or ID',
								name: 'prompt',
								type: 'options',
								typeOptions: { loadOptionsMethod: 'getPrompts' },
								default: '',
								required: true,
								description: 'The prompt that extracts this signal. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
							},
							{
								displayName: 'Release',
								name: 'release',
								type: 'string',
								default: 'production',
								placeholder: 'e.g. production, 3 or draft',
								description: 'A channel name (follows releases and rollbacks), a pinned version number, or "draft"',
							},
						],
					},
				],
			},
			...variableProperties,
			{ ...routingKeyProperty, description: `${routingKeyProperty.description} One key per item, for all its signals.` },
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: byDisplayName([{ ...concurrencyOption, description: 'How many model calls run at the same time (across items and signals)' }, ...modelCallOptions, ...reviewOptions]),
			},
		],
	};

	methods = promptMethods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const options = this.getNodeParameter('options', 0, {}) as ModelCallOptionValues & ReviewOptionValues;
		const env = await callEnvironment(this, options);
		const review = ReviewQueuer.fromOptions(this, env.store, options);
		const continueOnFail = this.continueOnFail();
		const node = this.getNode();
		const concurrency = concurrencyOf(options.concurrency);
		/** Bounds the model calls in flight over all items and signals. */
		const calls = pLimit(concurrency);

		const readSignals = (i: number): Signal[] => {
			// As stored when it holds no expression (read only here): n8n would copy and walk it for every item.
			const raw = (itemParameter(this, 'signals.signal', i, []) as SignalParameter[]) ?? [];
			if (!raw.length) {
				throw new NodeOperationError(node, 'No signals configured', { itemIndex: i, description: 'Add at least one signal under "Signals": a field name and the prompt that fills it.' });
			}
			const seen = new Set<string>();
			return raw.map((s, position) => {
				const field = typeof s.field === 'string' ? s.field.trim() : '';
				const promptId = typeof s.prompt === 'string' ? s.prompt.trim() : '';
				const where = `Signals: signal ${position + 1}${field ? ` ("${field}")` : ''}`;
				if (!field || !FIELD_NAME.test(field)) {
					throw new NodeOperationError(node, `${where} needs a Field Name made of letters, digits and "_" (not starting with a digit)`, { itemIndex: i });
				}
				if (field.startsWith('_')) {
					throw new NodeOperationError(node, `${where}: the field name "${field}" is reserved: names starting with "_" belong to the node's own fields (_signals, _invalid)`, { itemIndex: i });
				}
				if (FORBIDDEN_FIELDS.has(field)) {
					throw new NodeOperationError(node, `${where}: the field name "${field}" is not allowed (it would change the item's object behaviour); choose another Field Name`, { itemIndex: i });
				}
				if (seen.has(field)) throw new NodeOperationError(node, `${where}: two signals write the field "${field}"; give each signal its own Field Name`, { itemIndex: i });
				seen.add(field);
				if (!promptId) throw new NodeOperationError(node, `${where} has no prompt: choose one in "Prompt Name or ID"`, { itemIndex: i });
				return { field, promptId, release: typeof s.release === 'string' ? s.release : String(s.release ?? '') };
			});
		};

		const runSignal = async (i: number, signal: Signal, resolved: ResolvedPrompt, raw: Record<string, unknown>, keys: ItemKeys, abort: AbortSignal): Promise<SignalOutcome> => {
			let variables: Record<string, unknown> = {};
			/** Whether the variables were read (an item without them has nothing to review). */
			let prepared = false;
			/** Whether this signal's outcome is buffered for the canary log. */
			let recorded = false;
			const site: QueueSite = { itemIndex: i, field: signal.field, routingKey: keys.parameter };
			try {
				variables = prepareVariables(resolved, raw);
				prepared = true;
				const result = await calls(() => {
					if (abort.aborted) throw abort.reason;
					return callPrompt({ ...env, signal: abort }, resolved, variables);
				});
				recordOutcome(env.store, resolved, result.valid ? 'valid' : 'invalid');
				recorded = true;
				const trace = traceOf(resolved, variables, result);
				const answer = { modelOutput: result.valid ? result.value : result.rawOutput, finishReasons: result.meta.finishReasons };
				if (result.valid) {
					const audited = review.auditing ? review.audit(resolved, variables, answer, site, keys.routingKey!) : undefined;
					return { kind: 'valid', field: signal.field, value: result.value, info: { ...metaJson(result.meta), trace, ...(audited ? { review: audited } : {}) } };
				}
				const queued = review.invalid(resolved, variables, { ...answer, reason: result.reason }, site);
				return {
					kind: 'invalid',
					field: signal.field,
					entry: {
						field: signal.field,
						prompt: resolved.promptId,
						version: resolved.version,
						arm: resolved.arm ?? null,
						reason: result.reason,
						retryable: result.retryable === true,
						...(result.refused ? { refused: true } : {}),
						finishReasons: result.meta.finishReasons,
						rawOutput: result.rawOutput,
						trace,
						...(queued ? { review: queued } : {}),
					},
				};
			} catch (error) {
				// Cancelled because another call failed the node: that call's error is the node's, named once.
				if (abort.aborted) throw cancelledError(node, i);
				// A failure after the arm was chosen (new required input, wrong model or credential, …) is the arm's
				// invalid outcome, whether the node goes on or fails.
				if (!recorded) recordOutcome(env.store, resolved, 'invalid');
				const wrapped = toNodeError(node, error, { itemIndex: i, subject: `item ${i}, signal "${signal.field}"`, promptId: resolved.promptId });
				if (!continueOnFail) throw wrapped;
				const queued = prepared ? review.invalid(resolved, variables, { reason: wrapped.message, modelOutput: null }, site) : undefined;
				return {
					kind: 'invalid',
					field: signal.field,
					entry: {
						field: signal.field,
						prompt: resolved.promptId,
						version: resolved.version,
						arm: resolved.arm ?? null,
						reason: wrapped.message,
						retryable: false,
						rawOutput: null,
						trace: traceOf(resolved, variables),
						...(queued ? { review: queued } : {}),
					},
				};
			}
		};

		/** Resolve a signal's release; with continueOnFail a failure becomes the signal's invalid entry. */
		const resolveSignal = async (i: number, signal: Signal): Promise<ReleaseResolution | SignalOutcome> => {
			try {
				return await resolveRelease(env, signal.promptId, parseReleaseText(this, signal.release, i, `Signals: "${signal.field}" release`));
			} catch (error) {
				const wrapped = toNodeError(node, error, { itemIndex: i, subject: `item ${i}, signal "${signal.field}"`, promptId: signal.promptId });
				if (!continueOnFail) throw wrapped;
				return { kind: 'invalid', field: signal.field, entry: { field: signal.field, prompt: signal.promptId, version: null, arm: null, reason: wrapped.message, retryable: false, rawOutput: null, trace: null } };
			}
		};

		const runItem = async (i: number, abort: AbortSignal): Promise<{ valid: boolean; item: INodeExecutionData }> => {
			const json: IDataObject = { ...items[i].json };
			const invalid: IDataObject[] = [];
			const details: IDataObject = {};
			/** Fields of signals without a checked value: the incoming item's value there must not leave as if checked. */
			const unchecked = new Set<string>();
			let signals: Signal[] = [];
			try {
				signals = readSignals(i);
				const resolvedList = await Promise.all(signals.map(async (signal) => await resolveSignal(i, signal)));
				const isResolved = (r: ReleaseResolution | SignalOutcome): r is ReleaseResolution => 'stable' in r;
				const declared = new Set(resolvedList.flatMap((r) => (isResolved(r) ? declaredNames(r) : [])));
				const raw = readVariables(this, i, declared);
				// One routing key per item, read only when a signal's channel runs a canary or valid answers are sampled.
				const canary = resolvedList.some((r) => isResolved(r) && r.canary);
				const keys: ItemKeys = {
					routingKey: canary || review.auditing ? routingKeyOf(this, i, raw) : undefined,
					parameter: review.queueInvalid || review.auditing ? routingKeyParameter(this, i) : undefined,
				};
				const routingKey = canary ? keys.routingKey : undefined;
				const outcomes = await mapLimited(
					node,
					signals.length,
					signals.length,
					async (s, signal) => {
						const resolved = resolvedList[s];
						return isResolved(resolved) ? await runSignal(i, signals[s], pickArm(resolved, routingKey), raw, keys, signal) : resolved;
					},
					abort,
				);
				for (const outcome of outcomes) {
					if (outcome.kind === 'valid') {
						json[outcome.field] = outcome.value as IDataObject[string];
						details[outcome.field] = outcome.info;
					} else {
						unchecked.add(outcome.field);
						invalid.push(outcome.entry);
					}
				}
			} catch (error) {
				if (abort.aborted) throw cancelledError(node, i); // another item's error is the node's
				if (!continueOnFail) throw toNodeError(node, error, { itemIndex: i });
				const reason = toNodeError(node, error, { itemIndex: i }).message;
				invalid.push({ field: null, prompt: null, version: null, arm: null, reason, retryable: false, rawOutput: null, trace: null });
				for (const signal of signals) unchecked.add(signal.field);
			}
			for (const field of unchecked) delete json[field];
			// A previous Extract Signal node's details stay (its fields stay too) unless this node found that field invalid;
			// its invalid list does not stay.
			const previous = json._signals;
			const kept: IDataObject = previous && typeof previous === 'object' && !Array.isArray(previous) ? { ...(previous as IDataObject) } : {};
			for (const field of unchecked) delete kept[field];
			json._signals = { ...kept, ...details };
			delete json._invalid;
			if (invalid.length) json._invalid = invalid;
			return { valid: invalid.length === 0, item: { json, pairedItem: { item: i } } };
		};

		let results: Array<{ valid: boolean; item: INodeExecutionData }>;
		try {
			// Items run ahead of the call limit: the next items' parameters are read and their variables checked while
			// calls are in flight, so a call slot that frees up starts the next call at once.
			results = await mapLimited(this.getNode(), items.length, lookahead(concurrency), runItem, this.getExecutionCancelSignal());
		} finally {
			await Promise.all([flushOutcomes(this, env.store), review.flush()]);
		}
		return [results.filter((r) => r.valid).map((r) => r.item), results.filter((r) => !r.valid).map((r) => r.item)];
	}
}
