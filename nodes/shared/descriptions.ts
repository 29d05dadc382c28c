/** Sort collection options by display name, as n8n's node linter expects. */
export function byDisplayName(properties: INodeProperties[]): INodeProperties[] {
	return [...properties].sort((a, b) => a.displayName.localeCompare(b.displayName));
}

/** Parameters shared by the nodes. Names here are the workflow JSON contract: change them only with a new node version. */
import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_CONCURRENCY } from './concurrency';

export const PROMPT_ID_REGEX = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

export function promptLocator(overrides: Partial<INodeProperties> = {}): INodeProperties {
	return {
		displayName: 'Prompt',
		name: 'prompt',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: 'The prompt in the registry',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a prompt...',
				typeOptions: { searchListMethod: 'searchPrompts', searchable: true, searchFilterRequired: false },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. price-change',
				validation: [{ type: 'regex', properties: { regex: PROMPT_ID_REGEX, errorMessage: 'Not a valid prompt ID (letters, digits, "-" and "_")' } }],
			},
		],
		...overrides,
	};
}

export const releaseProperties: INodeProperties[] = [
	{
		displayName: 'Release',
		name: 'release',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Channel', value: 'channel', description: 'The version released on a channel (follows releases and rollbacks)' },
			{ name: 'Draft', value: 'draft', description: 'The editable draft (prompt.yaml) — for trying changes, not for production' },
			{ name: 'Pinned Version', value: 'version', description: 'One frozen version, whatever the channels say' },
		],
		default: 'channel',
	},
	{
		displayName: 'Channel',
		name: 'channel',
		type: 'string',
		default: 'production',
		placeholder: 'e.g. production',
		description: 'Name of the release channel, e.g. production or staging',
		displayOptions: { show: { release: ['channel'] } },
	},
	{
		displayName: 'Version',
		name: 'version',
		type: 'number',
		default: 1,
		typeOptions: { minValue: 1, numberPrecision: 0 },
		description: 'The frozen version number to call',
		displayOptions: { show: { release: ['version'] } },
	},
];

export const variableProperties: INodeProperties[] = [
	{
		displayName: 'Variables From',
		name: 'variableSource',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Fields Below', value: 'mapping', description: 'Map each of the prompt\'s inputs to a value (usually an expression)' },
			{
				name: 'Item JSON',
				value: 'itemJson',
				description: 'Take every declared input from the item\'s field of the same name; fields below override',
			},
		],
		default: 'mapping',
	},
	{
		displayName: 'Variables',
		name: 'variables',
		placeholder: 'Add Variable',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		default: {},
		description: 'Values for the prompt\'s declared inputs ({{name}} placeholders in its template)',
		options: [
			{
				displayName: 'Variable',
				name: 'variable',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. email_body',
						description: 'Name of an input the prompt declares',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						placeholder: 'e.g. {{ $json.body }}',
						description: 'Value to use; numbers and booleans written as text are converted to the input\'s declared type',
					},
				],
			},
		],
	},
];

export const concurrencyOption: INodeProperties = {
	displayName: 'Concurrency',
	name: 'concurrency',
	type: 'number',
	default: DEFAULT_CONCURRENCY,
	typeOptions: { minValue: 1, numberPrecision: 0 },
	description: 'How many items are processed at the same time',
};

export const modelCallOptions: INodeProperties[] = [
	{
		displayName: 'Release Cache TTL (Seconds)',
		name: 'cacheTtlSeconds',
		type: 'number',
		default: 30,
		typeOptions: { minValue: 0 },
		description: 'How long a resolved release is reused before the registry is read again. A release or rollback reaches this node within this time. 0 reads the registry for every item.',
	},
	{
		displayName: 'Timeout (Ms)',
		name: 'timeout',
		type: 'number',
		default: 60000,
		typeOptions: { minValue: 1 },
		description: 'Time to wait for one model response before giving up on that attempt',
	},
	{
		displayName: 'Max Retries',
		name: 'maxRetries',
		type: 'number',
		default: 2,
		typeOptions: { minValue: 0, numberPrecision: 0 },
		description: 'Retries of a model call on rate limits, server errors, timeouts and connection errors (with backoff)',
	},
	{
		displayName: 'Requests Per Minute',
		name: 'requestsPerMinute',
		type: 'number',
		default: 0,
		typeOptions: { minValue: 0, numberPrecision: 0 },
		description:
			'Cap on model calls per minute to one model server and key, shared by every node in this n8n process that sets the same cap (0: no cap). Calls are always paced by the rate-limit answers of the provider; concurrency stays the upper bound.',
	},
];

export interface ModelCallOptionValues {
	concurrency?: number;
	cacheTtlSeconds?: number;
	timeout?: number;
	maxRetries?: number;
	requestsPerMinute?: number;
}

export function cacheTtlMs(options: ModelCallOptionValues): number {
	const seconds = Number(options.cacheTtlSeconds ?? 30);
	return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 30_000;
}

export function callOptions(options: ModelCallOptionValues): { timeoutMs: number; maxRetries: number; requestsPerMinute?: number } {
	const timeout = Number(options.timeout ?? 60_000);
	const retries = Math.floor(Number(options.maxRetries ?? 2));
	const rpm = Math.floor(Number(options.requestsPerMinute ?? 0));
	return {
		timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 60_000,
		maxRetries: Number.isFinite(retries) && retries >= 0 ? retries : 2,
		...(Number.isFinite(rpm) && rpm > 0 ? { requestsPerMinute: rpm } : {}),
	};
}
