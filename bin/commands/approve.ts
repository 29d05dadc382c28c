/**
 * `prompt-release approve <prompt> --version N [--channel production] [--reason "…"]`: record that the
 * current user (`$PROMPT_RELEASE_USER` or the OS user) approves a version's newest run for a channel
 * (policy `approvals`). The author of the version cannot approve it.
 */
import type { Command } from 'commander';
import { approveVersion } from '../../lib/approvals';
import { loadPolicy } from '../../lib/policy';
import { action, EXIT_OK, UsageError } from '../shared/exit';
import { out } from '../shared/output';
import { openStore, parseChannel, parseVersion, registryOption, requirePrompt } from '../shared/registry';

async function approve(promptId: string, opts: { version?: string; channel: string; reason?: string }, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	if (opts.version === undefined) throw new UsageError(`which version? e.g. "prompt-release approve ${promptId} --version 3"`);
	const version = parseVersion(opts.version, false) as number;
	const channel = parseChannel(opts.channel);
	const { entry, unchanged, state } = await approveVersion(store, promptId, version, { channel, ...(opts.reason ? { reason: opts.reason } : {}) });
	const required = (await loadPolicy(store, promptId)).approvals ?? 0;
	const count = `${state.valid.length}${required ? ` of ${required}` : ''} approval(s) for run ${state.runId}: ${state.valid.map((a) => a.by).join(', ') || 'none'}`;
	if (unchanged) out(`already approved: ${promptId} version ${version} for ${channel} — ${count}`);
	else out(`approved ${promptId} version ${version} for ${channel} as ${entry!.by} (run ${entry!.runId}) — ${count}`);
	if (!required) out(`note: the policy of "${promptId}" asks for no approvals (policy key "approvals"); recorded anyway`);
	return EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('approve')
		.description("approve a version's newest run for release (policy approvals); who: $PROMPT_RELEASE_USER or the OS user, never the version's author")
		.argument('<prompt>', 'prompt id')
		.option('--version <n>', 'the version to approve (required)')
		.option('--channel <name>', 'the channel it is approved for', 'production')
		.option('--reason <text>', 'why, kept in the release history')
		.addOption(registryOption())
		.action(action(approve));
}
