/**
 * OpenAI and OpenAI-compatible servers (Ollama, vLLM, LM Studio, proxies) through the official `openai` SDK.
 * Chat Completions by default (`response_format: json_schema`, strict); the Responses API when `model.api === 'responses'`.
 */
import type OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Response as OpenAIResponse, ResponseCreateParamsNonStreaming } from 'openai/resources/responses/responses';
import { ProviderError } from '../errors';
import type { ModelSpec } from '../types';
import { errorInBody, fatal, toProviderError, type ProviderErrorContext } from './errors';
import { chatEnd, responsesEnd } from './finish';
import { openAIBatchApi } from './openai-batch';
import type { BatchApi, BatchCapable } from '../batch/types';
import { env, isObject, PLACEHOLDER_KEY, sameUrl, SdkProvider, type ClientSettings } from './sdk-base';
import { openaiSdk } from './sdks';
import type { Provider, ProviderOptions, ProviderRequest, ProviderResponse } from './types';

export type OpenAIProviderName = 'openai' | 'openai-compatible';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const KEY_HINT = 'OPENAI_API_KEY or the API key of the n8n credential';
const CREDENTIAL_KEY = 'the API key of the n8n credential';

/** OpenAI reasoning models (o1, o3, o4-mini, gpt-5…): Chat Completions rejects `max_tokens` and a non-default temperature. */
const REASONING_MODEL = /^(o\d|gpt-5)/;

export class OpenAIProvider extends SdkProvider<OpenAI> implements Provider, BatchCapable {
	readonly name: OpenAIProviderName;

	constructor(name: OpenAIProviderName = 'openai', options: ProviderOptions = {}) {
		super(options);
		this.name = name;
	}

	/**
	 * Base URL: options first, then the prompt's `model.baseUrl`, then OPENAI_BASE_URL (default api.openai.com).
	 * A key travels only to the base URL configured together with it: `options.apiKey` with `options.baseUrl`
	 * (the same n8n credential), OPENAI_API_KEY with OPENAI_BASE_URL or the default. A server only the prompt
	 * file names gets OPENAI_COMPATIBLE_API_KEY or a placeholder, whatever the provider.
	 */
	private settings(model: ModelSpec): ClientSettings {
		const hostUrl = env('OPENAI_BASE_URL');
		const explicit = this.options.baseUrl !== undefined;
		const baseURL = this.options.baseUrl ?? model.baseUrl ?? hostUrl ?? (this.name === 'openai' ? DEFAULT_BASE_URL : undefined);
		if (!baseURL) {
			throw fatal(
				new ProviderError(
					`provider "openai-compatible" needs a base URL for model "${model.name}": set model.baseUrl in the prompt, OPENAI_BASE_URL or the base URL of the n8n credential`,
				),
			);
		}
		/** The host's own server: where OPENAI_API_KEY (and an apiKey option given without a baseUrl) belongs. */
		const paired = sameUrl(baseURL, hostUrl ?? DEFAULT_BASE_URL);
		const promptNamed = !explicit && !paired;
		const compatible = this.name === 'openai-compatible' || promptNamed;
		const apiKey =
			(explicit || paired ? this.options.apiKey : undefined) ??
			(compatible ? env('OPENAI_COMPATIBLE_API_KEY') : undefined) ??
			(paired ? env('OPENAI_API_KEY') : undefined);
		// Name only the places a key for this server is really read from, in the order they are tried.
		const keyHint = [
			explicit || paired ? CREDENTIAL_KEY : undefined,
			compatible ? 'OPENAI_COMPATIBLE_API_KEY' : undefined,
			paired ? 'OPENAI_API_KEY' : undefined,
		]
			.filter((s): s is string => s !== undefined)
			.reverse()
			.join(' or ');
		if (apiKey) return { baseURL, apiKey, keyHint };
		if (compatible) return { baseURL, apiKey: PLACEHOLDER_KEY, keyHint };
		const unpaired = env('OPENAI_API_KEY') && !paired ? ` (OPENAI_API_KEY is only sent to ${hostUrl ?? DEFAULT_BASE_URL})` : '';
		throw fatal(new ProviderError(`no OpenAI API key for model "${model.name}" at ${baseURL}: set ${KEY_HINT}${unpaired}`));
	}

	/** The base URL calls for `model` go to (see `settings`), without looking for a key. */
	baseUrlFor(model: ModelSpec): string {
		return this.options.baseUrl ?? model.baseUrl ?? env('OPENAI_BASE_URL') ?? (this.name === 'openai' ? DEFAULT_BASE_URL : '');
	}

	/** The OpenAI Batch API for `model`'s server and key (see openai-batch.ts). Throws like `complete` without a key. */
	batchApi(model: ModelSpec): BatchApi {
		const settings = this.settings(model);
		return openAIBatchApi(this.client(settings, (o) => new (openaiSdk().default)(o)), this, this.errorContext(model.name, settings.baseURL, settings.keyHint ?? KEY_HINT));
	}

	async complete(request: ProviderRequest): Promise<ProviderResponse> {
		const settings = this.settings(request.model);
		const context = this.errorContext(request.model.name, settings.baseURL, settings.keyHint ?? KEY_HINT, [settings.apiKey, env('OPENAI_API_KEY'), env('OPENAI_COMPATIBLE_API_KEY')]);
		const started = Date.now();
		const client = this.client(settings, (o) => new (openaiSdk().default)(o));
		try {
			return request.model.api === 'responses'
				? await this.viaResponses(client, request, context)
				: await this.viaChat(client, request, context);
		} catch (error) {
			throw toProviderError(error, { ...context, elapsedMs: Date.now() - started });
		}
	}

	/**
	 * OpenAI's reasoning models accept only their default temperature and reject the parameter, so for them
	 * the prompt's `model.temperature` is not sent. Compatible servers always get it.
	 */
	private sendsTemperature(model: ModelSpec): boolean {
		return !(this.name === 'openai' && REASONING_MODEL.test(model.name));
	}

	/** The request body and endpoint (relative to the base URL) of a call, exactly as `complete` sends it; also what a batch line carries. */
	wireRequest(request: ProviderRequest): { endpoint: '/chat/completions' | '/responses'; body: ChatCompletionCreateParamsNonStreaming | ResponseCreateParamsNonStreaming } {
		return request.model.api === 'responses' ? { endpoint: '/responses', body: this.responsesBody(request) } : { endpoint: '/chat/completions', body: this.chatBody(request) };
	}

	/** Read a 200 body of the endpoint `wireRequest` chose (a direct answer or a batch output line's body). */
	readWire(request: ProviderRequest, result: unknown, context: ProviderErrorContext): ProviderResponse {
		return request.model.api === 'responses' ? readResponses(result, context) : readChat(result, context);
	}

	private chatBody(request: ProviderRequest): ChatCompletionCreateParamsNonStreaming {
		const messages: ChatCompletionMessageParam[] = [];
		if (request.system) messages.push({ role: 'system', content: request.system });
		for (const turn of request.messages) messages.push({ role: turn.role, content: turn.content });
		const body: ChatCompletionCreateParamsNonStreaming = {
			model: request.model.name,
			messages,
			response_format: {
				type: 'json_schema',
				json_schema: { name: request.schemaName, schema: request.jsonSchema, strict: true },
			},
		};
		if (this.name === 'openai') {
			// OpenAI deprecated `max_tokens` for `max_completion_tokens`; its reasoning models reject `max_tokens`.
			body.max_completion_tokens = request.model.maxTokens;
		} else {
			// Ollama, vLLM and most compatible servers only know `max_tokens`.
			body.max_tokens = request.model.maxTokens;
		}
		if (this.sendsTemperature(request.model)) body.temperature = request.model.temperature;
		return body;
	}

	private responsesBody(request: ProviderRequest): ResponseCreateParamsNonStreaming {
		const body: ResponseCreateParamsNonStreaming = {
			model: request.model.name,
			input: request.messages.map((turn) => ({ role: turn.role, content: turn.content })),
			max_output_tokens: request.model.maxTokens,
			text: { format: { type: 'json_schema', name: request.schemaName, schema: request.jsonSchema, strict: true } },
		};
		if (this.sendsTemperature(request.model)) body.temperature = request.model.temperature;
		if (request.system) body.instructions = request.system;
		return body;
	}

	private async viaChat(client: OpenAI, request: ProviderRequest, context: ProviderErrorContext): Promise<ProviderResponse> {
		const completion: unknown = await client.chat.completions.create(this.chatBody(request), { signal: request.signal });
		return readChat(completion, context);
	}

	private async viaResponses(client: OpenAI, request: ProviderRequest, context: ProviderErrorContext): Promise<ProviderResponse> {
		const result: unknown = await client.responses.create(this.responsesBody(request), { signal: request.signal });
		return readResponses(result, context);
	}
}

/** Any server but OpenAI's own: such servers may leave out the finish reason (see chatEnd). */
function compatibleServer(context: ProviderErrorContext): boolean {
	return context.provider === 'openai-compatible' || !sameUrl(context.baseURL, DEFAULT_BASE_URL);
}

function readChat(completion: unknown, context: ProviderErrorContext): ProviderResponse {
	if (!isObject(completion) || !Array.isArray(completion.choices)) {
		const reported = errorInBody(completion, context);
		if (reported) throw reported;
		throw new ProviderError(`${context.provider} (${context.baseURL}) returned a response without "choices": is this an OpenAI-compatible chat completions endpoint?`);
	}
	const chat = completion as unknown as ChatCompletion;
	const choice = chat.choices[0];
	const message = choice?.message;
	const refusal = typeof message?.refusal === 'string' && message.refusal ? message.refusal : undefined;
	const reasoningTokens = chat.usage?.completion_tokens_details?.reasoning_tokens;
	return {
		text: contentText(message?.content),
		usage: { inputTokens: chat.usage?.prompt_tokens ?? 0, outputTokens: chat.usage?.completion_tokens ?? 0 },
		model: chat.model,
		// A refusal is how the answer ended, whatever finish_reason says (OpenAI sends "stop" with it).
		end: refusal !== undefined ? { reason: 'refusal', providerReason: choice?.finish_reason ?? null } : chatEnd(choice?.finish_reason, compatibleServer(context)),
		...(refusal !== undefined ? { refusal } : {}),
		...(typeof reasoningTokens === 'number' ? { reasoningTokens } : {}),
	};
}

/**
 * The text of a chat message's `content`: a string (OpenAI), or a list of parts (`[{type: 'text', text}]`, as some
 * OpenAI-compatible servers send), whose text parts are joined in order.
 */
function contentText(content: unknown): string {
	if (typeof content === 'string') return content;
	if (!Array.isArray(content)) return '';
	return content
		.map((part: unknown) => (isObject(part) && (part.type === 'text' || part.type === 'output_text') && typeof part.text === 'string' ? part.text : ''))
		.join('');
}

function readResponses(result: unknown, context: ProviderErrorContext): ProviderResponse {
	if (!isObject(result) || !Array.isArray(result.output)) {
		const reported = errorInBody(result, context);
		if (reported) throw reported;
		throw new ProviderError(`${context.provider} (${context.baseURL}) returned a response without "output": does this server implement the Responses API?`);
	}
	const response = result as unknown as OpenAIResponse;
	if (response.status === 'failed') {
		const detail = response.error ? `${response.error.code}: ${response.error.message}` : 'no error detail';
		throw new ProviderError(`${context.provider} (${context.baseURL}) reported the response as failed (${detail}): try again later`);
	}
	let refusal: string | undefined;
	let joined = '';
	for (const item of response.output) {
		if (item.type !== 'message') continue;
		for (const part of item.content) {
			if (part.type === 'refusal') refusal = (refusal ? `${refusal} ` : '') + part.refusal;
			else if (part.type === 'output_text') joined += part.text;
		}
	}
	// `output_text` is added by the SDK's `responses.create`; a raw body (a batch output line) only has the parts.
	const text = typeof response.output_text === 'string' ? response.output_text : joined;
	const reasoningTokens = response.usage?.output_tokens_details?.reasoning_tokens;
	return {
		text,
		usage: { inputTokens: response.usage?.input_tokens ?? 0, outputTokens: response.usage?.output_tokens ?? 0 },
		model: response.model,
		end: refusal !== undefined ? { reason: 'refusal', providerReason: response.status ?? null } : responsesEnd(response.status, response.incomplete_details?.reason),
		...(refusal !== undefined ? { refusal } : {}),
		...(typeof reasoningTokens === 'number' ? { reasoningTokens } : {}),
	};
}
