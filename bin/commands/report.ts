/**
 * `prompt-release report <prompt> [runId] [--format md|html|json] [--out FILE]`: the evaluation bundle of
 * a stored run (default: the newest) against its baseline run — pass rates overall, per segment and per
 * output field, regressions, fixes, still failing, latency/tokens/cost deltas and the prompt diff.
 */
import { once } from 'node:events';
import * as path from 'node:path';
import type { Command } from 'commander';
import { bundleChunks, formatForFile, loadBundle, REPORT_FORMATS, type ReportFormat } from '../../lib/report';
import { writeFileAtomicFrom } from '../../lib/yaml-io';
import { action, EXIT_OK, UsageError } from '../shared/exit';
import { note } from '../shared/output';
import { openStore, registryOption, requirePrompt, shownPath } from '../shared/registry';

interface ReportOptions {
	format?: string;
	out?: string;
}

export function parseFormat(value: string | undefined, file?: string): ReportFormat {
	if (value === undefined) return file ? formatForFile(file) : 'md';
	const v = value.trim().toLowerCase() === 'markdown' ? 'md' : value.trim().toLowerCase();
	if (!(REPORT_FORMATS as readonly string[]).includes(v)) throw new UsageError(`--format "${value}" is invalid: use ${REPORT_FORMATS.join(', ')}`);
	return v as ReportFormat;
}

/** Write a text given in pieces (a report: see bundleChunks) to --out atomically, or to stdout, one piece after the other. */
export async function emitPieces(pieces: Iterable<string>, out: string | undefined, what: string): Promise<void> {
	if (out === undefined) {
		// Pieces joined into blocks of about 64 K characters: one write per block, not per fixture row.
		let block = '';
		for (const piece of pieces) {
			block += piece;
			if (block.length < 1 << 16) continue;
			if (!process.stdout.write(block)) await once(process.stdout, 'drain');
			block = '';
		}
		if (block && !process.stdout.write(block)) await once(process.stdout, 'drain');
		return;
	}
	await writeFileAtomicFrom(path.resolve(out), pieces);
	note(`${what}: ${shownPath(out)}`);
}

async function report(promptId: string, runId: string | undefined, opts: ReportOptions, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const format = parseFormat(opts.format, opts.out);
	const bundle = await loadBundle(store, promptId, runId);
	await emitPieces(bundleChunks(bundle, format), opts.out, `report (${format}) of run ${bundle.run.runId}`);
	return EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('report')
		.description('render the evaluation bundle of a stored run (default: the newest) against its baseline run')
		.argument('<prompt>', 'prompt id')
		.argument('[runId]', 'a run id under runs/ (default: the newest run)')
		.option('--format <format>', 'md (a pull-request comment), html (one self-contained file with charts) or json (default: md, or from --out\'s extension)')
		.option('--out <file>', 'write to this file (atomically) instead of stdout')
		.addOption(registryOption())
		.action(action(report));
}
