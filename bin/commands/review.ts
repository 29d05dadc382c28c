/**
 * `prompt-release review [prompt] [--status pending|resolved|dismissed|all] [--json] [--format csv|jsonl] [--out FILE]`:
 * the review queue (docs/adr/0050-review-queue.md) — items the n8n nodes queued for a person — as a table,
 * JSON, or a CSV/JSONL export written atomically.
 * `prompt-release review dismiss <prompt> <case-id> --reason "…"`: close a pending case without a fixture.
 * Cases are answered (resolved) by Record Correction.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { currentUser } from '../../lib/release';
import { placeholders } from '../../lib/template';
import { readableCase, reviewsCsv, reviewsJsonl } from '../../lib/review/export';
import { REVIEW_STATUSES, type ReviewCase, type ReviewStatus } from '../../lib/review/types';
import { writeFileAtomic } from '../../lib/yaml-io';
import { action, EXIT_FAILED, EXIT_OK, printError, UsageError } from '../shared/exit';
import { oneLine, out, plural, shown, table } from '../shared/output';
import { openStore, registryOption, requirePrompt, shownPath, storeLabel } from '../shared/registry';

interface ListOptions {
	status: string;
	json?: boolean;
	format?: string;
	out?: string;
}

type Format = 'csv' | 'jsonl';

const CASE_ID = /^review-[0-9a-f]{16}$/;

function parseStatus(value: string): ReviewStatus | undefined {
	if (value === 'all') return undefined;
	if ((REVIEW_STATUSES as readonly string[]).includes(value)) return value as ReviewStatus;
	throw new UsageError(`--status "${value}" is invalid: use pending, resolved, dismissed or all`);
}

/** The export format: --format, else the extension of --out; undefined for the table or --json. */
function exportFormat(opts: ListOptions): Format | undefined {
	if (opts.format !== undefined && opts.format !== 'csv' && opts.format !== 'jsonl') throw new UsageError(`--format "${opts.format}" is invalid: use csv or jsonl`);
	if (opts.json && (opts.format || opts.out)) throw new UsageError('--json prints JSON; --format/--out export CSV or JSONL: choose one');
	if (opts.format) return opts.format;
	if (opts.out === undefined) return undefined;
	const ext = path.extname(opts.out).toLowerCase();
	if (ext === '.csv') return 'csv';
	if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
	throw new UsageError(`--out "${opts.out}": say which format with --format csv or --format jsonl (or name the file .csv or .jsonl)`);
}

/** `2026-11-29T10:05:00.000Z` → `2026-11-29 10:05Z`. */
function when(iso: string): string {
	return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z');
}

/** The inputs named in `declared` first, in that order, then any others as stored. */
function inDeclaredOrder(inputs: Record<string, unknown>, declared: string[]): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const name of declared) if (Object.hasOwn(inputs, name)) out[name] = inputs[name];
	for (const [name, value] of Object.entries(inputs)) if (!Object.hasOwn(out, name)) out[name] = value;
	return out;
}

/** Text cut to `max` characters, ending in … when cut. */
function clip(text: string, max: number): string {
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function inputsSummary(inputs: Record<string, unknown>): string {
	const text = Object.entries(inputs)
		.map(([name, value]) => `${name}=${shown(typeof value === 'string' ? oneLine(value) : value, 24)}`)
		.join(' ');
	return clip(text, 70);
}

function printTable(cases: ReviewCase[], withStatus: boolean): void {
	const header = ['ID', 'PROMPT', ...(withStatus ? ['STATUS'] : []), 'KIND', 'VERSION', 'REASON', 'SEEN', 'FIRST SEEN', 'LAST SEEN', 'ANSWER', 'INPUTS'];
	const rows = cases.map((c) => [
		c.id,
		c.promptId,
		...(withStatus ? [c.status] : []),
		c.kind,
		c.version === 'draft' ? 'draft' : `v${c.version}`,
		clip(oneLine(c.reason), 40),
		String(c.occurrences),
		when(c.firstSeen),
		when(c.lastSeen),
		shown(c.modelOutput ?? null, 30),
		inputsSummary(c.inputs),
	]);
	for (const line of table(header, rows)) out(line);
}

async function list(promptId: string | undefined, opts: ListOptions, cmd: Command): Promise<number> {
	const status = parseStatus(opts.status);
	const format = exportFormat(opts);
	const store = openStore(cmd);
	if (promptId !== undefined) await requirePrompt(store, promptId);
	const cases: ReviewCase[] = [];
	for (const id of promptId !== undefined ? [promptId] : await store.listPrompts()) {
		const found = await store.listReviews(id, status);
		if (!found.length) continue;
		// Inputs in the order the template uses them, then as declared: the same on every store (PostgreSQL's
		// jsonb keeps object keys in its own order, the draft's inputs included).
		const spec = await store.readDraft(id).catch(() => undefined);
		const declared = spec ? [...placeholders(spec.template), ...Object.keys(spec.inputs)] : [];
		cases.push(...found.map((c) => ({ ...c, inputs: inDeclaredOrder(c.inputs, declared) })));
	}
	if (opts.json) {
		out(JSON.stringify(cases.map(readableCase), null, 2));
		return EXIT_OK;
	}
	if (format) {
		const text = format === 'csv' ? reviewsCsv(cases) : reviewsJsonl(cases);
		if (opts.out === undefined) process.stdout.write(text);
		else {
			await writeFileAtomic(path.resolve(opts.out), text);
			out(`wrote ${plural(cases.length, 'review case')} to ${shownPath(opts.out)} (${format})`);
		}
		return EXIT_OK;
	}
	const what = status ? `${status} review cases` : 'review cases';
	const where = promptId !== undefined ? `"${promptId}"` : storeLabel(store);
	if (!cases.length) {
		out(`no ${what} in ${where}`);
		return EXIT_OK;
	}
	printTable(cases, status !== 'pending');
	out();
	const counted = plural(cases.length, status ? `${status} review case` : 'review case');
	const pending = cases.some((c) => c.status === 'pending');
	out(`${counted} in ${where}.${pending ? ' Answer a pending one with Record Correction in n8n (resolves it), or: prompt-release review dismiss <prompt> <id> --reason "…"' : ''}`);
	return EXIT_OK;
}

async function dismiss(promptId: string, caseId: string, opts: { reason: string }, cmd: Command): Promise<number> {
	const reason = opts.reason.trim();
	if (!reason) throw new UsageError('--reason is empty: say why this case needs no fixture');
	if (!CASE_ID.test(caseId)) throw new UsageError(`"${caseId}" is not a review case id (review- and 16 hex digits, as "prompt-release review ${promptId}" lists them)`);
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const closing = { status: 'dismissed' as const, at: new Date().toISOString(), reason, by: currentUser() };
	const stored = await store.closeReview(promptId, caseId, closing);
	if (!stored) {
		const pending = (await store.countReviews(promptId)).pending;
		printError(`no review case "${caseId}" in prompt "${promptId}" (${plural(pending, 'pending case')}: list them with "prompt-release review ${promptId}")`);
		return EXIT_FAILED;
	}
	const c = stored.closed;
	if (c && c.at === closing.at && c.reason === closing.reason && c.by === closing.by && c.status === 'dismissed') {
		out(`dismissed ${caseId} of ${promptId} as ${closing.by}: "${oneLine(reason)}"`);
		return EXIT_OK;
	}
	const how = c?.status === 'resolved' ? `resolved${c.fixtureId ? ` by fixture ${c.fixtureId}` : ''}` : `dismissed${c?.reason ? `: "${oneLine(c.reason)}"` : ''}`;
	out(`${caseId} of ${promptId} is already ${how} (${c?.by ? `by ${c.by} ` : ''}at ${c ? when(c.at) : '?'}); nothing changed`);
	return EXIT_OK;
}

export function register(program: Command): void {
	const review = program
		.command('review')
		.description('the review queue: items the n8n nodes queued for a person (invalid answers, audit samples), per prompt and inputs')
		.argument('[prompt]', 'prompt id (default: all prompts)')
		.option('--status <status>', 'pending, resolved, dismissed or all', 'pending')
		.option('--json', 'print the cases as a JSON array')
		.option('--format <format>', 'export csv (one inputs.<name> column per input) or jsonl (one case per line)')
		.option('--out <file>', 'write the export to this file (atomically) instead of printing it; the format follows .csv/.jsonl unless --format says')
		.addOption(registryOption())
		.addHelpText('after', '\nCases are resolved by Record Correction (a fixture for their inputs); see also "prompt-release review dismiss --help".')
		.action(action(list));
	review
		.command('dismiss')
		.description('close a pending case without a fixture (who: $PROMPT_RELEASE_USER or the OS user); it opens again if its inputs are queued again')
		.argument('<prompt>', 'prompt id')
		.argument('<case-id>', 'the case id as "prompt-release review" lists it (review-…)')
		.requiredOption('--reason <text>', 'why no fixture is needed (required; kept with the case)')
		.addOption(registryOption())
		.action(action(dismiss));
}
