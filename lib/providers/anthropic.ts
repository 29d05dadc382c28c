/**
 * Anthropic through the official `@anthropic-ai/sdk` Messages API.
 * The schema travels as the input schema of one forced tool; the answer is that tool call's input.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming, Tool } from '@anthropic-ai/sdk/resources/messages/messages';
import { ProviderError } from '../errors';
import type { ModelSpec } from '../types';
import { fatal, toProviderError } from './errors';
import { anthropicEnd } from './finish';
import { anthropicBatchApi } from './anthropic-batch';
import type { BatchApi, BatchCapable } from '../batch/types';
import { env, isObject, PLACEHOLDER_KEY, sameUrl, SdkProvider, type ClientSettings } from './sdk-base';
import { anthropicSdk } from './sdks';
import type { Provider, ProviderOptions, ProviderRequest, ProviderResponse } from './types';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const KEY_HINT = 'ANTHROPIC_API_KEY or the API key of the n8n credential';
export class AnthropicProvider extends SdkProvider<Anthropic> implements Provider, BatchCapable {
	readonly name = 'anthropic' as const;

	constructor(options: ProviderOptions = {}) {
		super(options);
	}

	/**
	 * Base URL: options first, then the prompt's `model.baseUrl`, then ANTHROPIC_BASE_URL (default api.anthropic.com).
	 * A key travels only to the base URL configured together with it: `options.apiKey` with `options.baseUrl`
	 * (the same n8n credential), ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN / ANTHROPIC_PROFILE with ANTHROPIC_BASE_URL
	 * or the default. A server only the prompt file names gets a placeholder key, which also keeps the SDK from
	 * reading a credential from the environment.
	 */
	private settings(model: ModelSpec): ClientSettings {
		const hostUrl = env('ANTHROPIC_BASE_URL') ?? DEFAULT_BASE_URL;
		const explicit = this.options.baseUrl !== undefined;
		const baseURL = this.options.baseUrl ?? model.baseUrl ?? hostUrl;
		const paired = sameUrl(baseURL, hostUrl);
		if (!explicit && !paired) return { baseURL, apiKey: PLACEHOLDER_KEY };
		const apiKey = this.options.apiKey ?? (paired ? env('ANTHROPIC_API_KEY') : undefined);
		if (apiKey) return { baseURL, apiKey };
		if (paired && (env('ANTHROPIC_AUTH_TOKEN') || env('ANTHROPIC_PROFILE'))) return { baseURL };
		const unpaired = env('ANTHROPIC_API_KEY') && !paired ? ` (ANTHROPIC_API_KEY is only sent to ${hostUrl})` : '';
		throw fatal(new ProviderError(`no Anthropic API key for model "${model.name}" at ${baseURL}: set ${KEY_HINT}${unpaired}`));
	}

	/** The base URL calls for `model` go to (see `settings`), without looking for a key. */
	baseUrlFor(model: ModelSpec): string {
		return this.options.baseUrl ?? model.baseUrl ?? env('ANTHROPIC_BASE_URL') ?? DEFAULT_BASE_URL;
	}

	/** The Messages request body of a call, exactly as `complete` sends it; also the `params` of a batch request. */
	wireRequest(request: ProviderRequest): MessageCreateParamsNonStreaming {
		const tool: Tool = {
			name: request.schemaName,
			description: toolDescription(request),
			input_schema: request.jsonSchema as Tool.InputSchema,
		};
		const body: MessageCreateParamsNonStreaming = {
			model: request.model.name,
			max_tokens: request.model.maxTokens,
			// `model.temperature` is deliberately not sent: the Messages params of @anthropic-ai/sdk 1.11 (API version
			// 2026-10-21) have no sampling parameters. test/providers.test.ts pins the exact keys of this body.
			// The turns already alternate user / assistant, starting with the user.
			messages: request.messages.map((turn) => ({ role: turn.role, content: turn.content })),
			tools: [tool],
			tool_choice: { type: 'tool', name: request.schemaName, disable_parallel_tool_use: true },
		};
		if (request.system) body.system = request.system;
		return body;
	}

	/** Read a Message (a direct answer or a batch result's `message`). */
	readWire(request: ProviderRequest, result: unknown, baseURL: string): ProviderResponse {
		if (!isObject(result) || !Array.isArray(result.content)) {
			throw new ProviderError(`${this.name} (${baseURL}) returned a response without "content": is this the Anthropic Messages API?`);
		}
		return readMessage(result as unknown as Message, request);
	}

	/** Anthropic Message Batches for `model`'s server and key (see anthropic-batch.ts). Throws like `complete` without a key. */
	batchApi(model: ModelSpec): BatchApi {
		const settings = this.settings(model);
		return anthropicBatchApi(this.client(settings, (o) => new (anthropicSdk().default)(o)), this, this.errorContext(model.name, settings.baseURL, KEY_HINT, [settings.apiKey, env('ANTHROPIC_API_KEY'), env('ANTHROPIC_AUTH_TOKEN')]));
	}

	async complete(request: ProviderRequest): Promise<ProviderResponse> {
		const settings = this.settings(request.model);
		const context = this.errorContext(request.model.name, settings.baseURL, KEY_HINT, [settings.apiKey, env('ANTHROPIC_API_KEY'), env('ANTHROPIC_AUTH_TOKEN')]);
		const started = Date.now();
		const body = this.wireRequest(request);
		let result: unknown;
		try {
			result = await this.client(settings, (o) => new (anthropicSdk().default)(o)).messages.create(body, { signal: request.signal });
		} catch (error) {
			throw toProviderError(error, { ...context, elapsedMs: Date.now() - started });
		}
		return this.readWire(request, result, settings.baseURL);
	}
}

function toolDescription(request: ProviderRequest): string {
	const described = request.jsonSchema['description'];
	const what = typeof described === 'string' && described ? `${described}. ` : '';
	return `${what}Report the answer by calling this tool once, with input matching its schema.`;
}

/**
 * The forced tool's input is the answer (serialised as JSON); without a tool call, the text blocks are.
 * `stop_reason` says how it ended: a tool input cut at `max_tokens` is not a finished answer, even when it parses.
 */
function readMessage(message: Message, request: ProviderRequest): ProviderResponse {
	const usage = { inputTokens: message.usage?.input_tokens ?? 0, outputTokens: message.usage?.output_tokens ?? 0 };
	const end = anthropicEnd(message.stop_reason);
	const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
	if (end.reason === 'refusal') return { text: '', usage, model: message.model, end, refusal: text };
	const calls = message.content.filter((block) => block.type === 'tool_use');
	const answers = calls.filter((block) => block.name === request.schemaName).map((block) => JSON.stringify(block.input ?? null));
	if (answers.length) {
		// Two calls of the answer tool with different inputs are two answers: the reading calls that ambiguous.
		const distinct = [...new Set(answers)];
		return { text: distinct.join('\n'), usage, model: message.model, end };
	}
	if (calls.length) {
		// Only some other tool was called (none is offered but the answer tool): that is not an answer.
		const names = calls.map((block) => block.name).join(', ');
		return { text, usage, model: message.model, end: { reason: 'tool_calls', providerReason: `${message.stop_reason ?? 'tool_use'}: called ${names}` } };
	}
	return { text, usage, model: message.model, end };
}
