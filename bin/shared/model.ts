/** `--model provider:name`: run a prompt against another model than its spec names. */
import type { ModelSpec, PromptSpec, ProviderName } from '../../lib';
import { UsageError } from './exit';

const PROVIDERS: readonly ProviderName[] = ['openai', 'anthropic', 'openai-compatible'];

export function parseModelOption(value: string): { provider: ProviderName; name: string } {
	const at = value.indexOf(':');
	const provider = (at > 0 ? value.slice(0, at) : '') as ProviderName;
	const name = at > 0 ? value.slice(at + 1).trim() : '';
	if (!PROVIDERS.includes(provider) || !name) {
		throw new UsageError(`--model "${value}" is invalid: write provider:name with provider one of ${PROVIDERS.join(', ')} (e.g. openai-compatible:llama3, anthropic:claude-haiku-4-5)`);
	}
	return { provider, name };
}

/** The spec with another provider/model. A base URL or API choice made for another provider is dropped. */
export function withModel(spec: PromptSpec, override: { provider: ProviderName; name: string }): PromptSpec {
	const model: ModelSpec = { ...spec.model, provider: override.provider, name: override.name };
	if (override.provider !== spec.model.provider) delete model.baseUrl;
	if (override.provider === 'anthropic') delete model.api;
	return { ...spec, model };
}
