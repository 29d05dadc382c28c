/** `prompt-release status [prompt]`: versions, draft, channels, fixtures, pending reviews, last run, last change. */
import type { Command } from 'commander';
import { promptStatus, PromptReleaseError, type ArmStatus, type CanaryStatus, type HistoryEntry, type PromptStatus } from '../../lib';
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
	return entries
		.map(([name, p]) => {
			const canary = p.canary ? `+canary v${p.canary.version}${p.canary.frozen ? ' FROZEN' : ''}` : '';
			return `${name}=v${p.version}${p.forced ? ' FORCED' : ''}${canary}${withSince ? ` (since ${when(p.since)})` : ''}`;
		})
		.join(', ');
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

function reviewsText(s: PromptStatus): string {
	return s.pendingReviews ? `${s.pendingReviews} pending (prompt-release review ${s.id})` : '0 pending';
}

function historyText(e: HistoryEntry): string {
	const move = e.from !== undefined ? `v${e.from} → v${e.version}` : `v${e.version}`;
	const share = e.action === 'canary' ? (e.percent !== undefined ? ` (${e.percent}%)` : e.segments ? ` (segments ${e.segments.join(', ')})` : '') : '';
	return `${e.action} ${e.channel} ${move}${share} by ${e.by} at ${when(e.at)}${e.forced ? ' FORCED' : ''}${e.reason ? `: "${oneLine(e.reason)}"` : ''}`;
}

function armText(a: ArmStatus): string {
	return `v${a.version}: ${a.items} items, ${a.valid} valid, ${a.invalid} invalid, ${a.corrected} corrected; invalid rate ${percent(a.invalidRate)}, correction rate ${percent(a.correctionRate)}`;
}

function canaryLines(c: CanaryStatus): string[] {
	const share = c.percent !== undefined ? `${c.percent}%` : `segments ${(c.segments ?? []).join(', ')}`;
	const lines = [`${c.channel}: stable v${c.stableVersion} / canary v${c.version} (${share}) since ${when(c.since)} [${c.id}]`];
	if (c.frozen) lines.push(`  FROZEN at ${when(c.frozen.at)}: ${oneLine(c.frozen.reason)} — all traffic on stable v${c.stableVersion}; promote or rollback`);
	lines.push(`  stable ${armText(c.arms.stable)}`, `  canary ${armText(c.arms.canary)}`);
	return lines;
}

function forcedLines(s: PromptStatus): string[] {
	return (s.forced ?? []).map((f) => `!! ${f.channel} ${f.canary ? 'canary ' : ''}v${f.version} FORCED past the gate: ${oneLine(f.reason)} (by ${f.by} at ${when(f.at)})`);
}

function approvalLines(s: PromptStatus): string[] {
	return (s.approvals ?? []).map((a) => {
		const now = a.valid.map((x) => `${x.by} (${when(x.at)}${x.reason ? `: "${oneLine(x.reason)}"` : ''})`).join(', ') || 'none';
		const stale = a.stale.length ? `; stale (evidence changed since): ${a.stale.map((x) => `${x.by} (run ${x.runId ?? '?'})`).join(', ')}` : '';
		return `approvals ${a.channel} v${a.version}: ${a.valid.length}${a.required ? ` of ${a.required}` : ''} for run ${a.runId ?? '(none)'} — ${now}${stale}`;
	});
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
		['reviews', reviewsText(s)],
	];
	for (const line of table(['', ''], rows).slice(1)) out(`  ${line}`);
	for (const c of s.canaries ?? []) for (const line of canaryLines(c)) out(`  canary ${line}`);
	for (const line of forcedLines(s)) out(`  ${line}`);
	for (const line of approvalLines(s)) out(`  ${line}`);
}

function printAll(list: PromptStatus[]): void {
	const rows = list.map((s) => [s.id, s.model, versionsText(s), draftText(s), channelsText(s, false), fixturesText(s), String(s.pendingReviews), lastRunText(s, false)]);
	for (const line of table(['PROMPT', 'MODEL', 'VERSIONS', 'DRAFT', 'CHANNELS', 'FIXTURES', 'PENDING REVIEWS', 'LAST RUN'], rows)) out(line);
	for (const s of list) {
		for (const c of s.canaries ?? []) for (const line of canaryLines(c)) out(`${s.id} canary ${line}`);
		for (const line of forcedLines(s)) out(`${s.id} ${line}`);
		for (const line of approvalLines(s)) out(`${s.id} ${line}`);
	}
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
		.description('show versions, draft, channels, fixtures, pending reviews, the last run and the last release change of one or all prompts')
		.argument('[prompt]', 'prompt id (default: all prompts)')
		.option('--json', 'print JSON (an object for one prompt, an array for all)')
		.addOption(registryOption())
		.action(action(status));
}
