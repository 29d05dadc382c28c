/** The `prompt-release` program: commander setup, one module per command, exit-code mapping. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { closeRegistryConnections } from '../lib/registry/open';
import { handleError, requestedExitCode } from './shared/exit';
import { registryOption } from './shared/registry';
import { register as registerInit } from './commands/init';
import { register as registerValidate } from './commands/validate';
import { register as registerCommit } from './commands/commit';
import { register as registerFixtures } from './commands/fixtures';
import { register as registerTest } from './commands/test';
import { register as registerRelease } from './commands/release';
import { register as registerRollback } from './commands/rollback';
import { register as registerStatus } from './commands/status';
import { register as registerModelServer } from './commands/model-server';
import { register as registerGate } from './commands/gate';
import { register as registerPromote } from './commands/promote';
import { register as registerReport } from './commands/report';
import { register as registerDiff } from './commands/diff';
import { register as registerMigrate } from './commands/migrate';
import { register as registerPublish } from './commands/publish';
import { register as registerPull } from './commands/pull';
import { register as registerDb } from './commands/db';
import { register as registerDrift } from './commands/drift';
import { register as registerApprove } from './commands/approve';
import { register as registerMetrics } from './commands/metrics';
import { register as registerReview } from './commands/review';

function packageVersion(): string {
	// dist/bin/cli.js and bin/cli.ts both sit two levels below the package root.
	for (const up of [['..', '..'], ['..']]) {
		try {
			const pkg = JSON.parse(readFileSync(path.join(__dirname, ...up, 'package.json'), 'utf8')) as { name?: string; version?: string };
			if (pkg.name === 'n8n-nodes-prompt-release' && pkg.version) return pkg.version;
		} catch {
			// try the next candidate
		}
	}
	return 'unknown';
}

/** Usage errors exit 2 with `prompt-release: <message>`; --help and --version exit 0. */
function configure(cmd: Command): Command {
	return cmd
		.exitOverride()
		.showHelpAfterError('(run with --help for usage)')
		.configureOutput({
			outputError: (text, write) => write(`prompt-release: ${text.replace(/^error: /, '')}`),
		});
}

export function buildProgram(): Command {
	const program = configure(new Command('prompt-release'))
		.description('Prompts as code: versioned, content-hashed prompts with regression fixtures and release gates.')
		.version(packageVersion(), '-V, --version', 'print the version of prompt-release')
		// Program options go before the command name, so `test --version 3` means the prompt version;
		// every command also accepts --registry itself.
		.enablePositionalOptions()
		.addOption(registryOption())
		.addHelpText(
			'after',
			'\nExit codes: 0 ok, 1 a fixture failed or a release was refused, 2 usage, configuration or validation error.\nRegistry: --registry DIR|postgres://user@host:5432/db?schema=NAME, else $PROMPT_RELEASE_REGISTRY, else ./prompts.',
		);
	for (const register of [registerInit, registerValidate, registerCommit, registerFixtures, registerTest, registerApprove, registerRelease, registerPromote, registerRollback, registerGate, registerMigrate, registerDrift, registerDiff, registerReport, registerStatus, registerReview, registerMetrics, registerPublish, registerPull, registerDb, registerModelServer]) {
		register(program);
	}
	const configureAll = (cmd: Command): void => {
		for (const sub of cmd.commands) {
			configure(sub);
			configureAll(sub);
		}
	};
	configureAll(program);
	return program;
}

/** Run the CLI and return its exit code (never throws). */
export async function main(argv: string[]): Promise<number> {
	try {
		await buildProgram().parseAsync(argv);
		return requestedExitCode();
	} catch (error) {
		return handleError(error);
	} finally {
		// Database pools and listeners must not keep the process alive.
		await closeRegistryConnections();
	}
}
