/** `prompt-release pull --from <postgres-url> <folder>`: bring production corrections back to git as fixture files. */
import type { Command } from 'commander';
import { pullRegistry } from '../../lib/registry/pull';
import { action, EXIT_FAILED, EXIT_OK } from '../shared/exit';
import { note, out } from '../shared/output';
import { folderStore, postgresStore } from '../shared/postgres';
import { shownPath } from '../shared/registry';

async function pull(folder: string, prompts: string[], opts: { from?: string; runs?: boolean }): Promise<number> {
	const target = folderStore(folder, '<folder>');
	const source = postgresStore(opts.from ?? process.env.PROMPT_RELEASE_REGISTRY, '--from');
	const report = await pullRegistry(source, target, { promptIds: prompts, runs: opts.runs });
	for (const w of report.written) out(`${w.created ? 'new' : 'updated'}: ${shownPath(target.promptDir(w.promptId))}/fixtures/${w.fixtureId}.yaml`);
	for (const r of report.runsWritten) out(`run: ${shownPath(target.promptDir(r.promptId))}/runs/${r.runId}.json`);
	for (const n of report.newerInFolder) {
		note(`${n.resolved ? 'resolved in the folder (it holds production\'s changes)' : 'newer in the folder'}: ${n.promptId}/fixtures/${n.fixtureId}.yaml (publish pushes it)`);
	}
	for (const p of report.skippedPrompts) note(`skipped "${p}": only the database has it (add it to the folder first)`);
	for (const v of report.versionsOnlyInDatabase) {
		note(
			`WARNING ${v.promptId}: version(s) ${v.versions.join(', ')} exist only in ${source.location}, never in git: they were not reviewed, and publishing git's own version under those numbers will be refused. Versions are made in git (commit in the folder, then publish).`,
		);
	}
	for (const c of report.conflicts) {
		note(
			`CONFLICT ${c.promptId}/fixtures/${c.fixtureId}.yaml changed in the folder and in production since the last publish/pull: left unchanged; production's copy is in ${shownPath(c.productionCopy)}. Merge what you keep into ${c.fixtureId}.yaml, commit and publish (a file holding production's changes is recognised), or make the folder's file win: publish --resolve ${c.promptId}/${c.fixtureId}`,
		);
	}
	out(`pulled ${report.written.length} fixture(s)${opts.runs ? ` and ${report.runsWritten.length} run(s)` : ''} from ${source.location} into ${shownPath(folder)}; review them in a pull request${report.conflicts.length ? `; ${report.conflicts.length} conflict(s)` : ''}`);
	return report.conflicts.length ? EXIT_FAILED : EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('pull')
		.description('write corrections recorded in a PostgreSQL registry back to a registry folder as fixture files (conflicts are reported, with production\'s copy next to the file)')
		.argument('<folder>', 'the registry folder in git')
		.argument('[prompt...]', 'only these prompts (default: all the folder has)')
		.option('--from <postgres-url>', 'the PostgreSQL registry (default: $PROMPT_RELEASE_REGISTRY when it is a URL)')
		.option('--runs', 'also copy run reports the folder does not have')
		.action(action(pull));
}
