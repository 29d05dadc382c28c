/**
 * Turns whatever an SDK call threw into a ProviderError a user can act on:
 * it names the provider, the base URL, the model and the HTTP status, and says what to check.
 */
import type { APIError as OpenAIAPIError } from 'openai';
import type { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import { ProviderError, type ProviderErrorCategory } from '../errors';
import type { ProviderName } from '../types';
import { loadedAnthropicSdk, loadedOpenaiSdk } from './sdks';

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
	/** API keys in play: redacted from every message (a server may echo the key it was sent in its error text). */
	secrets?: string[];
}

/** Replace every occurrence of a known key (whole, or a server's echo of its first 12+ characters) with a marker. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
	const mark = '[redacted API key]';
	// A key echoed inside a URL or form body arrives percent-encoded (`/` → %2F, `+` → %2B): redact that form too.
	const forms = [...new Set(secrets.filter((s) => s.length >= 8).flatMap((s) => [s, encodeURIComponent(s)]))].sort((x, y) => y.length - x.length);
	let out = text;
	for (const form of forms) out = out.split(form).join(mark);
	// Servers often echo a key's first characters; 12 or more of them are a leak too.
	for (const form of forms) for (let n = form.length - 1; n >= 12; n--) out = out.split(form.slice(0, n)).join(mark);
	return out;
}

type SdkAPIError = OpenAIAPIError | AnthropicAPIError;

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * The error classes of the SDKs this process has loaded (see ./sdks.ts): an error of an SDK that was never
 * loaded cannot reach here, so classifying never loads one.
 */
function sdkErrors(): { abort: ErrorClass[]; timeout: ErrorClass[]; connection: ErrorClass[]; status: ErrorClass[] } {
	const sdks = [loadedOpenaiSdk(), loadedAnthropicSdk()].filter((sdk) => sdk !== undefined);
	return {
		abort: sdks.map((sdk) => sdk.APIUserAbortError),
		timeout: sdks.map((sdk) => sdk.APIConnectionTimeoutError),
		connection: sdks.map((sdk) => sdk.APIConnectionError),
		status: sdks.map((sdk) => sdk.APIError),
	};
}

function isAbort(err: unknown): boolean {
	return sdkErrors().abort.some((c) => err instanceof c) || field(err, 'name') === 'AbortError';
}

function isTimeout(err: unknown): boolean {
	return sdkErrors().timeout.some((c) => err instanceof c);
}

function isConnectionError(err: unknown): err is Error {
	return sdkErrors().connection.some((c) => err instanceof c);
}

function isStatusError(err: unknown): err is SdkAPIError & { status: number } {
	return sdkErrors().status.some((c) => err instanceof c) && typeof (err as SdkAPIError).status === 'number';
}

function field(value: unknown, key: string): unknown {
	return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

/** The provider's explanation of an error: its message and its code (a string, or a number such as an HTTP status). */
export interface ServerDetail {
	message: string;
	code?: string;
}

/**
 * Read an error body in any of the shapes servers send: OpenAI `{error: {message, code, type}}`, Anthropic
 * `{type: 'error', error: {type, message}}`, vLLM `{message, type, code}`, Ollama `{error: "text"}`, and Gemini's
 * OpenAI-compatible list `[{error: {code, message, status}}]`. `fallback` is used when the body has no message.
 */
export function readServerDetail(body: unknown, fallback: string): ServerDetail {
	const top: unknown = Array.isArray(body) ? body[0] : body;
	if (typeof top === 'string' && top) return { message: top };
	const errorField = field(top, 'error');
	const inner = errorField !== null && typeof errorField === 'object' ? errorField : top;
	const message = field(inner, 'message') ?? field(top, 'message') ?? (typeof errorField === 'string' ? errorField : undefined);
	const rawCode = field(inner, 'code') ?? field(inner, 'type');
	// A numeric code that repeats the HTTP status says nothing more; a string code (or `type`) names the error.
	const stringCode = [field(inner, 'code'), field(inner, 'type'), field(inner, 'status')].find((c): c is string => typeof c === 'string' && c.length > 0);
	const code = stringCode ?? (typeof rawCode === 'number' ? String(rawCode) : undefined);
	return { message: typeof message === 'string' && message ? message : fallback, code };
}

/** The server's own explanation: OpenAI puts `{message, code}` in `err.error`, Anthropic the whole `{error: {type, message}}` body. */
function serverDetail(err: SdkAPIError): ServerDetail {
	return readServerDetail(err.error, err.message.replace(/^\d{3}\s+/, ''));
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

/** The messages along the error's cause chain (undici puts "bad port" in the cause of "fetch failed"). */
function causeMessages(err: unknown): string[] {
	const out: string[] = [];
	let current: unknown = err;
	for (let i = 0; i < 6 && current !== null && typeof current === 'object'; i++) {
		const message = field(current, 'message');
		if (typeof message === 'string') out.push(message);
		current = field(current, 'cause');
	}
	return out;
}

function portOf(baseURL: string): string {
	try {
		return new URL(baseURL).port || '(default)';
	} catch {
		return '(unknown)';
	}
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
/** Socket errors of a connection that was open and dropped: the next attempt may well get through. */
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Ports the WHATWG fetch standard ("port blocking") forbids: Node's `fetch` (undici), which both SDKs use,
 * refuses them before any byte is sent, whatever listens there.
 */
const FETCH_BAD_PORTS = new Set([
	0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
	119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
	989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

function badPortError(provider: ProviderName, baseURL: string, port: string): ProviderError {
	return fatal(
		new ProviderError(
			`cannot call ${provider} at ${baseURL}: fetch refuses port ${port} (a port on the "bad port" list of the WHATWG fetch standard, which Node's fetch enforces): run the server on another port and set that base URL`,
		),
	);
}

/**
 * Throws a fatal ProviderError when `fetch` will never open `baseURL`: a port on the fetch standard's
 * "bad port" list (e.g. 6000, 10080). Checked before the first call, so no call is made or retried.
 */
export function assertFetchablePort(provider: ProviderName, baseURL: string): void {
	let url: URL;
	try {
		url = new URL(baseURL);
	} catch {
		return; // the SDK reports a malformed URL itself
	}
	if (url.port && FETCH_BAD_PORTS.has(Number(url.port))) throw badPortError(provider, baseURL, url.port);
}

function retriesNote(maxRetries: number): string {
	return maxRetries > 0 ? ` after ${maxRetries} ${maxRetries === 1 ? 'retry' : 'retries'}` : '';
}

/** Error codes (OpenAI `code`, Anthropic `type`) meaning the account cannot be used as it is: retrying cannot help. */
const ACCOUNT_CODES = new Set([
	'insufficient_quota',
	'billing_error',
	'account_deactivated',
	'organization_deactivated',
	'access_terminated',
	'invalid_organization',
	'unsupported_country_region_territory',
	'payment_required',
]);
/**
 * Messages that say the same where a server sends no such code (Anthropic's low credit balance is a plain 400).
 * Only unambiguous wordings: a rate limit that mentions a quota ("Resource has been exhausted (e.g. check quota)")
 * or a field that mentions billing is not an account problem.
 */
const ACCOUNT_TEXT =
	/(exceeded your current quota|credit balance is too low|billing (is )?not active|(account|organi[sz]ation|api key|key)( has been| was| is)? (deactivated|disabled|suspended)|payment required|access (was |has been )?terminated)/i;

/** Whether a provider's error (HTTP status and body detail) says the account behind the key cannot be used: quota, billing, deactivated. */
export function isAccountRefusal(status: number | undefined, detail: ServerDetail): boolean {
	const code = detail.code?.toLowerCase();
	if (code && (ACCOUNT_CODES.has(code) || code.startsWith('billing_'))) return true;
	if (status === 402) return true;
	return (status === undefined || (status >= 400 && status < 500)) && ACCOUNT_TEXT.test(detail.message);
}

/** This item's input is too long for the model: OpenAI `context_length_exceeded`, Anthropic "prompt is too long", vLLM "maximum context length". */
const TOO_LONG_CODES = new Set(['context_length_exceeded', 'string_above_max_length', 'request_too_large']);
const TOO_LONG_TEXT = /(context length|context window|maximum context|prompt is too long|too many (input )?tokens|input is too long|reduce the length of the (messages|prompt)|exceeds? (the )?context limit)/i;
/** The input and the answer's token cap together exceed the window (Anthropic: "input length and `max_tokens` exceed context limit"). */
const WITH_CAP_TEXT = /max_tokens.{0,20}exceeds? (the )?context limit/i;
/** The provider's input filter refused this item's input (OpenAI `content_policy_violation`, `invalid_prompt`). */
const INPUT_FILTER_CODES = new Set(['content_policy_violation', 'invalid_prompt', 'content_filter']);
/** A 404 that is the provider saying the model is unknown, as opposed to nothing being served at that path. */
const MODEL_NOT_FOUND_CODES = new Set(['model_not_found', 'not_found_error']);
const MODEL_TEXT = /\bmodel\b/i;

/**
 * Classify a provider error from its HTTP status (undefined when the error came in a 200 body) and the body's
 * detail: the message says what happened and what to check, the category whether retrying or another item can help.
 */
export function classifyProviderError(status: number | undefined, detail: ServerDetail, ctx: ProviderErrorContext, options: { inBody?: boolean } = {}): ProviderError {
	const code = detail.code;
	const at = `${ctx.provider} (${ctx.baseURL})`;
	const tail = options.inBody
		? `(error in an HTTP 200 response${code ? `, code ${code}` : ''}: ${detail.message})`
		: `(HTTP ${status}${code ? ` ${code}` : ''}: ${detail.message})`;
	const retried = options.inBody ? '' : retriesNote(ctx.maxRetries);
	const make = (message: string, category: ProviderErrorCategory) => new ProviderError(`${message} ${tail}`, status, { category, code });
	const clientError = status !== undefined && status >= 400 && status < 500;
	if (isAccountRefusal(status, detail)) {
		return make(`${at} refused the account behind the key (quota, billing or a deactivated key/organisation): check the plan and billing details, or use another key in ${ctx.keyHint}; retrying will not help`, 'fatal');
	}
	if ((code && MODEL_NOT_FOUND_CODES.has(code)) || (status === 404 && MODEL_TEXT.test(detail.message))) {
		return make(`model "${ctx.model}" is not available at ${at}: check model.name in the prompt or the provider's model list`, 'fatal');
	}
	if (status === 404) {
		return make(
			`nothing answers at ${ctx.baseURL} for this API (HTTP 404 from the server, not a model error): check the base URL (an OpenAI-compatible server usually needs the /v1 path, e.g. http://localhost:11434/v1 for Ollama) or the model name "${ctx.model}"`,
			'fatal',
		);
	}
	if (status === 401 || code === 'authentication_error' || code === 'invalid_api_key') {
		return make(`${at} rejected the API key: set a valid key in ${ctx.keyHint}`, 'fatal');
	}
	if (status === 403 || code === 'permission_error') {
		return make(`${at} refused access to model "${ctx.model}": check that the key in ${ctx.keyHint} may use it`, 'fatal');
	}
	if (clientError && WITH_CAP_TEXT.test(detail.message)) {
		return make(`input plus maxTokens exceed the context window of model "${ctx.model}": shorten this item's input, lower model.maxTokens or use a model with a larger context window`, 'input');
	}
	if (status === 413 || (code && TOO_LONG_CODES.has(code)) || (clientError && TOO_LONG_TEXT.test(detail.message))) {
		return make(`input too long for model "${ctx.model}": shorten this item's input or use a model with a larger context window`, 'input');
	}
	if (code && INPUT_FILTER_CODES.has(code)) {
		return make(`${at} refused this item's input with its content filter: a person must decide this item`, 'input');
	}
	if (status === 429) {
		return make(`rate limited by ${at}${retried}: the item can be retried later; lower the concurrency or raise the account's limits`, 'transient');
	}
	if (status === undefined || status >= 500) {
		const how = status === undefined ? 'answered with an error instead of an answer' : `failed with a server error${retried}`;
		return make(`${at} ${how}: try again later`, 'transient');
	}
	if (status === 408 || status === 409) {
		return make(`${at} did not complete the request${retried}: try again`, 'transient');
	}
	return make(`${at} rejected the request for model "${ctx.model}": check the prompt's model settings (name, maxTokens, temperature) for this server`, 'fatal');
}

/**
 * A 200 body that is an error object instead of an answer (OpenRouter and other proxies: `{"error": {"message",
 * "code": 502}}`): the provider's own message and code, classified like an HTTP error of that code. Returns
 * undefined when the body carries no `error`.
 */
export function errorInBody(body: unknown, ctx: ProviderErrorContext): ProviderError | undefined {
	const top: unknown = Array.isArray(body) ? body[0] : body;
	const inner = field(top, 'error');
	if (inner === undefined || inner === null || inner === false) return undefined;
	const detail = readServerDetail(top, 'no error message');
	const numeric = Number(field(inner, 'code'));
	const status = Number.isInteger(numeric) && numeric >= 400 && numeric < 600 ? numeric : undefined;
	const error = classifyProviderError(status, detail, ctx, { inBody: true });
	return ctx.secrets?.length ? Object.assign(error, { message: redactSecrets(error.message, ctx.secrets) }) : error;
}

/** Map anything an SDK call threw to a ProviderError, with every known API key redacted from its message. */
export function toProviderError(err: unknown, ctx: ProviderErrorContext): ProviderError {
	const error = mapError(err, ctx);
	if (ctx.secrets?.length) error.message = redactSecrets(error.message, ctx.secrets);
	return error;
}

/** Map anything an SDK call threw to a ProviderError. A ProviderError passes through unchanged. */
function mapError(err: unknown, ctx: ProviderErrorContext): ProviderError {
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
	if (isStatusError(err)) return classifyProviderError(err.status, serverDetail(err), ctx);
	if (isConnectionError(err)) {
		const code = causeCode(err);
		if (causeMessages(err).some((m) => /^bad port$/i.test(m))) return badPortError(ctx.provider, ctx.baseURL, portOf(ctx.baseURL));
		// The answer had started and was cut short (./http-fetch.ts reads small bodies before the SDK sees them).
		if (causeMessages(err).some((m) => /^terminated$/i.test(m))) {
			return new ProviderError(`${at} closed the connection before the response was complete${retriesNote(ctx.maxRetries)}: try again`);
		}
		if (code && DROPPED.has(code)) {
			return new ProviderError(`the connection to ${ctx.provider} at ${ctx.baseURL} was reset (${code}) before the answer was complete${retriesNote(ctx.maxRetries)}: try again`);
		}
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
