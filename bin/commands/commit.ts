/** `prompt-release commit <prompt> [-m msg]`: freeze the draft into the next version. */
import type { Command } from 'commander';
import { commitDraft, currentUser } from '../../lib';
import { action } from '../shared/exit';
import { out } from '../shared/output';
import { refuseVersionsInDatabase } from '../shared/postgres';
import { openStore, registryDir, registryOption, requirePrompt } from '../shared/registry';

async function commit(promptId: string, opts: { message?: string }, cmd: Command): Promise<number> {
	refuseVersionsInDatabase(registryDir(cmd), 'commit');
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const frozen = await commitDraft(store, promptId, { message: opts.message, author: currentUser() });
	out(`committed ${promptId} version ${frozen.version} (${frozen.contentHash})`);
	return 0;
}

export function register(program: Command): void {
	program
		.command('commit')
		.description('freeze the draft (prompt.yaml) into the next immutable, content-hashed version')
		.argument('<prompt>', 'prompt id')
		.option('-m, --message <msg>', 'what changed and why')
		.addOption(registryOption())
		.action(action(commit));
}
