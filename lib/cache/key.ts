/**
 * The response cache key: sha256 of the canonical JSON of everything that decides an answer, as the
 * provider will send it — provider, base URL, the whole model spec (name, api, temperature, maxTokens,
 * baseUrl), the rendered system text and messages, the wire JSON Schema and its name — plus the repeat
 * attempt (from the second attempt on) and a format version. Change any of them and the key changes.
 */
import { canonicalJson, sha256 } from '../hash';
import type { ProviderRequest } from '../providers/types';
import type { ProviderName } from '../types';

/** Bumped whenever the key or the stored entry changes shape: old entries then simply miss. */
export const CACHE_FORMAT = 1;

/** What the key is computed over (exported so tests and docs can see it). */
export interface CacheKeyParts {
	format: number;
	provider: ProviderName;
	/** The base URL the provider will call, trailing slashes removed. */
	baseUrl: string;
	model: ProviderRequest['model'];
	system: string;
	messages: ProviderRequest['messages'];
	jsonSchema: ProviderRequest['jsonSchema'];
	schemaName: string;
	/** The repeat attempt (2, 3, …); absent for single runs and first attempts, so N repeats stay N calls. */
	attempt?: number;
}

/** The parts of a request that decide its answer. */
export function cacheKeyParts(provider: ProviderName, baseUrl: string, request: ProviderRequest): CacheKeyParts {
	return {
		format: CACHE_FORMAT,
		provider,
		baseUrl: baseUrl.replace(/\/+$/, ''),
		model: request.model,
		system: request.system,
		messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
		jsonSchema: request.jsonSchema,
		schemaName: request.schemaName,
		...(request.attempt !== undefined && request.attempt > 1 ? { attempt: request.attempt } : {}),
	};
}

/** 64 lowercase hex characters (also a valid batch `custom_id` for both providers). */
export function responseCacheKey(provider: ProviderName, baseUrl: string, request: ProviderRequest): string {
	return sha256(canonicalJson(cacheKeyParts(provider, baseUrl, request)));
}
