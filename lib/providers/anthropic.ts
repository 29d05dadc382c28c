/**
 * Anthropic through the official `@anthropic-ai/sdk` Messages API.
 * The schema travels as the input schema of one forced tool; the answer is that tool call's input.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming, Tool } from '@anthropic-ai/sdk/resources/messages/messages';
import { ProviderError } from '../errors';
import type { ModelSpec } from '../types';
import { toProviderError, type ProviderErrorContext } from './errors';
import type { Provider, ProviderOptions, ProviderRequest, ProviderResponse } from './types';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const KEY_HINT = 'ANTHROPIC_API_KEY or the API key of the n8n credential';

function env(name: string): string | undefined {
	const value = process.env[name]?.trim();
	return value ? value : undefined;
}

interface ClientSettings {
	baseURL: string;
	/** Undefined: the SDK finds the credential itself (ANTHROPIC_AUTH_TOKEN, ANTHROPIC_PROFILE). */
	apiKey?: string;
}

export class AnthropicProvider implements Provider {
	readonly name = 'anthropic' as const;
	private readonly options: ProviderOptions;
	private readonly clients = new Map<string, Anthropic>();

	constructor(options: ProviderOptions = {}) {
		this.options = options;
	}

	private get timeoutMs(): number {
		return this.options.timeoutMs ?? 60_000;
	}

	private get maxRetries(): number {
		return this.options.maxRetries ?? 2;
	}

	private settings(model: ModelSpec): ClientSettings {
		const baseURL = this.options.baseUrl ?? model.baseUrl ?? env('ANTHROPIC_BASE_URL') ?? DEFAULT_BASE_URL;
		const apiKey = this.options.apiKey ?? env('ANTHROPIC_API_KEY');
		if (!apiKey && !env('ANTHROPIC_AUTH_TOKEN') && !env('ANTHROPIC_PROFILE')) {
			throw new ProviderError(`no Anthropic API key for model "${model.name}": set ${KEY_HINT}`);
		}
		return { baseURL, apiKey };
	}

	private client(settings: ClientSettings): Anthropic {
		const key = `${settings.baseURL}\n${settings.apiKey ?? ''}`;
		let client = this.clients.get(key);
		if (!client) {
			client = new Anthropic({
				...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
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
		const tool: Tool = {
			name: request.schemaName,
			description: toolDescription(request),
			input_schema: request.jsonSchema as Tool.InputSchema,
		};
		const body: MessageCreateParamsNonStreaming = {
			model: request.model.name,
			max_tokens: request.model.maxTokens,
			// No `temperature`: API version 2026-10-21 (the one @anthropic-ai/sdk 1.x sends) has no sampling parameters.
			// The turns already alternate user / assistant, starting with the user.
			messages: request.messages.map((turn) => ({ role: turn.role, content: turn.content })),
			tools: [tool],
			tool_choice: { type: 'tool', name: request.schemaName },
		};
		if (request.system) body.system = request.system;
		let result: unknown;
		try {
			result = await this.client(settings).messages.create(body, { signal: request.signal });
		} catch (error) {
			throw toProviderError(error, { ...context, elapsedMs: Date.now() - started });
		}
		if (!isObject(result) || !Array.isArray(result.content)) {
			throw new ProviderError(`${this.name} (${settings.baseURL}) returned a response without "content": is this the Anthropic Messages API?`);
		}
		return readMessage(result as unknown as Message, request);
	}
}

function toolDescription(request: ProviderRequest): string {
	const described = request.jsonSchema['description'];
	const what = typeof described === 'string' && described ? `${described}. ` : '';
	return `${what}Report the answer by calling this tool once, with input matching its schema.`;
}

function readMessage(message: Message, request: ProviderRequest): ProviderResponse {
	const usage = { inputTokens: message.usage?.input_tokens ?? 0, outputTokens: message.usage?.output_tokens ?? 0 };
	const toolUse = message.content.find((block) => block.type === 'tool_use' && block.name === request.schemaName)
		?? message.content.find((block) => block.type === 'tool_use');
	if (toolUse && toolUse.type === 'tool_use') {
		return { text: JSON.stringify(toolUse.input ?? null), usage, model: message.model };
	}
	const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
	if (message.stop_reason === 'refusal') {
		throw new ProviderError(`model "${request.model.name}" refused to answer${text ? `: ${text}` : ''}`);
	}
	return { text, usage, model: message.model };
}

function isObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}
