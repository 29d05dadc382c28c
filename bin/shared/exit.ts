/**
 * Exit codes and error reporting of the CLI.
 *   0 ok · 1 a failed test or a refused release · 2 usage, configuration or validation error.
 */
import { CommanderError } from 'commander';
import { ConfigErrors, GateRefusal, PromptReleaseError } from '../../lib/errors';
import { namedList } from '../../lib/listing';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A mistake on the command line that commander cannot see (a bad option value, a bad combination). */
export class UsageError extends PromptReleaseError {}

/** Errors go to stderr as `prompt-release: <message>`, one line per problem. */
export function printError(message: string): void {
	for (const line of message.split('\n')) process.stderr.write(`prompt-release: ${line}\n`);
}

/** A refusal: its rules, one line each, then the fixtures that failed in the run (the first NAMED_UP_TO, then how many more). */
export function printRefusal(error: GateRefusal): void {
	printError(error.message);
	if (error.failingFixtures.length) printError(`failing fixtures: ${namedList(error.failingFixtures)}`);
}

/** Report an error the way users see it and return the exit code it maps to. */
export function handleError(error: unknown): number {
	if (error instanceof CommanderError) {
		// commander already printed its message (see configureOutput); help and --version exit 0.
		return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (error instanceof GateRefusal) {
		printRefusal(error);
		return EXIT_FAILED;
	}
	if (error instanceof ConfigErrors) {
		for (const e of error.errors) printError(e.message);
		printError(`${error.errors.length} errors`);
		return EXIT_USAGE;
	}
	if (error instanceof PromptReleaseError) {
		printError(error.message);
		return EXIT_USAGE;
	}
	const e = error as NodeJS.ErrnoException;
	if (e && typeof e.code === 'string' && typeof e.message === 'string') {
		// File-system trouble (EACCES, ENOSPC, …): the message names the path.
		printError(e.message);
		return EXIT_USAGE;
	}
	printError(`internal error: ${e instanceof Error ? e.message : String(error)}`);
	if (process.env.PROMPT_RELEASE_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
	else process.stderr.write('prompt-release: (set PROMPT_RELEASE_DEBUG=1 for the stack trace; please report this)\n');
	return EXIT_USAGE;
}

/** The exit code the running command asked for (commands return it; see `action`). */
let requested = EXIT_OK;

export function requestedExitCode(): number {
	return requested;
}

/** Wrap a command handler: its returned number becomes the process exit code. */
export function action<A extends unknown[]>(handler: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
	return async (...args: A) => {
		const code = await handler(...args);
		requested = code ?? EXIT_OK;
	};
}
