/**
 * OpenAI and OpenAI-compatible servers (Ollama, vLLM, LM Studio, proxies) through the official `openai` SDK.
 * Chat Completions by default (`response_format: json_schema`, strict); the Responses API when `model.api === 'responses'`.
 */
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Response as OpenAIResponse, ResponseCreateParamsNonStreaming } from 'openai/resources/responses/responses';
import { ProviderError } from '../errors';
import type { ModelSpec } from '../types';
import { toProviderError, type ProviderErrorContext } from './errors';
import type { Provider, ProviderOptions, ProviderRequest, ProviderResponse } from './types';

export type OpenAIProviderName = 'openai' | 'openai-compatible';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Local OpenAI-compatible servers ignore the key, but the SDK insists on one. */
const PLACEHOLDER_KEY = 'not-needed';
const KEY_HINT = 'OPENAI_API_KEY or the API key of the n8n credential';

function env(name: string): string | undefined {
	const value = process.env[name]?.trim();
	return value ? value : undefined;
}

interface ClientSettings {
	apiKey: string;
	baseURL: string;
}

export class OpenAIProvider implements Provider {
	readonly name: OpenAIProviderName;
	private readonly options: ProviderOptions;
	private readonly clients = new Map<string, OpenAI>();

	constructor(name: OpenAIProviderName = 'openai', options: ProviderOptions = {}) {
		this.name = name;
		this.options = options;
	}

	private get timeoutMs(): number {
		return this.options.timeoutMs ?? 60_000;
	}

	private get maxRetries(): number {
		return this.options.maxRetries ?? 2;
	}

	/** Options first, then the prompt's `model.baseUrl`, then the SDK's own environment variables. */
	private settings(model: ModelSpec): ClientSettings {
		const baseURL = this.options.baseUrl ?? model.baseUrl ?? env('OPENAI_BASE_URL');
		if (this.name === 'openai-compatible') {
			// The host's OpenAI key goes only where the host's own OPENAI_BASE_URL points, never to a
			// server a prompt file names; such servers get OPENAI_COMPATIBLE_API_KEY or a placeholder.
			const fromHostEnv = !this.options.baseUrl && !model.baseUrl;
			const apiKey = this.options.apiKey ?? env('OPENAI_COMPATIBLE_API_KEY') ?? (fromHostEnv ? env('OPENAI_API_KEY') : undefined);
			if (!baseURL) {
				throw new ProviderError(
					`provider "openai-compatible" needs a base URL for model "${model.name}": set model.baseUrl in the prompt, OPENAI_BASE_URL or the base URL of the n8n credential`,
				);
			}
			return { baseURL, apiKey: apiKey ?? PLACEHOLDER_KEY };
		}
		const apiKey = this.options.apiKey ?? env('OPENAI_API_KEY');
		if (!apiKey) {
			throw new ProviderError(`no OpenAI API key for model "${model.name}": set ${KEY_HINT}`);
		}
		return { baseURL: baseURL ?? DEFAULT_BASE_URL, apiKey };
	}

	private client(settings: ClientSettings): OpenAI {
		const key = `${settings.baseURL}\n${settings.apiKey}`;
		let client = this.clients.get(key);
		if (!client) {
			client = new OpenAI({
				apiKey: settings.apiKey,
				baseURL: settings.baseURL,
				timeout: this.timeoutMs,
				maxRetries: this.maxRetries,
				defaultHeaders: this.options.headers,
			});
			this.clients.set(key, client);
		}
		return client;
	}

	async complete(request: ProviderRequest): Promise<ProviderResponse> {
		const settings = this.settings(request.model);
		const context: ProviderErrorContext = {
			provider: this.name,
			model: request.model.name,
			baseURL: settings.baseURL,
			keyHint: KEY_HINT,
			timeoutMs: this.timeoutMs,
			maxRetries: this.maxRetries,
		};
		const started = Date.now();
		const client = this.client(settings);
		try {
			return request.model.api === 'responses'
				? await this.viaResponses(client, request, context)
				: await this.viaChat(client, request, context);
		} catch (error) {
			throw toProviderError(error, { ...context, elapsedMs: Date.now() - started });
		}
	}

	private async viaChat(client: OpenAI, request: ProviderRequest, context: ProviderErrorContext): Promise<ProviderResponse> {
		const messages: ChatCompletionMessageParam[] = [];
		if (request.system) messages.push({ role: 'system', content: request.system });
		for (const turn of request.messages) messages.push({ role: turn.role, content: turn.content });
		const body: ChatCompletionCreateParamsNonStreaming = {
			model: request.model.name,
			messages,
			temperature: request.model.temperature,
			// `max_tokens`, not `max_completion_tokens`: Ollama, vLLM and most compatible servers only know this one.
			max_tokens: request.model.maxTokens,
			response_format: {
				type: 'json_schema',
				json_schema: { name: request.schemaName, schema: request.jsonSchema, strict: true },
			},
		};
		const completion: unknown = await client.chat.completions.create(body, { signal: request.signal });
		if (!isObject(completion) || !Array.isArray(completion.choices)) {
			throw new ProviderError(`${context.provider} (${context.baseURL}) returned a response without "choices": is this an OpenAI-compatible chat completions endpoint?`);
		}
		const chat = completion as unknown as ChatCompletion;
		const message = chat.choices[0]?.message;
		if (message?.refusal) {
			throw new ProviderError(`model "${request.model.name}" refused to answer: ${message.refusal}`);
		}
		return {
			text: typeof message?.content === 'string' ? message.content : '',
			usage: { inputTokens: chat.usage?.prompt_tokens ?? 0, outputTokens: chat.usage?.completion_tokens ?? 0 },
			model: chat.model,
		};
	}

	private async viaResponses(client: OpenAI, request: ProviderRequest, context: ProviderErrorContext): Promise<ProviderResponse> {
		const body: ResponseCreateParamsNonStreaming = {
			model: request.model.name,
			input: request.messages.map((turn) => ({ role: turn.role, content: turn.content })),
			temperature: request.model.temperature,
			max_output_tokens: request.model.maxTokens,
			text: { format: { type: 'json_schema', name: request.schemaName, schema: request.jsonSchema, strict: true } },
		};
		if (request.system) body.instructions = request.system;
		const result: unknown = await client.responses.create(body, { signal: request.signal });
		if (!isObject(result) || !Array.isArray(result.output)) {
			throw new ProviderError(`${context.provider} (${context.baseURL}) returned a response without "output": does this server implement the Responses API?`);
		}
		const response = result as unknown as OpenAIResponse;
		for (const item of response.output) {
			if (item.type !== 'message') continue;
			for (const part of item.content) {
				if (part.type === 'refusal') {
					throw new ProviderError(`model "${request.model.name}" refused to answer: ${part.refusal}`);
				}
			}
		}
		return {
			text: typeof response.output_text === 'string' ? response.output_text : '',
			usage: { inputTokens: response.usage?.input_tokens ?? 0, outputTokens: response.usage?.output_tokens ?? 0 },
			model: response.model,
		};
	}
}

function isObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}
