/**
 * Runs in a folder registry (format: README "runs/<run-id>.json"; design: docs/adr/0031).
 *
 * Since run format 2 a run is two files:
 * - `runs/<id>.results.jsonl`: one result per line, in fixture order, written while the run goes;
 * - `runs/<id>.json`: the summary document (every field of the run report except `results`, plus
 *   `"format": 2` and `"resultsFile"`), created exclusively after the results file is complete.
 * A run exists once its summary document exists; results are written to a hidden partial file
 * (`partialFileName`: it names the writing process) and renamed first, so a crash leaves no half-visible run;
 * `validate` reports a partial file whose writer is gone (`listPartialRuns`) and `validate --fix` removes it. Runs stored as one document (format 1: `results` inline)
 * stay readable through the same functions.
 */
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ConfigError } from '../errors';
import { createFileExclusive } from '../yaml-io';
import { checkRun } from './formats';
import { RunWrites } from './open-runs';
import { hostTag, processRunning } from './process-logs';
import type { RunWriter } from './store';
import type { FixtureResult, RunHeader, RunReport } from '../types';

export const RUN_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** The stored format of the summary document; absent on format 1 (single document) runs. */
export const RUN_FORMAT = 2;

const headerSchema = z
	.object({
		runId: z.string(),
		promptId: z.string(),
		version: z.union([z.number().int().positive(), z.literal('draft')]),
		contentHash: z.string(),
		summary: z.object({ total: z.number(), passed: z.number(), passRate: z.number(), regressions: z.array(z.string()) }).passthrough(),
		format: z.literal(RUN_FORMAT),
		resultsFile: z.string().regex(/^[A-Za-z0-9_-]{1,100}\.results\.jsonl$/),
	})
	.passthrough();

const resultSchema = z.object({ fixtureId: z.string(), passed: z.boolean() }).passthrough();

export function resultsFileName(runId: string): string {
	return `${runId}.results.jsonl`;
}

/** Results are flushed to disk in chunks of about this many bytes. */
const FLUSH_BYTES = 256 * 1024;

/**
 * The hidden file a run's results are written to until the run is committed:
 * `.<run-id>.results.jsonl.<host>-<pid>.partial`, naming the process writing it, so that `validate` can tell a
 * run in progress from one whose writer is gone (see `listPartialRuns`).
 */
export function partialFileName(runId: string, host: string = hostTag(), pid: number = process.pid): string {
	return `.${resultsFileName(runId)}.${host}-${pid}.partial`;
}

/** `.<run-id>.results.jsonl.<host>-<pid>.partial`, or `.<run-id>.results.jsonl.partial` as earlier versions named it (no writer). */
const PARTIAL = /^\.([A-Za-z0-9_-]{1,100})\.results\.jsonl(?:\.([A-Za-z0-9_-]+)-([0-9]+))?\.partial$/;

/**
 * A partial results file that has not been written for this long belongs to no live run, whoever wrote it:
 * 7 days, longer than a batch run can wait for the provider (its window is 24 hours) between two writes.
 */
export const ABANDONED_PARTIAL_MS = 7 * 24 * 60 * 60 * 1000;

export class FileRunWriter implements RunWriter {
	private handle: fs.FileHandle | undefined;
	private buffer: string[] = [];
	private bytes = 0;
	private count = 0;
	private readonly partial: string;
	/** Flushes and the commit one at a time: `discard` waits for the one under way. */
	private readonly writes: RunWrites;

	constructor(
		private readonly runsDir: string,
		private readonly promptId: string,
		private readonly runId: string,
		private readonly shown: (p: string) => string,
	) {
		if (!RUN_ID.test(runId)) throw new ConfigError(`run id "${runId}" is invalid`);
		this.partial = path.join(runsDir, partialFileName(runId));
		this.writes = new RunWrites(this, () => new ConfigError(`run ${this.runId} of "${this.promptId}" was discarded (interrupted): nothing more is written to it`));
	}

	private async flush(): Promise<void> {
		if (!this.buffer.length) return;
		if (!this.handle) {
			await fs.mkdir(this.runsDir, { recursive: true });
			this.handle = await fs.open(this.partial, 'w');
		}
		const text = this.buffer.join('');
		this.buffer = [];
		this.bytes = 0;
		await this.handle.write(text);
	}

	async append(result: FixtureResult): Promise<void> {
		this.writes.check();
		const line = `${JSON.stringify(result)}\n`;
		this.buffer.push(line);
		this.bytes += line.length;
		this.count++;
		if (this.bytes >= FLUSH_BYTES) await this.writes.write(() => this.flush());
	}

	async commit(header: RunHeader): Promise<void> {
		await this.writes.commit(() => this.commitNow(header));
	}

	private async commitNow(header: RunHeader): Promise<void> {
		const summaryFile = path.join(this.runsDir, `${this.runId}.json`);
		const resultsFile = path.join(this.runsDir, resultsFileName(this.runId));
		if (header.runId !== this.runId || header.promptId !== this.promptId) throw new ConfigError(`run ${header.runId} of "${header.promptId}" does not match its writer (${this.runId} of "${this.promptId}")`);
		await this.flush();
		if (!this.handle) {
			await fs.mkdir(this.runsDir, { recursive: true });
			this.handle = await fs.open(this.partial, 'w');
		}
		await this.handle.sync();
		await this.handle.close();
		this.handle = undefined;
		if (await exists(summaryFile)) {
			await fs.rm(this.partial, { force: true });
			throw new ConfigError(`run ${this.runId} already exists`, { file: this.shown(summaryFile) });
		}
		await fs.rename(this.partial, resultsFile);
		const { results: _drop, ...rest } = header as RunHeader & { results?: unknown };
		void _drop;
		const document = { ...rest, format: RUN_FORMAT, resultsFile: resultsFileName(this.runId) };
		if (!(await createFileExclusive(summaryFile, `${JSON.stringify(document, null, 2)}\n`))) {
			throw new ConfigError(`run ${this.runId} already exists`, { file: this.shown(summaryFile) });
		}
	}

	async discard(): Promise<boolean> {
		// A flush or the commit under way finishes first: a commit that succeeds leaves the run stored.
		return this.writes.discard(async () => {
			this.buffer = [];
			await this.handle?.close().catch(() => undefined);
			this.handle = undefined;
			await fs.rm(this.partial, { force: true });
		});
	}
}

/** A partial results file in a prompt's `runs/` folder: a run being written, or one whose writer stopped before committing it. */
export interface PartialRun {
	/** The file's path. */
	file: string;
	runId: string;
	/** The host and process that wrote it; absent in files written by earlier versions. */
	writer?: { host: string; pid: number };
	bytes: number;
	modified: Date;
	/** Why no live run writes it any more (`validate` reports it, `validate --fix` removes it); undefined while it may still be written. */
	abandoned?: string;
}

/**
 * The partial results files in `runsDir`, each judged: abandoned when its writer ran on this host and is no
 * longer running, or when it was last written ABANDONED_PARTIAL_MS ago or more (a writer on another host, a
 * file naming no writer, a process id reused since). Else it may belong to a run in progress and is left alone.
 */
export async function listPartialRuns(runsDir: string, now: number = Date.now()): Promise<PartialRun[]> {
	const out: PartialRun[] = [];
	const names = await fs.readdir(runsDir).catch(() => [] as string[]);
	for (const name of names.sort()) {
		const m = PARTIAL.exec(name);
		if (!m) continue;
		const file = path.join(runsDir, name);
		const stat = await fs.stat(file).catch(() => undefined);
		if (!stat?.isFile()) continue;
		const writer = m[2] !== undefined ? { host: m[2], pid: Number(m[3]) } : undefined;
		const idle = now - stat.mtimeMs;
		let abandoned: string | undefined;
		if (writer && writer.host === hostTag() && !processRunning(writer.pid)) abandoned = `its writer, process ${writer.pid} on this host, is no longer running`;
		else if (idle >= ABANDONED_PARTIAL_MS) abandoned = `nothing has written to it for ${Math.floor(idle / 86_400_000)} days${writer ? ` (written by process ${writer.pid} on ${writer.host === hostTag() ? 'this host' : `host ${writer.host}`})` : ''}`;
		out.push({ file, runId: m[1], ...(writer ? { writer } : {}), bytes: stat.size, modified: stat.mtime, ...(abandoned ? { abandoned } : {}) });
	}
	return out;
}

async function exists(file: string): Promise<boolean> {
	return fs.access(file).then(
		() => true,
		() => false,
	);
}

/** The summary document as stored: a format 2 header, or a format 1 run with its results inline. */
export async function readRunDocument(runsDir: string, promptId: string, runId: string, shown: (p: string) => string): Promise<{ header: RunHeader; inline?: RunReport }> {
	if (!RUN_ID.test(runId)) throw new ConfigError(`run id "${runId}" is invalid`);
	const file = path.join(runsDir, `${runId}.json`);
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch {
		throw new ConfigError(`run "${runId}" not found for prompt "${promptId}"`, { file: shown(file) });
	}
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (error) {
		throw new ConfigError(`stored run is not valid JSON (${(error as Error).message}); restore it from git`, { file: shown(file) });
	}
	if (data && typeof data === 'object' && (data as { format?: unknown }).format !== undefined) {
		const parsed = headerSchema.safeParse(data);
		if (!parsed.success) {
			const issue = parsed.error.issues[0];
			throw new ConfigError(`${issue.path.join('.') || 'run'}: ${issue.message} (a run summary of format ${RUN_FORMAT})`, { file: shown(file), field: issue.path.join('.') });
		}
		if (parsed.data.runId !== runId) throw new ConfigError(`runId is "${parsed.data.runId}" but the file is named ${runId}.json`, { file: shown(file), field: 'runId' });
		if (parsed.data.promptId !== promptId) throw new ConfigError(`promptId is "${parsed.data.promptId}" but the run is stored under prompt "${promptId}"`, { file: shown(file), field: 'promptId' });
		const { format: _f, resultsFile: _r, ...header } = parsed.data;
		void _f;
		void _r;
		return { header: header as unknown as RunHeader };
	}
	const inline = checkRun(data, shown(file), { promptId, runId });
	const { results: _results, ...header } = inline;
	void _results;
	return { header, inline };
}

/** Results one at a time: JSON lines of a format 2 run (each checked, errors name the line), or a format 1 run's inline list. */
export async function* readRunResultLines(runsDir: string, promptId: string, runId: string, shown: (p: string) => string): AsyncGenerator<FixtureResult> {
	const { inline } = await readRunDocument(runsDir, promptId, runId, shown);
	if (inline) {
		yield* inline.results;
		return;
	}
	const file = path.join(runsDir, resultsFileName(runId));
	if (!(await exists(file))) throw new ConfigError(`the results of run ${runId} are missing: restore ${resultsFileName(runId)} from git`, { file: shown(file) });
	const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
	let n = 0;
	for await (const line of lines) {
		n++;
		if (!line.trim()) continue;
		let data: unknown;
		try {
			data = JSON.parse(line);
		} catch (error) {
			throw new ConfigError(`result line is not valid JSON (${(error as Error).message}); restore the file from git`, { file: shown(file), line: n });
		}
		const parsed = resultSchema.safeParse(data);
		if (!parsed.success) {
			const issue = parsed.error.issues[0];
			throw new ConfigError(`result ${issue.path.join('.') || ''}: ${issue.message}`, { file: shown(file), line: n, field: issue.path.join('.') });
		}
		yield parsed.data as unknown as FixtureResult;
	}
}
