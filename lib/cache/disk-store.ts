/**
 * The response cache on disk: one JSON file per answer, `<dir>/<key[0..2]>/<key>.json`.
 *
 * - Written atomically (temporary file in the same folder + rename): a reader sees a whole entry or none,
 *   and two runs writing the same key at once both leave a whole entry (the last rename wins; both are valid).
 * - Bounded: when the entries pass `maxBytes` (default 200 MB), the least recently used ones (oldest
 *   modification time; a hit touches its file when it was last touched more than an hour ago, so a rerun
 *   of 1,000 cached answers does not pay 1,000 writes) are deleted until they take at most 90 % of it.
 * - Forgiving: an entry that cannot be read or does not have the expected shape (a crash mid-write on another
 *   file system, a hand edit, an older format), or that says it was fetched more than 5 minutes in the future,
 *   is a miss and is replaced by the next answer — never an error.
 */
import { closeSync, fstatSync, mkdirSync, openSync, promises as fs, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ProviderResponse } from '../providers/types';
import { FUTURE_FETCH_SKEW_MS } from '../provenance';
import { CACHE_FORMAT } from './key';

/** Default size bound of the response cache: 200 MB (`PROMPT_RELEASE_CACHE_MAX_MB` changes it). */
export const DEFAULT_CACHE_MAX_BYTES = 200 * 1024 * 1024;

/** A stored answer: the provider's whole response and when it was fetched (ISO 8601). */
export interface CachedAnswer {
	fetchedAt: string;
	response: ProviderResponse;
}

export interface DiskResponseStoreOptions {
	/** The cache folder (created on first write). */
	dir: string;
	/** Size bound in bytes; default DEFAULT_CACHE_MAX_BYTES. */
	maxBytes?: number;
}

/**
 * Where answers are cached unless `--cache-dir` says otherwise: `$PROMPT_RELEASE_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/n8n-nodes-prompt-release/responses`, else `~/.cache/n8n-nodes-prompt-release/responses`
 * (outside the registry: cached answers are not review material).
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
	const explicit = env.PROMPT_RELEASE_CACHE_DIR?.trim();
	if (explicit) return path.resolve(explicit);
	const base = env.XDG_CACHE_HOME?.trim() ? env.XDG_CACHE_HOME.trim() : path.join(os.homedir(), '.cache');
	return path.join(base, 'n8n-nodes-prompt-release', 'responses');
}

/** `PROMPT_RELEASE_CACHE_MAX_MB` as bytes, else the default. */
export function defaultCacheMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
	const mb = Number(env.PROMPT_RELEASE_CACHE_MAX_MB);
	return Number.isFinite(mb) && mb > 0 ? Math.floor(mb * 1024 * 1024) : DEFAULT_CACHE_MAX_BYTES;
}

/** The nearest existing path at or above `p` when it is not a folder (what makes `mkdir -p p` fail), else undefined. */
function fileInTheWay(p: string): string | undefined {
	for (let at = path.resolve(p); ; at = path.dirname(at)) {
		try {
			return statSync(at).isDirectory() ? undefined : at;
		} catch {
			if (path.dirname(at) === at) return undefined;
		}
	}
}

/**
 * Why files cannot be written in folder `dir` (created when missing), in words — `/x/afile is a file, not a
 * folder`, `no permission to write in /x (EACCES)`, `read-only file system (EROFS)` — or undefined when a
 * probe file could be written there (and was removed). Synchronous: a command asks once, before it starts.
 */
export function folderWriteProblem(dir: string): string | undefined {
	const folder = path.resolve(dir);
	const probe = path.join(folder, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
	try {
		mkdirSync(folder, { recursive: true });
		writeFileSync(probe, '');
		rmSync(probe, { force: true });
		return undefined;
	} catch (error) {
		const e = error as NodeJS.ErrnoException;
		const blocker = e.code === 'EEXIST' || e.code === 'ENOTDIR' ? fileInTheWay(folder) : undefined;
		if (blocker) return `${blocker} is a file, not a folder`;
		if (e.code === 'EACCES' || e.code === 'EPERM') return `no permission to write in ${e.path ?? folder} (${e.code})`;
		if (e.code === 'EROFS') return `read-only file system (${e.code})`;
		if (e.code === 'ENOSPC') return `the disk is full (${e.code})`;
		return e.message ?? String(error);
	}
}

const SHARD = /^[0-9a-f]{2}$/;
const ENTRY = /^[0-9a-f]{64}\.json$/;
/** Temporary files older than this are left-overs of a killed writer and are removed by eviction. */
const STALE_TMP_MS = 60 * 60 * 1000;
/** A hit touches its entry only when the entry was last touched longer ago than this: use times have this resolution. */
export const TOUCH_AFTER_MS = 60 * 60 * 1000;

/** The text of a small file and its modification time, in the system calls of one `readFileSync` (open, fstat, read, close). */
function readWithMtime(file: string): { text: string; mtimeMs: number } {
	const fd = openSync(file, 'r');
	try {
		const stat = fstatSync(fd);
		const buffer = Buffer.allocUnsafe(stat.size);
		let read = 0;
		while (read < stat.size) {
			const n = readSync(fd, buffer, read, stat.size - read, null);
			if (n === 0) break;
			read += n;
		}
		return { text: buffer.toString('utf8', 0, read), mtimeMs: stat.mtimeMs };
	} finally {
		closeSync(fd);
	}
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The entry when `value` has the stored shape, else undefined. An entry fetched in the future (later than `now`
 * plus FUTURE_FETCH_SKEW_MS: a clock set wrong, an edited file) is not believed either: its age is unknown.
 */
function entryOf(value: unknown, key: string, now: number): CachedAnswer | undefined {
	if (!isRecord(value) || value.format !== CACHE_FORMAT || value.key !== key || typeof value.fetchedAt !== 'string') return undefined;
	const fetched = Date.parse(value.fetchedAt);
	if (Number.isNaN(fetched) || fetched > now + FUTURE_FETCH_SKEW_MS) return undefined;
	const r = value.response;
	if (!isRecord(r) || typeof r.text !== 'string' || !isRecord(r.usage) || !isRecord(r.end) || typeof r.end.reason !== 'string') return undefined;
	if (typeof r.usage.inputTokens !== 'number' || typeof r.usage.outputTokens !== 'number') return undefined;
	return { fetchedAt: value.fetchedAt, response: r as unknown as ProviderResponse };
}

interface EntryStat {
	file: string;
	size: number;
	mtimeMs: number;
}

export class DiskResponseStore {
	readonly dir: string;
	readonly maxBytes: number;
	/** Bytes of entries as last counted plus what this process wrote since; undefined until first counted. */
	private bytes: number | undefined;
	private evicting: Promise<void> | undefined;
	/** Size accounting and eviction, one after the other, off the caller's path. */
	private background: Promise<void> = Promise.resolve();
	/** Bytes written by `put` and not yet added to `bytes`. */
	private pendingBytes = 0;
	/** An accounting task is queued or running (see `account`). */
	private accounting = false;

	constructor(options: DiskResponseStoreOptions) {
		this.dir = path.resolve(options.dir);
		this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
	}

	/** The file of a key (64 hex characters). */
	fileOf(key: string): string {
		return path.join(this.dir, key.slice(0, 2), `${key}.json`);
	}

	/**
	 * The stored answer, or undefined (missing, unreadable or malformed: a miss). A hit counts as a use for
	 * eviction (the entry is touched when its last use is more than TOUCH_AFTER_MS ago).
	 */
	async get(key: string): Promise<CachedAnswer | undefined> {
		const file = this.fileOf(key);
		let text: string;
		let mtimeMs: number;
		try {
			// Synchronous on purpose: entries are small, and a rerun of 1,000 cached fixtures would otherwise wait on
			// 4,000 thread-pool round trips (open, stat, read, close) instead of reading.
			({ text, mtimeMs } = readWithMtime(file));
		} catch {
			return undefined;
		}
		const now = new Date();
		let entry: CachedAnswer | undefined;
		try {
			entry = entryOf(JSON.parse(text), key, now.getTime());
		} catch {
			entry = undefined;
		}
		if (!entry) {
			await fs.rm(file, { force: true }).catch(() => undefined); // replaced by the next answer
			return undefined;
		}
		// Least recently *used* goes first; nobody waits for the touch.
		if (now.getTime() - mtimeMs > TOUCH_AFTER_MS) void fs.utimes(file, now, now).catch(() => undefined);
		return entry;
	}

	/** Store an answer atomically; when the cache passed its bound, eviction follows in the background (see `idle`). */
	async put(key: string, entry: CachedAnswer): Promise<void> {
		const file = this.fileOf(key);
		const text = JSON.stringify({ format: CACHE_FORMAT, key, fetchedAt: entry.fetchedAt, response: entry.response });
		await fs.mkdir(path.dirname(file), { recursive: true });
		const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
		try {
			await fs.writeFile(tmp, text, 'utf8');
			await fs.rename(tmp, file);
		} catch (error) {
			await fs.rm(tmp, { force: true }).catch(() => undefined);
			throw error;
		}
		// One accounting task at a time, fed by a counter: a run writing 100,000 answers while the first count of
		// a large cache goes on holds a number, not a pending task (and its text) per answer.
		this.pendingBytes += Buffer.byteLength(text);
		if (this.accounting) return;
		this.accounting = true;
		this.background = this.background.then(() => this.account()).catch(() => undefined);
	}

	/** Add what was written since the last round (or count every entry the first time), evicting past the bound, until nothing is pending. */
	private async account(): Promise<void> {
		try {
			while (this.bytes === undefined || this.pendingBytes > 0) {
				const added = this.pendingBytes;
				this.pendingBytes = 0;
				// The first count sees every entry on disk, those just written included.
				this.bytes = this.bytes === undefined ? (await this.entries()).reduce((t, e) => t + e.size, 0) : this.bytes + added;
				if (this.bytes > this.maxBytes) await this.evict();
			}
		} finally {
			this.accounting = false;
		}
	}

	/**
	 * Resolves when the size accounting and eviction started by earlier `put`s are done. `put` does not wait
	 * for them: counting a large cache the first time takes a while, and a run should not wait on it.
	 */
	idle(): Promise<void> {
		return this.background;
	}

	/** Every entry with its size and last use, plus removal of stale temporary files. */
	private async entries(): Promise<EntryStat[]> {
		const out: EntryStat[] = [];
		const shards = await fs.readdir(this.dir).catch(() => [] as string[]);
		for (const shard of shards) {
			if (!SHARD.test(shard)) continue;
			const folder = path.join(this.dir, shard);
			for (const name of await fs.readdir(folder).catch(() => [] as string[])) {
				const file = path.join(folder, name);
				const stat = await fs.stat(file).catch(() => undefined);
				if (!stat?.isFile()) continue;
				if (ENTRY.test(name)) out.push({ file, size: stat.size, mtimeMs: stat.mtimeMs });
				else if (name.endsWith('.tmp') && Date.now() - stat.mtimeMs > STALE_TMP_MS) await fs.rm(file, { force: true }).catch(() => undefined);
			}
		}
		return out;
	}

	/** Delete least recently used entries until the cache takes at most 90 % of `maxBytes`. Safe with other processes. */
	async evict(): Promise<void> {
		this.evicting ??= (async () => {
			try {
				const all = (await this.entries()).sort((a, b) => a.mtimeMs - b.mtimeMs);
				let total = all.reduce((t, e) => t + e.size, 0);
				const target = Math.floor(this.maxBytes * 0.9);
				for (const e of all) {
					if (total <= target) break;
					await fs.rm(e.file, { force: true }).catch(() => undefined);
					total -= e.size;
				}
				this.bytes = total;
			} finally {
				this.evicting = undefined;
			}
		})();
		return this.evicting;
	}

	/** Total bytes of the stored entries (counted now). */
	async size(): Promise<number> {
		return (await this.entries()).reduce((t, e) => t + e.size, 0);
	}
}
