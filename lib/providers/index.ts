import { ProviderError } from '../errors';
import type { ModelSpec } from '../types';
import { AnthropicProvider } from './anthropic';
import { OpenAIProvider } from './openai';
import type { Provider, ProviderOptions } from './types';

export type { ChatTurn, Provider, ProviderOptions, ProviderRequest, ProviderResponse } from './types';
export { AnthropicProvider } from './anthropic';
export { OpenAIProvider, type OpenAIProviderName } from './openai';
export { toProviderError, type ProviderErrorContext } from './errors';

/** The provider that serves `model.provider`. Keys, base URLs and timeouts come from `options`, else the prompt, else the environment. */
export function createProvider(model: ModelSpec, options: ProviderOptions = {}): Provider {
	switch (model.provider) {
		case 'openai':
		case 'openai-compatible':
			return new OpenAIProvider(model.provider, options);
		case 'anthropic':
			return new AnthropicProvider(options);
		default: {
			const unknown: never = model.provider;
			throw new ProviderError(
				`unknown provider "${String(unknown)}" for model "${model.name}": use openai, anthropic or openai-compatible`,
			);
		}
	}
}
