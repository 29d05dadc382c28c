/**
 * Turns whatever an SDK call threw into a ProviderError a user can act on:
 * it names the provider, the base URL, the model and the HTTP status, and says what to check.
 */
import {
	APIConnectionError as OpenAIConnectionError,
	APIConnectionTimeoutError as OpenAITimeoutError,
	APIError as OpenAIAPIError,
	APIUserAbortError as OpenAIAbortError,
} from 'openai';
import {
	APIConnectionError as AnthropicConnectionError,
	APIConnectionTimeoutError as AnthropicTimeoutError,
	APIError as AnthropicAPIError,
	APIUserAbortError as AnthropicAbortError,
} from '@anthropic-ai/sdk';
import { ProviderError, type ProviderErrorCategory } from '../errors';
import type { ProviderName } from '../types';

export interface ProviderErrorContext {
	provider: ProviderName;
	model: string;
	baseURL: string;
	/** Where the key comes from, e.g. `OPENAI_API_KEY or the API key of the n8n credential`. */
	keyHint: string;
	timeoutMs: number;
	maxRetries: number;
	/** How long the call took, when known: tells a timeout from a refused connection if the SDK could not. */
	elapsedMs?: number;
}

type SdkAPIError = OpenAIAPIError | AnthropicAPIError;

function isAbort(err: unknown): boolean {
	return err instanceof OpenAIAbortError || err instanceof AnthropicAbortError || field(err, 'name') === 'AbortError';
}

function isTimeout(err: unknown): boolean {
	return err instanceof OpenAITimeoutError || err instanceof AnthropicTimeoutError;
}

function isConnectionError(err: unknown): err is Error {
	return err instanceof OpenAIConnectionError || err instanceof AnthropicConnectionError;
}

function isStatusError(err: unknown): err is SdkAPIError & { status: number } {
	return (err instanceof OpenAIAPIError || err instanceof AnthropicAPIError) && typeof err.status === 'number';
}

function field(value: unknown, key: string): unknown {
	return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

/** The server's own explanation: OpenAI puts `{message, code}` in `err.error`, Anthropic the whole `{error: {type, message}}` body. */
function serverDetail(err: SdkAPIError): { message: string; code?: string } {
	const body: unknown = err.error;
	const inner = field(body, 'error') ?? body;
	const message = field(inner, 'message') ?? field(body, 'message');
	const code = field(inner, 'code') ?? field(inner, 'type');
	const text = typeof message === 'string' ? message : err.message.replace(/^\d{3}\s+/, '');
	return { message: text, code: typeof code === 'string' ? code : undefined };
}

/** The first `code` (ECONNREFUSED, ENOTFOUND, …) found along the error's cause chain. */
function causeCode(err: unknown): string | undefined {
	let current: unknown = err;
	for (let i = 0; i < 6 && current !== null && typeof current === 'object'; i++) {
		const code = field(current, 'code');
		if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
		current = field(current, 'cause');
	}
	return undefined;
}

/**
 * Marks an error that retrying cannot fix (a missing or rejected key, an unknown model, nothing listening
 * at the base URL), so callers can stop instead of repeating the same failing call for every item or fixture.
 */
export function fatal(error: ProviderError): ProviderError {
	error.category = 'fatal';
	return error;
}

/** Socket errors that mean nothing answers at that address: a retry hits the same wall. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND']);

function retriesNote(maxRetries: number): string {
	return maxRetries > 0 ? ` after ${maxRetries} ${maxRetries === 1 ? 'retry' : 'retries'}` : '';
}

/** Error codes (OpenAI `code`, Anthropic `type`) meaning the account cannot be used as it is: retrying cannot help. */
const ACCOUNT_CODES = new Set([
	'insufficient_quota',
	'billing_not_active',
	'billing_hard_limit_reached',
	'billing_error',
	'account_deactivated',
	'organization_deactivated',
	'access_terminated',
	'invalid_organization',
	'unsupported_country_region_territory',
]);
/** Messages that say the same where a server sends no such code (Anthropic's low credit balance is a plain 400). */
const ACCOUNT_TEXT = /\b(quota|billing|credit balance|deactivated|account (is )?(not active|disabled|suspended)|organi[sz]ation (has been )?disabled|access (was )?terminated)\b/i;
/** This item's input is too long for the model: OpenAI `context_length_exceeded`, Anthropic "prompt is too long", vLLM "maximum context length". */
const TOO_LONG_CODES = new Set(['context_length_exceeded', 'string_above_max_length', 'request_too_large']);
const TOO_LONG_TEXT = /(context length|context window|maximum context|prompt is too long|too many (input )?tokens|input is too long|reduce the length of the (messages|prompt))/i;
/** The provider's input filter refused this item's input (OpenAI `content_policy_violation`, `invalid_prompt`). */
const INPUT_FILTER_CODES = new Set(['content_policy_violation', 'invalid_prompt', 'content_filter']);

function fromStatus(err: SdkAPIError & { status: number }, ctx: ProviderErrorContext): ProviderError {
	const { status } = err;
	const detail = serverDetail(err);
	const code = detail.code;
	const at = `${ctx.provider} (${ctx.baseURL})`;
	const tail = `(HTTP ${status}${code ? ` ${code}` : ''}: ${detail.message})`;
	const make = (message: string, category: ProviderErrorCategory) => new ProviderError(`${message} ${tail}`, status, { category, code });
	if ((code && ACCOUNT_CODES.has(code)) || status === 402 || (status >= 400 && status < 500 && ACCOUNT_TEXT.test(detail.message))) {
		return make(`${at} refused the account behind the key (quota, billing or a deactivated key/organisation): check the plan and billing details, or use another key in ${ctx.keyHint}; retrying will not help`, 'fatal');
	}
	if (status === 404 || code === 'model_not_found' || code === 'not_found_error') {
		return make(`model "${ctx.model}" is not available at ${at}: check model.name in the prompt or the provider's model list`, 'fatal');
	}
	if (status === 401 || code === 'authentication_error') {
		return make(`${at} rejected the API key: set a valid key in ${ctx.keyHint}`, 'fatal');
	}
	if (status === 403 || code === 'permission_error') {
		return make(`${at} refused access to model "${ctx.model}": check that the key in ${ctx.keyHint} may use it`, 'fatal');
	}
	if (status === 413 || (code && TOO_LONG_CODES.has(code)) || (status >= 400 && status < 500 && TOO_LONG_TEXT.test(detail.message))) {
		return make(`input too long for model "${ctx.model}": shorten this item's input or use a model with a larger context window`, 'input');
	}
	if (code && INPUT_FILTER_CODES.has(code)) {
		return make(`${at} refused this item's input with its content filter: a person must decide this item`, 'input');
	}
	if (status === 429) {
		return make(`rate limited by ${at}${retriesNote(ctx.maxRetries)}: the item can be retried later; lower the concurrency or raise the account's limits`, 'transient');
	}
	if (status >= 500) {
		return make(`${at} failed with a server error${retriesNote(ctx.maxRetries)}: try again later`, 'transient');
	}
	if (status === 408 || status === 409) {
		return make(`${at} did not complete the request${retriesNote(ctx.maxRetries)}: try again`, 'transient');
	}
	return make(`${at} rejected the request for model "${ctx.model}": check the prompt's model settings (name, maxTokens, temperature) for this server`, 'fatal');
}

/** Map anything an SDK call threw to a ProviderError. A ProviderError passes through unchanged. */
export function toProviderError(err: unknown, ctx: ProviderErrorContext): ProviderError {
	if (err instanceof ProviderError) return err;
	const at = `${ctx.provider} (${ctx.baseURL})`;
	// A connection error without a socket error code that took at least the timeout is a timeout
	// (the OpenAI SDK cannot recognise an AbortError from another realm, e.g. under Jest).
	const lateConnectionError = isConnectionError(err) && !causeCode(err) && (ctx.elapsedMs ?? 0) >= ctx.timeoutMs;
	if (isTimeout(err) || lateConnectionError) {
		const attempts = ctx.maxRetries + 1;
		return new ProviderError(
			`request to ${at} for model "${ctx.model}" timed out after ${ctx.timeoutMs} ms` +
				(attempts > 1 ? ` (${attempts} attempts)` : '') +
				': raise the timeout or check that the server answers',
		);
	}
	if (isAbort(err)) return new ProviderError(`request to ${at} for model "${ctx.model}" was aborted`);
	if (isStatusError(err)) return fromStatus(err, ctx);
	if (isConnectionError(err)) {
		const code = causeCode(err);
		const error = new ProviderError(
			`could not connect to ${ctx.provider} at ${ctx.baseURL}${code ? ` (${code})` : ''}: check that the server is running and the base URL is right`,
		);
		return code && UNREACHABLE.has(code) ? fatal(error) : error;
	}
	// Name checks, not instanceof: under a test runner's sandbox the error may come from another realm.
	const name = typeof field(err, 'name') === 'string' ? (field(err, 'name') as string) : '';
	const message = typeof field(err, 'message') === 'string' ? (field(err, 'message') as string) : String(err);
	if (name === 'SyntaxError') {
		return new ProviderError(`${at} returned a response that is not valid JSON: ${message}`);
	}
	if (name === 'TypeError' && /terminated|socket|other side closed/i.test(`${message} ${String(field(err, 'cause'))}`)) {
		return new ProviderError(`${at} closed the connection before the response was complete: try again`);
	}
	return new ProviderError(`request to ${at} for model "${ctx.model}" failed: ${message}`);
}
