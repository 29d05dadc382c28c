/** `prompt-release publish <folder> --to <postgres-url> [prompt…]`: push what git reviewed to the runtime registry. */
import type { Command } from 'commander';
import { publishRegistry } from '../../lib/registry/publish';
import { action, EXIT_OK } from '../shared/exit';
import { note, out } from '../shared/output';
import { folderStore, postgresStore } from '../shared/postgres';
import { shownPath } from '../shared/registry';

async function publish(folder: string, prompts: string[], opts: { to?: string }): Promise<number> {
	const target = postgresStore(opts.to ?? process.env.PROMPT_RELEASE_REGISTRY, '--to', true);
	const source = folderStore(folder, '<folder>');
	const report = await publishRegistry(source, target, prompts);
	for (const p of report.prompts) {
		const added = p.versionsAdded.length ? `versions ${p.versionsAdded.join(', ')} added` : 'no new version';
		out(`${p.promptId}: ${added} (${p.versionsPresent.length} already published), ${p.fixturesWritten.length} fixture(s) written, ${p.fixturesUnchanged} unchanged, ${p.runsAdded.length} run(s) added`);
		if (p.fixturesKept.length) {
			note(`${p.promptId}: kept ${p.fixturesKept.join(', ')} as recorded in production (changed there since the last publish): run "prompt-release pull --from <url> ${shownPath(folder)}" and review first`);
		}
	}
	out(`published ${report.prompts.length} prompt(s) from ${shownPath(folder)} to ${target.location}; channels unchanged`);
	return EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('publish')
		.description('push frozen versions, drafts, fixtures, run reports, policies and prices from a registry folder to a PostgreSQL registry (never channels)')
		.argument('<folder>', 'the registry folder in git')
		.argument('[prompt...]', 'only these prompts (default: all)')
		.option('--to <postgres-url>', 'the PostgreSQL registry (default: $PROMPT_RELEASE_REGISTRY when it is a URL)')
		.action(action(publish));
}
