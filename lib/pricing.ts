import type { PriceTable } from './registry/store';
import type { ProviderName } from './types';

/**
 * Built-in list prices, USD per million tokens. A registry overrides or extends them in `pricing.yaml`:
 *   models:
 *     "openai:gpt-4o-mini": {input: 0.15, output: 0.6}
 * Unknown models cost 0 (reported as such, never guessed).
 */
export const DEFAULT_PRICES: PriceTable = {
	'openai:gpt-4o': { input: 2.5, output: 10 },
	'openai:gpt-4o-mini': { input: 0.15, output: 0.6 },
	'openai:gpt-4.1': { input: 2, output: 8 },
	'openai:gpt-4.1-mini': { input: 0.4, output: 1.6 },
	'openai:gpt-4.1-nano': { input: 0.1, output: 0.4 },
	'openai:gpt-5': { input: 1.25, output: 10 },
	'openai:gpt-5-mini': { input: 0.25, output: 2 },
	'openai:gpt-5-nano': { input: 0.05, output: 0.4 },
	'anthropic:claude-3-5-haiku-latest': { input: 0.8, output: 4 },
	'anthropic:claude-haiku-4-5': { input: 1, output: 5 },
	'anthropic:claude-sonnet-4-5': { input: 3, output: 15 },
	'anthropic:claude-sonnet-4-0': { input: 3, output: 15 },
	'anthropic:claude-opus-4-1': { input: 15, output: 75 },
};

export function priceOf(table: PriceTable, provider: ProviderName, model: string): { input: number; output: number } | undefined {
	return table[`${provider}:${model}`] ?? table[model] ?? DEFAULT_PRICES[`${provider}:${model}`];
}

export function costUsd(table: PriceTable, provider: ProviderName, model: string, inputTokens: number, outputTokens: number): number {
	const price = priceOf(table, provider, model);
	if (!price) return 0;
	return (inputTokens * price.input + outputTokens * price.output) / 1_000_000;
}

/**
 * Share of the list price a batch answer costs: both providers price their batch APIs at half.
 * Sources: OpenAI Batch API guide ("a 50% cost discount compared to synchronous APIs",
 * https://platform.openai.com/docs/guides/batch) and Anthropic Message Batches ("all usage is charged at
 * 50% of the standard API prices", https://docs.claude.com/en/docs/build-with-claude/batch-processing#pricing).
 */
export const BATCH_PRICE_FACTOR = 0.5;

/** Cost in USD of tokens answered through a batch API: the list price times BATCH_PRICE_FACTOR. */
export function batchCostUsd(table: PriceTable, provider: ProviderName, model: string, inputTokens: number, outputTokens: number): number {
	return costUsd(table, provider, model, inputTokens, outputTokens) * BATCH_PRICE_FACTOR;
}
