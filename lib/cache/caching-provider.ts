/**
 * The response cache as a decorator at the provider seam: wraps any Provider, so the runner, the CLI
 * and the nodes share one cache without knowing about it.
 *
 * Only finished answers (`end.reason === 'stop'`) and refusals are stored: a cut-off, a filtered answer
 * or a transient failure (thrown) is never cached, so it is asked again next time.
 */
import type { ModelSpec } from '../types';
import type { Provider, ProviderRequest, ProviderResponse } from '../providers/types';
import type { DiskResponseStore } from './disk-store';
import { responseCacheKey } from './key';

export interface CachingProviderOptions {
	/** Read answers from the cache (default true). */
	read?: boolean;
	/** Store new answers (default true). */
	write?: boolean;
	/** The clock for `fetchedAt` (tests). */
	now?: () => Date;
	/** Called once, with the error, the first time an answer cannot be stored (full disk, lost permission); the call still succeeds. */
	onStoreError?: (error: unknown) => void;
}

/** Whether an answer may be reused: the model finished it, or declined. */
export function isCacheable(response: ProviderResponse): boolean {
	return response.end.reason === 'stop' || response.end.reason === 'refusal';
}

export class CachingProvider implements Provider {
	readonly name: Provider['name'];
	private readonly inner: Provider;
	private readonly store: DiskResponseStore;
	private readonly options: CachingProviderOptions;
	private storeFailed = false;

	constructor(inner: Provider, store: DiskResponseStore, options: CachingProviderOptions = {}) {
		this.inner = inner;
		this.name = inner.name;
		this.store = store;
		this.options = options;
	}

	baseUrlFor(model: ModelSpec): string {
		return this.inner.baseUrlFor?.(model) ?? model.baseUrl ?? '';
	}

	/** The cache key of a request (see lib/cache/key.ts). */
	keyOf(request: ProviderRequest): string {
		return responseCacheKey(this.inner.name, this.baseUrlFor(request.model), request);
	}

	/**
	 * A cached answer (marked `cached: true`, with the `fetchedAt` of when it was fetched) or a fresh one
	 * (`fetchedAt` now), stored when it finished or was a refusal. A cache that cannot be written (full disk,
	 * no permission) never fails the call: the first such error goes to `onStoreError`. Provider errors pass
	 * through untouched.
	 */
	async complete(request: ProviderRequest): Promise<ProviderResponse> {
		const key = this.keyOf(request);
		if (this.options.read !== false) {
			const hit = await this.store.get(key);
			if (hit) return { ...hit.response, fetchedAt: hit.fetchedAt, cached: true };
		}
		const response = await this.inner.complete(request);
		const fetchedAt = response.fetchedAt ?? (this.options.now?.() ?? new Date()).toISOString();
		const fresh: ProviderResponse = { ...response, fetchedAt };
		delete fresh.cached;
		if (this.options.write !== false && isCacheable(fresh)) {
			await this.store.put(key, { fetchedAt, response: fresh }).catch((error: unknown) => {
				if (this.storeFailed) return;
				this.storeFailed = true;
				this.options.onStoreError?.(error);
			});
		}
		return fresh;
	}
}
