/** `prompt-release publish <folder> --to <postgres-url> [prompt…]`: push what git reviewed to the runtime registry. */
import type { Command } from 'commander';
import { publishRegistry } from '../../lib/registry/publish';
import { action, EXIT_FAILED, EXIT_OK } from '../shared/exit';
import { note, out } from '../shared/output';
import { folderStore, postgresStore } from '../shared/postgres';
import { shownPath } from '../shared/registry';

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function publish(folder: string, prompts: string[], opts: { to?: string; resolve?: string[]; repair?: string[] }): Promise<number> {
	const source = folderStore(folder, '<folder>');
	const target = postgresStore(opts.to ?? process.env.PROMPT_RELEASE_REGISTRY, '--to', true);
	const report = await publishRegistry(source, target, prompts, { resolve: opts.resolve, repair: opts.repair });
	let kept = 0;
	for (const p of report.prompts) {
		const added = p.versionsAdded.length ? `versions ${p.versionsAdded.join(', ')} added` : 'no new version';
		out(`${p.promptId}: ${added} (${p.versionsPresent.length} already published), ${p.fixturesWritten.length} fixture(s) written, ${p.fixturesUnchanged} unchanged, ${p.runsAdded.length} run(s) added`);
		if (p.versionsRepaired.length) out(`${p.promptId}: repaired version(s) ${p.versionsRepaired.join(', ')} from git (same content hash)`);
		for (const id of p.fixturesResolved) out(`${p.promptId}: resolved ${id}: the folder's file replaces production's change`);
		for (const id of p.fixturesKept) {
			kept++;
			note(
				`NOT PUBLISHED ${p.promptId}/fixtures/${id}.yaml: changed in production since the last publish/pull, production's copy kept. Run "prompt-release pull --from <url> ${shownPath(folder)}" (it writes production's copy as ${id}.yaml.production), merge it into ${id}.yaml and commit; publish then recognises the resolution — or make the folder's file win with "prompt-release publish ${shownPath(folder)} --to <url> --resolve ${p.promptId}/${id}"`,
			);
		}
	}
	out(`published ${report.prompts.length} prompt(s) from ${shownPath(folder)} to ${target.location}; channels unchanged${kept ? `; ${kept} fixture(s) NOT published (production's copy kept)` : ''}`);
	return kept ? EXIT_FAILED : EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('publish')
		.description('push frozen versions, drafts, fixtures, run reports, policies and prices from a registry folder to a PostgreSQL registry (never channels)')
		.argument('<folder>', 'the registry folder in git')
		.argument('[prompt...]', 'only these prompts (default: all)')
		.option('--to <postgres-url>', 'the PostgreSQL registry (default: $PROMPT_RELEASE_REGISTRY when it is a URL)')
		.option('--resolve <prompt/fixture>', 'a fixture changed in production and in git: the folder\'s file wins (repeatable; <prompt> alone: all its fixtures)', collect)
		.option('--repair <prompt@version>', 'rewrite a damaged published version from git\'s file with the same content hash (repeatable)', collect)
		.action(action(publish));
}
