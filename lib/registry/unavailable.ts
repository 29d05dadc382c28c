/**
 * Which low-level errors mean "the registry cannot be read right now" (RegistryUnavailableError) rather than
 * "the registry is wrong". File system codes are Node's errno names; PostgreSQL ones are SQLSTATE classes
 * 08 (connection exception) and 57P (operator intervention: shutdown, 57P03 cannot connect now), 53300 (too many
 * connections) and 55000 when the database does not allow connections (object not in prerequisite state); sources:
 * Node.js "Common system errors", PostgreSQL "Appendix A. Error Codes".
 */
import { ConfigError, RegistryUnavailableError, type ErrorLocation } from '../errors';

const FS_CODES = new Set(['EACCES', 'EPERM', 'EIO', 'EBUSY', 'EMFILE', 'ENFILE', 'ESTALE', 'ETIMEDOUT', 'EAGAIN', 'ENOTCONN', 'EHOSTDOWN']);
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

function codeOf(error: unknown): string | undefined {
	const code = (error as { code?: unknown } | null)?.code;
	return typeof code === 'string' ? code : undefined;
}

/** A file system error that says the storage is not readable now (not that a file is missing or wrong). */
export function isUnavailableFsError(error: unknown): boolean {
	const code = codeOf(error);
	return code !== undefined && FS_CODES.has(code);
}

/** A node-postgres error that says the database does not answer (connection refused/lost, shutdown, pool timeout). */
export function isUnavailableDbError(error: unknown): boolean {
	const code = codeOf(error);
	if (code && (NET_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300')) return true;
	const message = error instanceof Error ? error.message : '';
	// 55000 is also raised for other objects "not in prerequisite state": only the refused connection counts.
	if (code === '55000') return /does not allow connections|not currently accepting connections/i.test(message);
	return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/i.test(message);
}

/** Wrap an unavailable-storage error as RegistryUnavailableError (a ConfigError: exit 2 in the CLI), naming where. */
export function unavailable(message: string, location: ErrorLocation = {}): ConfigError {
	return new RegistryUnavailableError(message, location);
}
