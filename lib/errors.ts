import type { CallMeta } from './types';

/**
 * Errors the core raises. Every message says where (file, field, line, item) and what to do.
 * The CLI maps them to exit codes: UsageError/ConfigError/ValidationError → 2, GateRefusal → 1.
 */

export interface ErrorLocation {
	file?: string;
	field?: string;
	line?: number;
}

export class PromptReleaseError extends Error {
	constructor(message: string) {
		super(message);
		this.name = new.target.name;
	}
}

function locate(loc: ErrorLocation): string {
	const parts: string[] = [];
	if (loc.file) parts.push(loc.line ? `${loc.file}:${loc.line}` : loc.file);
	if (loc.field) parts.push(`field "${loc.field}"`);
	return parts.join(' ');
}

/** A registry file is missing, malformed or inconsistent. */
export class ConfigError extends PromptReleaseError {
	readonly location: ErrorLocation;
	constructor(message: string, location: ErrorLocation = {}) {
		const where = locate(location);
		super(where ? `${where}: ${message}` : message);
		this.location = location;
	}
}

/**
 * The registry cannot be read right now — its folder is gone or not permitted, an I/O error, the database does not
 * answer — as opposed to a registry that reads but is wrong (hash mismatch, invalid YAML: a plain ConfigError).
 * A warm release cache may serve its last good resolution for a bounded time on this error (stale-if-error),
 * never on a plain ConfigError.
 */
export class RegistryUnavailableError extends ConfigError {}

/** A registry file is not valid YAML (its syntax, not its content): possibly a file another writer is still writing. */
export class YamlSyntaxError extends ConfigError {}

/** Several problems found at once (e.g. `validate`). */
export class ConfigErrors extends PromptReleaseError {
	readonly errors: ConfigError[];
	constructor(errors: ConfigError[]) {
		super(errors.map((e) => e.message).join('\n'));
		this.errors = errors;
	}
}

/** Bad input to a call: a missing variable, a wrong-typed variable, an unknown prompt. */
export class InputError extends PromptReleaseError {}

/**
 * What a provider failure means for the caller, decided from what the provider said (status and error code):
 * - `fatal`: retrying cannot help and every call would fail alike — no/invalid/deactivated key, quota or billing
 *   exhausted, unknown model, a request the server rejects, nothing listening at the base URL. Ends a test run
 *   (exit 2, nothing stored) and fails an n8n node.
 * - `input`: this item's input cannot be answered by this model (too long for its context window, refused by the
 *   provider's input filter): the item is invalid with that reason; not retryable, not fatal.
 * - `transient`: still failing after the SDK's own retries (rate limit, 5xx, overloaded, timeout, connection reset,
 *   malformed response): the item is invalid with `retryable: true`; the rest go on.
 */
export type ProviderErrorCategory = 'fatal' | 'input' | 'transient';

/** A model/provider call failed (after the SDK's retries). */
export class ProviderError extends PromptReleaseError {
	readonly status?: number;
	/** The provider's error code or type when it sent one (e.g. `insufficient_quota`, `context_length_exceeded`). */
	code?: string;
	category: ProviderErrorCategory;
	/** What the failed call had used so far (tokens, latency, calls), when known. */
	meta?: CallMeta;
	constructor(message: string, status?: number, options: { fatal?: boolean; category?: ProviderErrorCategory; code?: string } = {}) {
		super(message);
		this.status = status;
		this.category = options.category ?? (options.fatal ? 'fatal' : 'transient');
		if (options.code) this.code = options.code;
	}

	/** True when retrying cannot help (category `fatal`): a test run stops at such an error instead of failing every fixture with it. */
	get fatal(): boolean {
		return this.category === 'fatal';
	}

	set fatal(value: boolean) {
		this.category = value ? 'fatal' : 'transient';
	}
}

/** The release gate said no. */
export class GateRefusal extends PromptReleaseError {
	/** The fixtures named by the refusal that failed in the run (not those with stale evidence or not covered by it). */
	readonly failingFixtures: string[];
	constructor(message: string, failingFixtures: string[] = []) {
		super(message);
		this.failingFixtures = failingFixtures;
	}
}

/**
 * A run stopped from outside (`signal` of `streamFixtureRun`, e.g. Ctrl-C in the CLI): no more fixtures were
 * started and calls in flight were aborted. The caller discards what it wrote; no run exists.
 */
export class RunInterrupted extends PromptReleaseError {
	/** What stopped it, e.g. "SIGINT". */
	readonly reason: string;
	constructor(reason: string) {
		super(`the run was interrupted (${reason}): no run was stored`);
		this.reason = reason;
	}
}
