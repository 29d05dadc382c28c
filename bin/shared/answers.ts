/**
 * Where a command's model answers come from: the provider, behind the response cache (`--cache-dir`,
 * `--no-cache`) and, with `--batch`, the provider's batch API (progress on stderr while polling; the batch
 * id is kept in the cache folder so an interrupted run resumes).
 */
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { CachingProvider, DiskResponseStore, defaultCacheDir, defaultCacheMaxBytes, folderWriteProblem } from '../../lib/cache';
import { ParsedYamlCache } from '../../lib/cache/parsed-yaml';
import { FileRegistryStore } from '../../lib/registry/file-store';
import type { RegistryStore } from '../../lib/registry/store';
import { BatchingProvider, defaultPollIntervalMs, type BatchProgress } from '../../lib/batch/batching-provider';
import { PendingBatches } from '../../lib/batch/pending';
import { isBatchCapable } from '../../lib/batch/types';
import type { Provider } from '../../lib/providers/types';
import type { ModelSpec } from '../../lib/types';
import { ConfigError } from '../../lib/errors';
import { startBackgroundEviction } from './cache-eviction';
import { note } from './output';

export interface AnswerCliOptions {
	/** false with --no-cache. */
	cache?: boolean;
	cacheDir?: string;
	batch?: boolean;
}

/** Adds `--cache-dir`, `--no-cache` (unless the command never reads the cache) and `--batch`. */
export function answerOptions(cmd: Command, { cache = true }: { cache?: boolean } = {}): Command {
	cmd.addOption(new Option('--cache-dir <dir>', 'response cache folder (default $PROMPT_RELEASE_CACHE_DIR, else ~/.cache/n8n-nodes-prompt-release/responses); also keeps the ids of pending batches'));
	if (cache) cmd.addOption(new Option('--no-cache', 'ask the model for every answer: read nothing from the response cache and store nothing in it (nor in the cache of parsed fixture files)'));
	cmd.addOption(new Option('--batch', "send the run through the provider's batch API (OpenAI Batch, Anthropic Message Batches) at half price; answers can take up to 24 h; rerun the same command to resume an interrupted batch"));
	return cmd;
}

export interface Answers {
	provider: Provider;
	/** The batching layer, when --batch: its batch ids go into the report. */
	batching?: BatchingProvider;
	/** The concurrency to run with: every fixture at once when batching (they go into one batch). */
	concurrency: number;
	/** One line saying where answers come from, for the command's header. */
	describe: string;
	/** Stop progress output (call in finally). */
	stop(): void;
}

/** Why each folder checked by this process cannot be written (undefined: it can), so a command checks a folder once. */
const folderProblems = new Map<string, string | undefined>();

/** Why files cannot be written in `dir` (see folderWriteProblem), checked once per process and folder. */
function writeProblemOf(dir: string): string | undefined {
	const key = path.resolve(dir);
	if (!folderProblems.has(key)) folderProblems.set(key, folderWriteProblem(key));
	return folderProblems.get(key);
}

/**
 * The provider a command runs with. `fresh: true` (drift) never reads the cache (answers are still not
 * written, so a drift check never changes what `test` reads). A cache folder that cannot be written turns the
 * cache off for the run with one warning on stderr. Throws ConfigError when --batch is given for a provider
 * without a batch API, or when the folder that keeps the ids of submitted batches cannot be written: nothing
 * is submitted then, since an interrupted batch could not be resumed (and would be paid for twice).
 */
export function answersFor(model: ModelSpec, opts: AnswerCliOptions, concurrency: number, base: Provider, settings: { fresh?: boolean; quiet?: boolean } = {}): Answers {
	const cacheDir = opts.cacheDir !== undefined ? opts.cacheDir : defaultCacheDir();
	let provider: Provider = base;
	let batching: BatchingProvider | undefined;
	const progress = new PollProgress(settings.quiet === true);
	if (opts.batch) {
		if (!isBatchCapable(base)) throw new ConfigError(`--batch: provider "${model.provider}" has no batch API support here: run without --batch`);
		const pending = PendingBatches.inCacheDir(cacheDir);
		const problem = writeProblemOf(pending.dir);
		if (problem) {
			throw new ConfigError(
				`--batch keeps the id of each submitted batch in ${pending.dir} so that an interrupted run can resume it without paying twice, but that folder cannot be written (${problem}): give a writable folder with --cache-dir`,
			);
		}
		batching = new BatchingProvider(base, {
			pending,
			pollIntervalMs: defaultPollIntervalMs(),
			onProgress: (p) => progress.update(p),
			// Also with --json (quiet progress): on stderr, out of the JSON.
			onNotice: (message) => note(`warning: ${message}`),
		});
		provider = batching;
	}
	const wanted = opts.cache !== false && settings.fresh !== true && !cacheOffByEnv();
	const unwritable = wanted ? writeProblemOf(cacheDir) : undefined;
	if (unwritable) {
		note(
			`warning: the response cache is off for this run: its folder ${cacheDir} cannot be written (${unwritable}). ` +
				'Give a writable folder with --cache-dir or PROMPT_RELEASE_CACHE_DIR, or turn the cache off with --no-cache.',
		);
	}
	const useCache = wanted && unwritable === undefined;
	if (useCache) {
		// Eviction runs in a background process: a command never waits at its end for thousands of deletions.
		provider = new CachingProvider(provider, new DiskResponseStore({ dir: cacheDir, maxBytes: defaultCacheMaxBytes(), startEviction: startBackgroundEviction }), {
			// The folder was writable at the start; a full disk or a changed permission later is said once.
			onStoreError: (error) => note(`warning: an answer could not be stored in the response cache ${cacheDir} (${error instanceof Error ? error.message : String(error)}): answers that are not stored are asked again next time`),
		});
	}
	const parts = [
		useCache
			? `response cache ${cacheDir}`
			: unwritable
				? `no response cache (${cacheDir} cannot be written)`
				: settings.fresh
					? 'fresh answers (no cache)'
					: opts.cache === false
						? 'no response cache (--no-cache)'
						: 'no response cache (PROMPT_RELEASE_CACHE=off)',
	];
	if (batching) parts.push('batch API (half price)');
	return {
		provider,
		...(batching ? { batching } : {}),
		concurrency: batching ? 100_000 : concurrency,
		describe: parts.join(', '),
		stop: () => progress.stop(),
	};
}

/**
 * With the cache on (no `--no-cache`, no PROMPT_RELEASE_CACHE=off) and its folder writable, a folder registry keeps the parses of its
 * fixture files in the cache folder (lib/cache/parsed-yaml.ts): a rerun over unchanged fixtures does not parse
 * their YAML again. Fixtures are still checked against the prompt on every read. Other stores are left as they are.
 */
export function cacheFixtureParses(store: RegistryStore, opts: AnswerCliOptions): void {
	if (!(store instanceof FileRegistryStore) || opts.cache === false || cacheOffByEnv()) return;
	const cacheDir = opts.cacheDir !== undefined ? opts.cacheDir : defaultCacheDir();
	// A folder that cannot be written keeps no parses either; `answersFor` warns about it (once).
	if (writeProblemOf(cacheDir) !== undefined) return;
	store.parsedYaml = new ParsedYamlCache(cacheDir);
}

/** `PROMPT_RELEASE_CACHE=off` (or 0/false/no) turns the response cache off for every command, like `--no-cache`. */
export function cacheOffByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
	return /^(off|0|false|no)$/i.test(env.PROMPT_RELEASE_CACHE?.trim() ?? '');
}

/** Batch progress on stderr: a bar on a terminal (cli-progress), else one line whenever the count changes. */
class PollProgress {
	private readonly quiet: boolean;
	private bar: { start(total: number, value: number, payload?: object): void; update(value: number, payload?: object): void; setTotal(total: number): void; stop(): void } | undefined;
	private last = '';

	constructor(quiet: boolean) {
		this.quiet = quiet;
	}

	update(p: BatchProgress): void {
		if (this.quiet) return;
		const { status } = p;
		const line = `${p.resumed ? 'resumed' : 'submitted'} ${p.label}: batch ${p.batchId} ${status.providerStatus}, ${status.done}/${status.total} answered`;
		if (process.stderr.isTTY && status.state === 'running') {
			if (!this.bar) {
				note(line);
				// eslint-disable-next-line @typescript-eslint/no-require-imports
				const { SingleBar, Presets } = require('cli-progress') as typeof import('cli-progress');
				this.bar = new SingleBar({ format: '  batch {bar} {value}/{total} {status} | {duration_formatted}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
				this.bar.start(status.total, status.done, { status: status.providerStatus });
			} else {
				this.bar.setTotal(status.total);
				this.bar.update(status.done, { status: status.providerStatus });
			}
			return;
		}
		if (line !== this.last) note(line);
		this.last = line;
	}

	stop(): void {
		this.bar?.stop();
		this.bar = undefined;
	}
}
