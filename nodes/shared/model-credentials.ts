/**
 * Model credentials → providers. The nodes declare n8n's own `openAiApi` and `anthropicApi` credential
 * types as optional (in their descriptions, literally, for n8n's linter); the prompt's `model.provider`
 * decides at run time which one a call needs.
 */
import { NodeOperationError, type ICredentialDataDecryptedObject, type IExecuteFunctions } from 'n8n-workflow';
import { createProvider } from '../../lib/providers';
import type { Provider, ProviderOptions } from '../../lib/providers/types';
import type { ModelSpec, ProviderName } from '../../lib/types';

export const OPENAI_CREDENTIAL = 'openAiApi';
export const ANTHROPIC_CREDENTIAL = 'anthropicApi';

/** The defaults of the Base URL fields of n8n's openAiApi and anthropicApi credentials. */
const DEFAULT_URL: Record<ProviderName, string> = {
	openai: 'https://api.openai.com/v1',
	'openai-compatible': 'https://api.openai.com/v1',
	anthropic: 'https://api.anthropic.com',
};
const DEFAULT_URLS = new Set(Object.values(DEFAULT_URL));
/** OpenAI-compatible local servers ignore the key; sending a placeholder keeps the host's OPENAI_API_KEY private. */
const NO_KEY = 'not-needed';

export interface ModelCallOptions {
	timeoutMs: number;
	maxRetries: number;
	/** Requests-per-minute cap on the model endpoint and key (node option); undefined: none. */
	requestsPerMinute?: number;
}

function trim(url: string): string {
	return url.replace(/\/+$/, '');
}

function text(data: ICredentialDataDecryptedObject | undefined, key: string): string | undefined {
	const value = data?.[key];
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Custom header of n8n's model credentials ("Add Custom Header" / Header Name / Header Value). */
function customHeaders(data: ICredentialDataDecryptedObject | undefined): Record<string, string> {
	const headers: Record<string, string> = {};
	const name = text(data, 'headerName');
	if (data?.header === true && name) headers[name] = String(data.headerValue ?? '');
	return headers;
}

/**
 * Provider options for a prompt's model from the matching credential (undefined data: none selected).
 * The credential's key, organization and custom header travel only to the credential's own Base URL.
 * A credential left at its default Base URL does not override a server the prompt names (model.baseUrl):
 * that server gets none of the credential's secrets, only the provider's placeholder key.
 */
export function providerOptionsFor(model: ModelSpec, data: ICredentialDataDecryptedObject | undefined, call: ModelCallOptions): ProviderOptions {
	const base: ProviderOptions = { timeoutMs: call.timeoutMs, maxRetries: call.maxRetries, ...(call.requestsPerMinute ? { requestsPerMinute: call.requestsPerMinute } : {}) };
	if (!data) return model.provider === 'openai-compatible' ? { ...base, apiKey: NO_KEY } : base;
	const baseUrl = text(data, 'url') ?? DEFAULT_URL[model.provider];
	if (model.baseUrl && trim(model.baseUrl) !== trim(baseUrl) && DEFAULT_URLS.has(trim(baseUrl))) return base;
	const headers = customHeaders(data);
	if (model.provider !== 'anthropic') {
		const organization = text(data, 'organizationId');
		if (organization) headers['OpenAI-Organization'] = organization;
	}
	const apiKey = text(data, 'apiKey') ?? (model.provider === 'openai-compatible' ? NO_KEY : undefined);
	return { ...base, apiKey, baseUrl, ...(Object.keys(headers).length ? { headers } : {}) };
}

function credentialFor(provider: ProviderName): string {
	return provider === 'anthropic' ? ANTHROPIC_CREDENTIAL : OPENAI_CREDENTIAL;
}

/**
 * One provider per distinct credential and model server within a node execution, so SDK clients
 * (and their connection pools) are shared by all items.
 */
export class ProviderPool {
	private readonly credentials = new Map<string, Promise<ICredentialDataDecryptedObject | undefined>>();
	private readonly providers = new Map<string, Provider>();

	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly call: ModelCallOptions,
	) {}

	private credential(type: string): Promise<ICredentialDataDecryptedObject | undefined> {
		const cached = this.credentials.get(type);
		if (cached) return cached;
		const pending: Promise<ICredentialDataDecryptedObject | undefined> = this.ctx.getNode().credentials?.[type]
			? this.ctx.getCredentials<ICredentialDataDecryptedObject>(type)
			: Promise.resolve(undefined);
		this.credentials.set(type, pending);
		return pending;
	}

	/** The provider for a prompt's model. Throws NodeOperationError when the model needs a credential that is not selected. */
	async get(model: ModelSpec, promptId: string): Promise<Provider> {
		const type = credentialFor(model.provider);
		const data = await this.credential(type);
		if (!data && model.provider !== 'openai-compatible') {
			const label = model.provider === 'anthropic' ? 'Anthropic' : 'OpenAI';
			throw new NodeOperationError(this.ctx.getNode(), `prompt "${promptId}" uses provider "${model.provider}" (model "${model.name}"), but no ${label} credential is selected`, {
				description: `Select an ${label} credential in this node's credentials (type "${type}"). For an OpenAI-compatible server (Ollama, vLLM, a proxy) set its address as the credential's Base URL.`,
			});
		}
		const options = providerOptionsFor(model, data, this.call);
		const key = JSON.stringify([model.provider, options.apiKey ?? null, options.baseUrl ?? null, options.headers ?? null]);
		let provider = this.providers.get(key);
		if (!provider) {
			provider = createProvider(model, options);
			this.providers.set(key, provider);
		}
		return provider;
	}
}
