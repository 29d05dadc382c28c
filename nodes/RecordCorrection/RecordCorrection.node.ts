import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { correctionFixtureId, declaredInputs, recordCorrection } from '../../lib/corrections';
import { canonicalJson } from '../../lib/hash';
import { resolvePrompt } from '../../lib/registry/resolve';
import type { RegistryStore } from '../../lib/registry/store';
import type { ReviewCase } from '../../lib/review/types';
import type { Fixture } from '../../lib/types';
import { concurrencyOf, KeyedSerializer, mapLimited } from '../shared/concurrency';
import { concurrencyOption, promptLocator } from '../shared/descriptions';
import { errorOutputField, toNodeError } from '../shared/errors';
import { promptMethods } from '../shared/prompt-search';
import { flushOutcomes, recordOutcome } from '../shared/outcomes';
import { getRegistryStore } from '../shared/registry';
import { checkTrace, objectParameter, parseVersion, traceFromSignalItem, type CorrectionTrace } from './correction-trace';
import { correctionFromReviewForm } from './review-form';

type Source = 'extractSignal' | 'runPromptRelease' | 'trace' | 'manual' | 'reviewForm';

/** The correction one item asks for: the answer it corrects and, from a review form, the value and the case. */
interface CorrectionRequest {
	trace: CorrectionTrace;
	/** Review Form: the submitted value (other sources read Corrected Value). */
	corrected?: unknown;
	kase?: ReviewCase;
}

/** The fixture a correction of these inputs will update, found as the core finds it (lib/corrections). */
async function fixtureToUpdate(store: RegistryStore, trace: CorrectionTrace): Promise<Fixture | undefined> {
	const { spec } = await resolvePrompt(store, trace.prompt, { version: trace.version ?? 'draft' });
	const inputs = declaredInputs(spec, trace.variables);
	const own = await store.readFixture(trace.prompt, correctionFixtureId(inputs));
	if (own) return own;
	return store.findFixtureByInputs(trace.prompt, inputs);
}

/**
 * When the log the correction counts in started, if known: for a canary its `since` (or its start in the
 * history once it ended); for a channel served without a canary, since when the channel serves the
 * corrected version (its pointer's `since`, else the newest release, promotion or rollback to it).
 */
async function logStart(store: RegistryStore, trace: CorrectionTrace): Promise<number | undefined> {
	const state = await store.readReleases(trace.prompt);
	const pointer = trace.channel ? state.channels[trace.channel] : undefined;
	let since: string | undefined;
	if (trace.canaryId) {
		const canary = pointer?.canary;
		since = canary?.id === trace.canaryId ? canary?.since : state.history.find((e) => e.action === 'canary' && e.canaryId === trace.canaryId)?.at;
	} else if (pointer?.version === trace.version) since = pointer?.since;
	else {
		since = state.history.filter((e) => e.channel === trace.channel && e.version === trace.version && (e.action === 'release' || e.action === 'promote' || e.action === 'rollback')).pop()?.at;
	}
	const at = since === undefined ? NaN : Date.parse(since);
	return Number.isNaN(at) ? undefined : at;
}

/** The outcome log a correction counts in: the canary's, or the channel's served log; none for pinned versions and drafts. */
function servedFrom(trace: CorrectionTrace): Parameters<typeof recordOutcome>[1] | undefined {
	if (!trace.channel || !trace.arm || typeof trace.version !== 'number') return undefined;
	return { promptId: trace.prompt, version: trace.version, channel: trace.channel, arm: trace.arm, ...(trace.canaryId ? { canaryId: trace.canaryId } : {}) };
}

function optionalText(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	const text = String(value).trim();
	return text ? text : undefined;
}

export class RecordCorrection implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Record Correction',
		name: 'recordCorrection',
		icon: { light: 'file:recordCorrection.svg', dark: 'file:recordCorrection.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ "from " + { extractSignal: "Extract Signal", runPromptRelease: "Run Prompt Release", trace: "trace", manual: "manual fields", reviewForm: "review form" }[$parameter["source"]] }}',
		description: 'Turn a reviewed answer into a regression fixture of the prompt (the same inputs update one fixture)',
		defaults: { name: 'Record Correction' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'promptRegistryApi', required: true, testedBy: 'promptRegistryTest' }],
		properties: [
			{
				displayName: 'Source',
				name: 'source',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Extract Signal Item', value: 'extractSignal', description: 'An item from Extract Signal (usually its invalid output): pick the signal by field name' },
					{ name: 'Manual Fields', value: 'manual', description: 'Prompt, version and variables entered here' },
					{
						name: 'Review Form',
						value: 'reviewForm',
						description: 'A submitted review form (fields from Review Queue "Get Next Case"): corrects its case with the value entered and resolves the case',
					},
					{ name: 'Run Prompt Release Item', value: 'runPromptRelease', description: 'An item from Run Prompt Release: uses its trace' },
					{ name: 'Trace Object', value: 'trace', description: 'A trace object given by an expression' },
				],
				default: 'extractSignal',
			},
			{
				displayName: 'Source Item',
				name: 'sourceItem',
				type: 'json',
				default: '={{ $json }}',
				description: 'The item that carries the trace: by default the input item. When a form or wait node sits in between, refer to the item of the Extract Signal or Run Prompt Release node with an expression (see the hint).',
				hint: "For example {{ $('Extract Signal').item.json }}",
				displayOptions: { show: { source: ['extractSignal', 'runPromptRelease'] } },
			},
			{
				displayName: 'Signal Field Name',
				name: 'signalField',
				type: 'string',
				default: '',
				placeholder: 'e.g. newUnitPrice',
				description: 'The signal to correct (its Field Name in Extract Signal). Empty: the first invalid signal of the item.',
				displayOptions: { show: { source: ['extractSignal'] } },
			},
			{
				displayName: 'Trace',
				name: 'trace',
				type: 'json',
				default: '={{ $json._invalid ? $json._invalid[0].trace : $json.trace }}',
				description: 'A trace object as Run Prompt Release (trace) and Extract Signal (_invalid[].trace, _signals[field].trace) output it',
				displayOptions: { show: { source: ['trace'] } },
			},
			{
				displayName: 'Form Item',
				name: 'formItem',
				type: 'json',
				default: '={{ $json }}',
				description: 'The item the review form submitted: caseId, prompt and the answer fields (value, or value.PROPERTY per property of an object; the not-stated boxes). By default the input item.',
				displayOptions: { show: { source: ['reviewForm'] } },
			},
			promptLocator({ displayOptions: { show: { source: ['manual'] } } }),
			{
				displayName: 'Prompt Version',
				name: 'promptVersion',
				type: 'string',
				default: 'draft',
				placeholder: 'e.g. 3 or draft',
				description: 'The version whose inputs and output schema the correction is checked against',
				displayOptions: { show: { source: ['manual'] } },
			},
			{
				displayName: 'Variables (JSON)',
				name: 'variablesJson',
				type: 'json',
				default: '{}',
				description: 'The inputs the prompt was called with, as an object, e.g. {"email_body": "..."}',
				displayOptions: { show: { source: ['manual'] } },
			},
			{
				displayName: 'Model Output',
				name: 'modelOutput',
				type: 'string',
				default: '',
				description: 'What the model answered (kept as evidence in the fixture)',
				displayOptions: { show: { source: ['manual'] } },
			},
			{
				displayName: 'Corrected Value',
				name: 'correctedValue',
				type: 'string',
				default: '',
				required: true,
				placeholder: 'e.g. {{ $json.correctPrice }}',
				description: 'The right answer. Text such as "12.50", "true" or "null" is converted to the prompt\'s output type; for object outputs give an object or JSON text.',
				displayOptions: { hide: { source: ['reviewForm'] } },
			},
			{
				displayName: 'Segment',
				name: 'segment',
				type: 'string',
				default: '',
				placeholder: 'e.g. supplier-acme',
				description: 'Optional group for pass rates (e.g. supplier or language). Empty keeps the fixture\'s segment.',
			},
			{
				displayName: 'Note',
				name: 'note',
				type: 'string',
				default: '',
				description: 'Optional note stored with the fixture, e.g. why the answer was wrong',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [{ ...concurrencyOption, description: 'How many items are recorded at the same time (corrections of one prompt are written one after another)' }],
			},
		],
	};

	methods = promptMethods;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const options = this.getNodeParameter('options', 0, {}) as { concurrency?: number };
		// One store instance per folder and process: the review log gets one file per process, not one per execution.
		const store = await getRegistryStore(this);
		const node = this.getNode();
		const continueOnFail = this.continueOnFail();
		const perPrompt = new KeyedSerializer();

		const readTrace = (i: number): CorrectionTrace => {
			const source = this.getNodeParameter('source', i, 'extractSignal') as Source;
			switch (source) {
				case 'extractSignal':
					return traceFromSignalItem(node, objectParameter(this, 'sourceItem', 'Source Item', i), String(this.getNodeParameter('signalField', i, '') ?? '').trim(), i);
				case 'runPromptRelease': {
					const item = objectParameter(this, 'sourceItem', 'Source Item', i);
					return checkTrace(node, item.trace, i, 'in the Run Prompt Release item ("trace")', typeof item.valid === 'boolean' ? item.valid : undefined);
				}
				case 'trace':
					return checkTrace(node, this.getNodeParameter('trace', i, undefined) as unknown, i, 'in "Trace"');
				case 'manual': {
					const prompt = String(this.getNodeParameter('prompt', i, '', { extractValue: true }) ?? '').trim();
					if (!prompt) throw new NodeOperationError(node, 'No prompt selected', { itemIndex: i, description: 'Choose the prompt in "Prompt".' });
					const modelOutput = this.getNodeParameter('modelOutput', i, '') as unknown;
					return {
						prompt,
						version: parseVersion(node, this.getNodeParameter('promptVersion', i, 'draft'), i, 'Prompt Version'),
						variables: objectParameter(this, 'variablesJson', 'Variables (JSON)', i),
						modelOutput: modelOutput === '' ? null : modelOutput,
					};
				}
				default:
					throw new NodeOperationError(node, `Unknown Source "${String(source)}"`, { itemIndex: i });
			}
		};

		const readRequest = async (i: number): Promise<CorrectionRequest> => {
			if (this.getNodeParameter('source', i, 'extractSignal') !== 'reviewForm') {
				const corrected = this.getNodeParameter('correctedValue', i, undefined) as unknown;
				const trace = readTrace(i);
				if (corrected === undefined) {
					throw new NodeOperationError(node, 'Corrected Value is empty', { itemIndex: i, description: 'Map the right answer, e.g. {{ $json.correctPrice }} from a review form.' });
				}
				return { trace, corrected };
			}
			return await correctionFromReviewForm(store, node, objectParameter(this, 'formItem', 'Form Item', i), i);
		};

		/**
		 * A `corrected` outcome counts once per log and fixture, and only for a changed answer: the corrected
		 * value differs from the value that was served (an item served no valid value always differs), and the
		 * fixture is new, or was not recorded since the log started (a fixture updated again during the canary,
		 * or while the channel serves this version, was corrected for it already — by this very correction run
		 * earlier, or for another item of its inputs).
		 */
		const countsAsCorrection = async (trace: CorrectionTrace, fixture: Fixture, created: boolean, previous: Fixture | undefined): Promise<boolean> => {
			if (trace.served && canonicalJson(trace.served.value) === canonicalJson(fixture.expected)) return false;
			if (created || !previous?.recorded) return true;
			const start = await logStart(store, trace);
			const at = Date.parse(previous.recorded.at);
			return start === undefined || Number.isNaN(at) || at < start;
		};

		const runItem = async (i: number): Promise<INodeExecutionData> => {
			let promptId: string | undefined;
			try {
				const { trace, corrected, kase } = await readRequest(i);
				promptId = trace.prompt;
				const served = servedFrom(trace);
				// Serialized per prompt, so the fixture read before the write is the one this correction updates.
				const { fixture, created, previous } = await perPrompt.run(trace.prompt, async () => {
					const before = served ? await fixtureToUpdate(store, trace) : undefined;
					const written = await recordCorrection(store, {
						promptId: trace.prompt,
						version: trace.version,
						variables: trace.variables,
						modelOutput: trace.modelOutput,
						corrected,
						segment: optionalText(this.getNodeParameter('segment', i, '')),
						note: optionalText(this.getNodeParameter('note', i, '')),
					});
					return { ...written, previous: before?.id === written.fixture.id ? before : undefined };
				});
				if (served && (await countsAsCorrection(trace, fixture, created, previous))) recordOutcome(store, served, 'corrected');
				const json: IDataObject = { ...items[i].json, fixture: { id: fixture.id, created, promptId: trace.prompt, expected: fixture.expected, ...(fixture.segment ? { segment: fixture.segment } : {}) } };
				if (kase) {
					// The store resolved the pending case of these inputs in the same step as the write; a case closed before stays as it was.
					const after = (await store.listReviews(kase.promptId)).find((c) => c.id === kase.id);
					const caseStatus = after?.status ?? kase.status;
					Object.assign(json, { fixtureId: fixture.id, created, caseId: kase.id, caseStatus, alreadyClosed: kase.status !== 'pending' || caseStatus !== 'resolved' });
				}
				return { json, pairedItem: { item: i } };
			} catch (error) {
				const wrapped = toNodeError(node, error, { itemIndex: i, promptId });
				if (!continueOnFail) throw wrapped;
				// With "Continue (using error output)" the item leaves by the error output (errorOutputField).
				return { json: { ...items[i].json, error: wrapped.message }, ...errorOutputField(node, wrapped), pairedItem: { item: i } };
			}
		};

		try {
			return [await mapLimited(node, items.length, concurrencyOf(options.concurrency), async (i) => await runItem(i), this.getExecutionCancelSignal())];
		} finally {
			await flushOutcomes(this, store);
		}
	}
}
