/** `prompt-release promote <prompt>`: the running canary takes 100 % of the channel, if the gate still allows. */
import type { Command } from 'commander';
import { currentUser, promoteCanary } from '../../lib';
import { action, EXIT_OK, printError, UsageError } from '../shared/exit';
import { out } from '../shared/output';
import { openStore, parseChannel, registryOption, requirePrompt } from '../shared/registry';

async function promote(promptId: string, opts: { channel: string; reason?: string; force?: boolean }, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const channel = parseChannel(opts.channel);
	if (opts.force && !opts.reason?.trim()) throw new UsageError('--force needs --reason "…": forcing a promotion past a frozen canary or the gate is recorded in the history and shown by status');
	// A refusal (frozen canary, gate) is a GateRefusal: printed with its rules and fixtures, exit 1.
	const { entry, overridden } = await promoteCanary(store, promptId, { channel, reason: opts.reason, by: currentUser(), force: opts.force === true });
	if (overridden.length) {
		printError(`WARNING: FORCED past the gate: ${opts.reason!}`);
		for (const v of overridden) printError(`  ignored [${v.rule}] ${v.message}`);
	}
	out(`promoted ${promptId} ${channel}: canary version ${entry.version} now serves 100% (was stable version ${entry.from})${overridden.length ? ' — FORCED past the gate' : ''}`);
	return EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('promote')
		.description('take the canary running on a channel to 100%: it becomes the stable version (refused when the canary is frozen or the gate refuses it now)')
		.argument('<prompt>', 'prompt id')
		.option('--channel <name>', 'channel', 'production')
		.option('--reason <text>', 'why, kept in the release history (required with --force)')
		.option('--force', 'promote although the canary is frozen or the gate refuses (needs --reason; recorded as forced in history and status)')
		.addOption(registryOption())
		.action(action(promote));
}
