/**
 * One call of a released prompt for one item: resolve the release (through the shared TTL cache),
 * check and convert variables, pick the provider from the model credentials, run, and describe the result.
 */
import type { IDataObject, IExecuteFunctions, INode } from 'n8n-workflow';
import { declaredInputs } from '../../lib/corrections';
import { ConfigError, RegistryUnavailableError } from '../../lib/errors';
import { sharedReleaseCache } from '../../lib/release-cache';
import { candidatesOf, type PromptRef, type ReleaseResolution } from '../../lib/registry/resolve';
import type { PriceTable, RegistryStore } from '../../lib/registry/store';
import { runPrompt } from '../../lib/run-prompt';
import type { CallMeta, CallResult, ResolvedPrompt } from '../../lib/types';
import { toNodeError } from './errors';
import { cacheTtlMs, callOptions, type ModelCallOptionValues } from './descriptions';
import { ProviderPool } from './model-credentials';
import { getRegistryStore } from './registry';
import { coerceVariables } from './variables';

export interface CallEnvironment {
	node: INode;
	/** Logs a warning to the n8n log once per execution and message. */
	warnOnce: (message: string) => void;
	store: RegistryStore;
	providers: ProviderPool;
	cacheTtlMs: number;
	pricing: () => Promise<PriceTable>;
	signal?: AbortSignal;
}

/** What a model-calling node sets up once per execution: registry, providers, cache TTL, prices read once. */
export async function callEnvironment(ctx: IExecuteFunctions, options: ModelCallOptionValues): Promise<CallEnvironment> {
	const store = await getRegistryStore(ctx);
	let prices: Promise<PriceTable> | undefined;
	const warned = new Set<string>();
	return {
		node: ctx.getNode(),
		warnOnce: (message) => {
			if (warned.has(message)) return;
			warned.add(message);
			ctx.logger.warn(message);
		},
		store,
		providers: new ProviderPool(ctx, callOptions(options)),
		cacheTtlMs: cacheTtlMs(options),
		// Prices only weigh cost figures: while the registry cannot be read, the built-in table serves.
		pricing: () =>
			(prices ??= store.readPricing().catch((error: unknown) => {
				if (!(error instanceof RegistryUnavailableError)) throw error;
				ctx.logger.warn(`prompt-release: registry prices unreadable, using built-in prices: ${error.message}`);
				return {};
			})),
	};
}

/**
 * What the node may call for a reference (both arms of a channel with a canary), through the shared TTL
 * cache; the arm is picked per item with pickArm. Throws a node error that says what to fix.
 */
export async function resolveRelease(env: CallEnvironment, promptId: string, ref: PromptRef): Promise<ReleaseResolution> {
	try {
		const resolution = await sharedReleaseCache.resolution(env.store, promptId, ref, env.cacheTtlMs);
		if (resolution.stale) {
			env.warnOnce(`prompt-release: serving "${promptId}" as last read at ${resolution.stale.since}: the registry cannot be read (${resolution.stale.reason})`);
		}
		return resolution;
	} catch (error) {
		throw toNodeError(env.node, await explainResolveError(env.store, promptId, error));
	}
}

/** The input names any arm of the resolution declares. */
export function declaredNames(resolution: ReleaseResolution): string[] {
	return [...new Set(candidatesOf(resolution).flatMap((r) => Object.keys(r.spec.inputs)))];
}

/** A channel lookup of a prompt that does not exist reads as "nothing released": say what is wrong instead. */
async function explainResolveError(store: RegistryStore, promptId: string, error: unknown): Promise<unknown> {
	if (!(error instanceof ConfigError)) return error;
	const known = await store.listPrompts().catch(() => undefined);
	if (!known || known.includes(promptId)) return error;
	return new ConfigError(`prompt "${promptId}" not found in registry ${store.location}${known.length ? ` (prompts: ${known.join(', ')})` : ' (it holds no prompts)'}`);
}

/** The prompt's declared inputs from an item's raw variables, converted towards the declared types. */
export function prepareVariables(resolved: ResolvedPrompt, rawVariables: Record<string, unknown>): Record<string, unknown> {
	return declaredInputs(resolved.spec, coerceVariables(resolved.spec.inputs, rawVariables));
}

/** Throws InputError (variables), ProviderError (model, after retries) or NodeOperationError (credential missing). */
export async function callPrompt(env: CallEnvironment, resolved: ResolvedPrompt, variables: Record<string, unknown>): Promise<CallResult> {
	const provider = await env.providers.get(resolved.spec.model, resolved.promptId);
	// A consensus across providers gets each voter's provider (and credential) from the same pool.
	const result = await runPrompt(resolved, variables, provider, {
		pricing: await env.pricing(),
		signal: env.signal,
		providerFor: (model) => env.providers.get(model, resolved.promptId),
	});
	if (resolved.arm) result.meta.arm = resolved.arm;
	if (resolved.stale) result.meta.registryStale = resolved.stale;
	return result;
}

/** The metadata every output carries. */
export function metaJson(meta: CallMeta): IDataObject {
	return {
		prompt: meta.prompt,
		version: meta.version,
		contentHash: meta.contentHash,
		channel: meta.channel ?? null,
		arm: meta.arm ?? null,
		model: meta.model,
		provider: meta.provider,
		latencyMs: meta.latencyMs,
		inputTokens: meta.inputTokens,
		outputTokens: meta.outputTokens,
		costUsd: meta.costUsd,
		repaired: meta.repaired,
		finishReasons: meta.finishReasons,
		...(meta.tolerated ? { tolerated: meta.tolerated } : {}),
		...(meta.registryStale ? { registryWarning: `served from the last good read at ${meta.registryStale.since}: the registry cannot be read (${meta.registryStale.reason})` } : {}),
		...(meta.consensus ? { consensus: meta.consensus as unknown as IDataObject } : {}),
	};
}

/** What Record Correction needs to turn a reviewed answer into a fixture. */
export interface Trace extends IDataObject {
	prompt: string;
	version: number | 'draft';
	channel: string | null;
	/** Which arm of the channel served the call (null for pinned versions and the draft). */
	arm: 'stable' | 'canary' | null;
	/** The canary in force when the arm was chosen. */
	canaryId?: string;
	variables: IDataObject;
	modelOutput: string | null;
	value: IDataObject | string | number | boolean | null;
}

export function traceOf(resolved: ResolvedPrompt, variables: Record<string, unknown>, result?: CallResult): Trace {
	return {
		prompt: resolved.promptId,
		version: resolved.version,
		channel: resolved.channel ?? null,
		arm: resolved.arm ?? null,
		...(resolved.canaryId ? { canaryId: resolved.canaryId } : {}),
		variables: variables as IDataObject,
		modelOutput: result?.rawOutput ?? null,
		value: result?.valid ? (result.value as Trace['value']) : null,
	};
}

/** Metadata for a call that never produced a result (provider error): what is known from the resolution. */
export function metaOfResolved(resolved: ResolvedPrompt, partial?: Partial<CallMeta>): IDataObject {
	return metaJson({
		prompt: resolved.promptId,
		version: resolved.version,
		contentHash: resolved.contentHash,
		...(resolved.channel ? { channel: resolved.channel } : {}),
		...(resolved.arm ? { arm: resolved.arm } : {}),
		model: resolved.spec.model.name,
		provider: resolved.spec.model.provider,
		latencyMs: partial?.latencyMs ?? 0,
		inputTokens: partial?.inputTokens ?? 0,
		outputTokens: partial?.outputTokens ?? 0,
		costUsd: partial?.costUsd ?? 0,
		calls: partial?.calls ?? 0,
		repaired: false,
		finishReasons: partial?.finishReasons ?? [],
	});
}
