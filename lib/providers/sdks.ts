/**
 * The provider SDKs, loaded on first use instead of at start-up. Loading `openai` and `@anthropic-ai/sdk`
 * (with its OpenTelemetry dependency) takes ~200 ms of a CLI start; a `test` whose answers all come from the
 * response cache never calls a model and never needs either. Each is required when a client is made, then
 * kept. Classifying an error never loads an SDK (`loadedOpenaiSdk`, `loadedAnthropicSdk`): an error can only
 * be an instance of an SDK's classes if that SDK was loaded.
 */
import type * as OpenAIModule from 'openai';
import type * as AnthropicModule from '@anthropic-ai/sdk';

let openai: typeof OpenAIModule | undefined;
let anthropic: typeof AnthropicModule | undefined;

/** The `openai` package (its default export is the client class), loaded now if it was not. */
export function openaiSdk(): typeof OpenAIModule {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return (openai ??= require('openai') as typeof OpenAIModule);
}

/** The `@anthropic-ai/sdk` package (its default export is the client class), loaded now if it was not. */
export function anthropicSdk(): typeof AnthropicModule {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return (anthropic ??= require('@anthropic-ai/sdk') as typeof AnthropicModule);
}

/** The module `id` if this process has loaded it already (here or by any other `require`), without loading it. */
function alreadyLoaded<T>(id: string): T | undefined {
	try {
		return require.cache[require.resolve(id)]?.exports as T | undefined;
	} catch {
		return undefined;
	}
}

/** The `openai` package if it is loaded, else undefined. */
export function loadedOpenaiSdk(): typeof OpenAIModule | undefined {
	return (openai ??= alreadyLoaded<typeof OpenAIModule>('openai'));
}

/** The `@anthropic-ai/sdk` package if it is loaded, else undefined. */
export function loadedAnthropicSdk(): typeof AnthropicModule | undefined {
	return (anthropic ??= alreadyLoaded<typeof AnthropicModule>('@anthropic-ai/sdk'));
}
