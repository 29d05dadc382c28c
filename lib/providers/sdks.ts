/**
 * The provider SDKs, loaded on first use instead of at start-up. Loading `openai` and `@anthropic-ai/sdk`
 * (with its OpenTelemetry dependency) takes ~200 ms of a CLI start; a `test` whose answers all come from the
 * response cache never calls a model and never needs either. Each is required when a client is made or an
 * error of a call is classified (after a call, so the SDK is loaded by then), and then comes from Node's module cache.
 */
import type * as OpenAIModule from 'openai';
import type * as AnthropicModule from '@anthropic-ai/sdk';

/** The `openai` package (its default export is the client class). */
export function openaiSdk(): typeof OpenAIModule {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return require('openai') as typeof OpenAIModule;
}

/** The `@anthropic-ai/sdk` package (its default export is the client class). */
export function anthropicSdk(): typeof AnthropicModule {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return require('@anthropic-ai/sdk') as typeof AnthropicModule;
}

