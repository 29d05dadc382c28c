/** `prompt-release promote <prompt>`: the running canary takes 100 % of the channel. */
import type { Command } from 'commander';
import { currentUser, promoteCanary } from '../../lib';
import { action, EXIT_OK } from '../shared/exit';
import { out } from '../shared/output';
import { openStore, parseChannel, registryOption, requirePrompt } from '../shared/registry';

async function promote(promptId: string, opts: { channel: string; reason?: string }, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const channel = parseChannel(opts.channel);
	const { entry } = await promoteCanary(store, promptId, { channel, reason: opts.reason, by: currentUser() });
	out(`promoted ${promptId} ${channel}: canary version ${entry.version} now serves 100% (was stable version ${entry.from})`);
	return EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('promote')
		.description('take the canary running on a channel to 100%: it becomes the stable version')
		.argument('<prompt>', 'prompt id')
		.option('--channel <name>', 'channel', 'production')
		.option('--reason <text>', 'why, kept in the release history')
		.addOption(registryOption())
		.action(action(promote));
}
