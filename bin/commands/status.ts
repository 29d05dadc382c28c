/** `prompt-release status [prompt]`: versions, draft, channels, fixtures, last run, last change. */
import type { Command } from 'commander';
import { promptStatus, PromptReleaseError, type HistoryEntry, type PromptStatus } from '../../lib';
import { action, EXIT_OK, EXIT_USAGE, printError } from '../shared/exit';
import { oneLine, out, percent, plural, table } from '../shared/output';
import { openStore, registryOption, requirePrompt } from '../shared/registry';

function when(iso: string): string {
	return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z');
}

function versionsText(s: PromptStatus): string {
	const v = s.versions;
	if (!v.length) return '-';
	return v.length <= 5 ? v.join(', ') : `${v[0]}…${v[v.length - 1]} (${v.length})`;
}

function draftText(s: PromptStatus): string {
	if (!s.versions.length) return 'new (not committed)';
	return s.draftChanged ? `changed since v${s.versions[s.versions.length - 1]}` : `= v${s.versions[s.versions.length - 1]}`;
}

function channelsText(s: PromptStatus, withSince: boolean): string {
	const entries = Object.entries(s.channels).sort(([a], [b]) => a.localeCompare(b));
	if (!entries.length) return '-';
	return entries.map(([name, p]) => `${name}=v${p.version}${withSince ? ` (since ${when(p.since)})` : ''}`).join(', ');
}

function fixturesText(s: PromptStatus): string {
	const parts = Object.entries(s.fixtures.bySource).map(([source, n]) => `${source} ${n}`);
	return `${s.fixtures.total}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

function lastRunText(s: PromptStatus, withId: boolean): string {
	const r = s.lastRun;
	if (!r) return '-';
	const version = r.version === 'draft' ? 'draft' : `v${r.version}`;
	const regressions = r.regressions ? `, ${plural(r.regressions, 'regression')}` : '';
	return `${version} ${r.passed}/${r.total} ${percent(r.passRate)}${regressions}${withId ? ` (run ${r.runId})` : ''}`;
}

function historyText(e: HistoryEntry): string {
	const move = e.from !== undefined ? `v${e.from} → v${e.version}` : `v${e.version}`;
	return `${e.action} ${e.channel} ${move} by ${e.by} at ${when(e.at)}${e.reason ? `: "${oneLine(e.reason)}"` : ''}`;
}

function printOne(s: PromptStatus): void {
	out(`${s.id}${s.description ? ` — ${oneLine(s.description)}` : ''}`);
	const rows = [
		['model', s.model],
		['versions', versionsText(s)],
		['draft', draftText(s)],
		['channels', channelsText(s, true)],
		['fixtures', fixturesText(s)],
		['last run', lastRunText(s, true)],
		['last change', s.lastHistory ? historyText(s.lastHistory) : '-'],
	];
	for (const line of table(['', ''], rows).slice(1)) out(`  ${line}`);
}

function printAll(list: PromptStatus[]): void {
	const rows = list.map((s) => [s.id, s.model, versionsText(s), draftText(s), channelsText(s, false), fixturesText(s), lastRunText(s, false)]);
	for (const line of table(['PROMPT', 'MODEL', 'VERSIONS', 'DRAFT', 'CHANNELS', 'FIXTURES', 'LAST RUN'], rows)) out(line);
	const changes = list.filter((s) => s.lastHistory);
	if (changes.length) {
		out();
		out('last changes:');
		for (const s of changes) out(`  ${s.id}: ${historyText(s.lastHistory!)}`);
	}
}

async function status(promptId: string | undefined, opts: { json?: boolean }, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	if (promptId !== undefined) {
		await requirePrompt(store, promptId);
		const s = await promptStatus(store, promptId);
		if (opts.json) out(JSON.stringify(s, null, 2));
		else printOne(s);
		return EXIT_OK;
	}
	const ids = await store.listPrompts();
	const list: PromptStatus[] = [];
	let failed = false;
	for (const id of ids) {
		try {
			list.push(await promptStatus(store, id));
		} catch (error) {
			if (!(error instanceof PromptReleaseError)) throw error;
			printError(`${id}: ${error.message}`);
			failed = true;
		}
	}
	if (opts.json) out(JSON.stringify(list, null, 2));
	else if (list.length) printAll(list);
	else if (!failed) out('no prompts yet: create one with "prompt-release init" or add a folder with a prompt.yaml');
	return failed ? EXIT_USAGE : EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('status')
		.description('show versions, draft, channels, fixtures, the last run and the last release change of one or all prompts')
		.argument('[prompt]', 'prompt id (default: all prompts)')
		.option('--json', 'print JSON (an object for one prompt, an array for all)')
		.addOption(registryOption())
		.action(action(status));
}
