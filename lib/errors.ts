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

/** A model/provider call failed (after the SDK's retries). */
export class ProviderError extends PromptReleaseError {
	readonly status?: number;
	/**
	 * True when retrying cannot help: no/invalid key, model not found, connection refused, missing
	 * base URL. A test run stops at such an error instead of failing every fixture with it.
	 * Set by the constructor option or by assignment where the error is mapped.
	 */
	fatal?: boolean;
	/** What the failed call had used so far (tokens, latency, calls), when known. */
	meta?: CallMeta;
	constructor(message: string, status?: number, options: { fatal?: boolean } = {}) {
		super(message);
		this.status = status;
		if (options.fatal !== undefined) this.fatal = options.fatal;
	}
}

/** The release gate said no. */
export class GateRefusal extends PromptReleaseError {
	readonly failingFixtures: string[];
	constructor(message: string, failingFixtures: string[] = []) {
		super(message);
		this.failingFixtures = failingFixtures;
	}
}
