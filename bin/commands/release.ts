/** `prompt-release release <prompt> --version N`: put a tested version on a channel, if the gate allows. */
import type { Command } from 'commander';
import { currentUser, GateRefusal, releaseVersion } from '../../lib';
import { action, EXIT_FAILED, EXIT_OK, printError, UsageError } from '../shared/exit';
import { out } from '../shared/output';
import { openStore, parseChannel, parseVersion, registryOption, requirePrompt } from '../shared/registry';

interface ReleaseOptions {
	version?: string;
	channel: string;
	reason?: string;
}

async function release(promptId: string, opts: ReleaseOptions, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	if (opts.version === undefined) throw new UsageError(`which version? e.g. "prompt-release release ${promptId} --version 3"`);
	const version = parseVersion(opts.version, false) as number;
	const channel = parseChannel(opts.channel);
	try {
		const outcome = await releaseVersion(store, promptId, version, { channel, reason: opts.reason, by: currentUser() });
		if (outcome.unchanged) {
			const since = outcome.state.channels[channel]?.since;
			out(`${promptId} version ${version} is already on ${channel}${since ? ` (since ${since})` : ''}: nothing changed`);
		} else {
			const from = outcome.entry?.from !== undefined ? `; was version ${outcome.entry.from}` : '';
			out(`released ${promptId} version ${version} to ${channel} (run ${outcome.run.runId})${from}`);
		}
		return EXIT_OK;
	} catch (error) {
		if (!(error instanceof GateRefusal)) throw error;
		printError(error.message);
		if (error.failingFixtures.length) printError(`failing fixtures: ${error.failingFixtures.join(', ')}`);
		return EXIT_FAILED;
	}
}

export function register(program: Command): void {
	program
		.command('release')
		.description('put a version on a channel; refused unless a stored run of exactly that version passed every fixture without regressions')
		.argument('<prompt>', 'prompt id')
		.option('--version <n>', 'the version to release (required)')
		.option('--channel <name>', 'channel', 'production')
		.option('--reason <text>', 'why, kept in the release history')
		.addOption(registryOption())
		.action(action(release));
}
