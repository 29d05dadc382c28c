/** What the OpenAI and Anthropic providers share: options, environment look-ups, one SDK client per server and key. */
import { limitedFetch, limiterFor, SDK_TIMEOUT_WHEN_LIMITED, stopRetriesOnAccountErrors, type FetchLike } from '../throughput/shared-limiters';
import type { ProviderName } from '../types';
import { assertFetchablePort, type ProviderErrorContext } from './errors';
import type { ProviderOptions } from './types';

/** Sent to servers that only a prompt file names (never a real key); local servers ignore it, the SDKs insist on one. */
export const PLACEHOLDER_KEY = 'not-needed';

export function env(name: string): string | undefined {
	const value = process.env[name]?.trim();
	return value ? value : undefined;
}

/** Same server: equal up to trailing slashes. Anything else counts as a different server. */
export function sameUrl(a: string, b: string): boolean {
	return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

export function isObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export interface ClientSettings {
	baseURL: string;
	/** Undefined (Anthropic only): the SDK finds the credential itself. */
	apiKey?: string;
	/** Where a key for this server is read from, as error messages name it (default: the provider's usual hint). */
	keyHint?: string;
}

/** The SDK options both clients take: base URL, key, the SDK's own timeout and retries, extra headers. */
export interface SdkClientOptions {
	baseURL: string;
	apiKey?: string;
	timeout: number;
	maxRetries: number;
	defaultHeaders?: Record<string, string>;
	/** Every HTTP attempt goes through the process-wide limiter of this base URL and key (lib/throughput). */
	fetch?: FetchLike;
}

export abstract class SdkProvider<Client> {
	abstract readonly name: ProviderName;
	protected readonly options: ProviderOptions;
	private readonly clients = new Map<string, Client>();

	constructor(options: ProviderOptions = {}) {
		this.options = options;
	}

	protected get timeoutMs(): number {
		return this.options.timeoutMs ?? 60_000;
	}

	protected get maxRetries(): number {
		return this.options.maxRetries ?? 2;
	}

	/**
	 * One client per server and key, so all calls share its connection pool. Unless `adaptive: false`, the
	 * client's fetch goes through the process-wide adaptive limiter of that server and key (docs/adr/0030).
	 * Either way, an error response that says the account cannot be used (quota, billing) is marked so the SDK
	 * does not retry it. Throws a fatal ProviderError for a base URL on a port `fetch` refuses to open.
	 */
	protected client(settings: ClientSettings, make: (options: SdkClientOptions) => Client): Client {
		const key = `${settings.baseURL}\n${settings.apiKey ?? ''}`;
		let client = this.clients.get(key);
		if (!client) {
			assertFetchablePort(this.name, settings.baseURL);
			client = make({
				baseURL: settings.baseURL,
				...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
				maxRetries: this.maxRetries,
				defaultHeaders: this.options.headers,
				// Through the limiter, the attempt timeout runs from the moment a request leaves it (limitedFetch).
				...(this.options.adaptive === false
					? { timeout: this.timeoutMs, fetch: stopRetriesOnAccountErrors() }
					: {
							timeout: SDK_TIMEOUT_WHEN_LIMITED,
							fetch: stopRetriesOnAccountErrors(limitedFetch(limiterFor(settings.baseURL, settings.apiKey), { rpm: this.options.requestsPerMinute, timeoutMs: this.timeoutMs })),
						}),
			});
			this.clients.set(key, client);
		}
		return client;
	}

	/** `secrets`: keys that may be in play for this call; they are redacted from every error message. */
	protected errorContext(model: string, baseURL: string, keyHint: string, secrets: Array<string | undefined> = []): ProviderErrorContext {
		const known = [...secrets, this.options.apiKey].filter((s): s is string => typeof s === 'string' && s.length >= 8 && s !== PLACEHOLDER_KEY);
		return { provider: this.name, model, baseURL, keyHint, timeoutMs: this.timeoutMs, maxRetries: this.maxRetries, secrets: known };
	}
}
