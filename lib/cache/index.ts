/** The response cache: keyed answers on disk behind the Provider seam (see caching-provider.ts, ADR 0020); parsed fixture files (parsed-yaml.ts). */
export { CachingProvider, isCacheable, type CachingProviderOptions } from './caching-provider';
export { DiskResponseStore, allocatedBytes, defaultCacheDir, folderWriteProblem, defaultCacheMaxBytes, DEFAULT_CACHE_MAX_BYTES, EVICT_TO, TOUCH_AFTER_MS, type CachedAnswer, type DiskResponseStoreOptions } from './disk-store';
export { ParsedYamlCache, ParsedYamlFolder, survivesJson } from './parsed-yaml';
export { cacheKeyParts, responseCacheKey, CACHE_FORMAT, type CacheKeyParts } from './key';
