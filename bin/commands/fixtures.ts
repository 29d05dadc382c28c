/** `prompt-release fixtures import <prompt> <file>`: JSONL or CSV rows become fixture files. */
import type { Command } from 'commander';
import { importFixtures } from '../../lib';
import { action } from '../shared/exit';
import { out, plural } from '../shared/output';
import { openStore, registryOption, requirePrompt, shownPath } from '../shared/registry';

async function importCommand(promptId: string, file: string, _opts: unknown, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const result = await importFixtures(store, promptId, shownPath(file));
	const total = result.created.length + result.updated.length;
	out(`imported ${plural(total, 'fixture')} into ${promptId}: ${result.created.length} created, ${result.updated.length} updated`);
	return 0;
}

export function register(program: Command): void {
	const fixtures = program.command('fixtures').description('manage regression fixtures').addOption(registryOption());
	fixtures
		.command('import')
		.description('import fixtures from a .jsonl file ({"inputs": {…}, "expected": …, "segment"?, "id"?} per line) or a .csv/.tsv file (input columns, "expected", "segment", "id"; comma, semicolon or tab separated); UTF-8 (BOM or not) or UTF-16 with BOM, any line endings; nothing is written when any row is bad')
		.argument('<prompt>', 'prompt id')
		.argument('<file>', '.jsonl, .csv or .tsv file')
		.addOption(registryOption())
		.action(action(importCommand));
}
