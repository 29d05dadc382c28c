/** `prompt-release rollback <prompt>`: point a channel back at the version it had before. */
import type { Command } from 'commander';
import { currentUser, rollbackChannel } from '../../lib';
import { action } from '../shared/exit';
import { out } from '../shared/output';
import { openStore, parseChannel, registryOption, requirePrompt } from '../shared/registry';

async function rollback(promptId: string, opts: { channel: string; reason?: string }, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const channel = parseChannel(opts.channel);
	const { entry } = await rollbackChannel(store, promptId, { channel, reason: opts.reason, by: currentUser() });
	if (entry.canaryId) out(`ended canary ${entry.canaryId} of ${promptId} ${channel}: version ${entry.from} removed, version ${entry.version} serves 100%`);
	else out(`rolled back ${promptId} ${channel}: version ${entry.from} → ${entry.version}`);
	return 0;
}

export function register(program: Command): void {
	program
		.command('rollback')
		.description('end the canary running on a channel, or else point the channel back at the version it had before')
		.argument('<prompt>', 'prompt id')
		.option('--channel <name>', 'channel', 'production')
		.option('--reason <text>', 'why, kept in the release history')
		.addOption(registryOption())
		.action(action(rollback));
}
