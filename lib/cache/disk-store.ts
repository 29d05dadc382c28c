/**
 * The response cache on disk: one JSON file per answer, `<dir>/<key[0..2]>/<key>.json`.
 *
 * - Written atomically (temporary file in the same folder + rename): a reader sees a whole entry or none,
 *   and two runs writing the same key at once both leave a whole entry (the last rename wins; both are valid).
 * - Bounded by the disk space its entries take (`maxBytes`, default 200 MB): each entry counts the blocks the
 *   file system allocated for it (`stat.blocks` × 512, what `du` counts: 4 KiB for an answer of 400 bytes on
 *   ext4), not its length. Past the bound the least recently used entries (oldest modification time; a hit
 *   touches its file when it was last touched more than an hour ago, so a rerun of 1,000 cached answers does
 *   not pay 1,000 writes) are deleted until the entries take at most 80 % of it, so eviction runs once per
 *   fifth of the bound written, not after every run.
 * - Cheap to keep: the first count of a process samples the shard folders (keys are sha256, spread evenly)
 *   instead of reading every entry; counting and eviction use synchronous file calls in slices of a few
 *   milliseconds, yielding between slices, off the caller's path — an asynchronous call per entry made
 *   evicting 80,000 entries take 24–44 s. A caller may have the eviction run elsewhere (`startEviction`: the
 *   CLI's background process), so that deleting thousands of files never holds up a command.
 * - Forgiving: an entry that cannot be read or does not have the expected shape (a crash mid-write on another
 *   file system, a hand edit, an older format), or that says it was fetched more than 5 minutes in the future,
 *   is a miss and is replaced by the next answer — never an error.
 */
import { closeSync, fstatSync, mkdirSync, openSync, promises as fs, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ProviderResponse } from '../providers/types';
import { FUTURE_FETCH_SKEW_MS } from '../provenance';
import { CACHE_FORMAT } from './key';

/** Default bound of the disk space the response cache takes: 200 MB (`PROMPT_RELEASE_CACHE_MAX_MB` changes it). */
export const DEFAULT_CACHE_MAX_BYTES = 200 * 1024 * 1024;

/** A stored answer: the provider's whole response and when it was fetched (ISO 8601). */
export interface CachedAnswer {
	fetchedAt: string;
	response: ProviderResponse;
}

export interface DiskResponseStoreOptions {
	/** The cache folder (created on first write). */
	dir: string;
	/** Size bound in bytes of disk space; default DEFAULT_CACHE_MAX_BYTES. */
	maxBytes?: number;
	/**
	 * Start the eviction somewhere else instead of in this process — the CLI starts a background process
	 * (bin/shared/cache-eviction.ts), so a command never waits at its end for thousands of deletions. Returns
	 * false when it could not (this process then evicts). Not called while an eviction of the folder is under
	 * way (`evictionUnderWay`). Without it, this process evicts and `idle()` waits for that too.
	 */
	startEviction?: (dir: string, maxBytes: number) => boolean;
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
/** Eviction deletes entries until they take at most this share of the bound. */
export const EVICT_TO = 0.8;
/** The first count of a process reads whole shard folders until it has seen this many entries (and SAMPLE_SHARDS folders), then extrapolates. */
const SAMPLE_ENTRIES = 2000;
const SAMPLE_SHARDS = 16;
/** Synchronous file calls run for at most this long before yielding to the event loop (model calls go on meanwhile). */
const SLICE_MS = 8;
/** The allocation unit assumed for a file not stat'ed yet (most file systems: 4 KiB). */
const DEFAULT_BLOCK = 4096;

/** The disk space a file takes: its allocated blocks (as `du` counts), at least its length; rounded up to 4 KiB where blocks are not reported. */
export function allocatedBytes(stat: { size: number; blocks?: number }): number {
	return typeof stat.blocks === 'number' && Number.isFinite(stat.blocks) ? Math.max(stat.size, stat.blocks * 512) : Math.ceil(stat.size / DEFAULT_BLOCK) * DEFAULT_BLOCK;
}

/** Resolves on the next turn of the event loop. */
function yieldNow(): Promise<void> {
	return new Promise((resolve) => setImmediate(resolve));
}

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
	/** Allocated bytes (`allocatedBytes`). */
	size: number;
	mtimeMs: number;
}

export class DiskResponseStore {
	readonly dir: string;
	readonly maxBytes: number;
	/** Allocated bytes of entries as last counted (or estimated) plus what this process wrote since; undefined until first counted. */
	private bytes: number | undefined;
	private evicting: Promise<void> | undefined;
	/** Size accounting and eviction, one after the other, off the caller's path. */
	private background: Promise<void> = Promise.resolve();
	/** Allocated bytes written by `put` and not yet added to `bytes`. */
	private pendingBytes = 0;
	/** An accounting task is queued or running (see `account`). */
	private accounting = false;
	/** The allocation unit of the cache's file system, as last seen (`stat.blksize`). */
	private block = DEFAULT_BLOCK;
	private readonly startEviction: DiskResponseStoreOptions['startEviction'];

	constructor(options: DiskResponseStoreOptions) {
		this.dir = path.resolve(options.dir);
		this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
		this.startEviction = options.startEviction;
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
		// a large cache goes on holds a number, not a pending task (and its text) per answer. An entry takes whole
		// blocks on disk (counted exactly at the next eviction).
		this.pendingBytes += Math.max(1, Math.ceil(Buffer.byteLength(text) / this.block)) * this.block;
		if (this.accounting) return;
		this.accounting = true;
		this.background = this.background.then(() => this.account()).catch(() => undefined);
	}

	/** Add what was written since the last round (or estimate the size the first time), evicting past the bound, until nothing is pending. */
	private async account(): Promise<void> {
		try {
			while (this.bytes === undefined || this.pendingBytes > 0) {
				const added = this.pendingBytes;
				this.pendingBytes = 0;
				// The first count sees the entries on disk, those just written included.
				this.bytes = this.bytes === undefined ? await this.estimateSize() : this.bytes + added;
				if (this.bytes <= this.maxBytes) continue;
				if (this.startEviction && (evictionUnderWay(this.dir) || this.startEviction(this.dir, this.maxBytes))) {
					// Counted as done: this process does not start another one for every answer it writes next.
					this.bytes = Math.floor(this.maxBytes * EVICT_TO);
				} else {
					await this.evict();
				}
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

	/** The shard folders present. */
	private shards(): string[] {
		try {
			return readdirSync(this.dir).filter((name) => SHARD.test(name));
		} catch {
			return [];
		}
	}

	/**
	 * The entries of `shards` with their allocated size and last use (`keep: false`: only the total), removing
	 * stale temporary files on the way; stops after `enough` entries. Synchronous calls in slices of SLICE_MS.
	 */
	private async scan(shards: string[], options: { keep: boolean; enough?: number; minShards?: number }): Promise<{ entries: EntryStat[]; bytes: number; count: number; shardsRead: number }> {
		const entries: EntryStat[] = [];
		let bytes = 0;
		let count = 0;
		let shardsRead = 0;
		let sliceStart = Date.now();
		for (const shard of shards) {
			if (options.enough !== undefined && count >= options.enough && shardsRead >= (options.minShards ?? 0)) break;
			const folder = path.join(this.dir, shard);
			let names: string[];
			try {
				names = readdirSync(folder);
			} catch {
				continue;
			}
			shardsRead++;
			for (const name of names) {
				if (Date.now() - sliceStart >= SLICE_MS) {
					await yieldNow();
					sliceStart = Date.now();
				}
				const file = path.join(folder, name);
				let stat: Stats;
				try {
					stat = statSync(file);
				} catch {
					continue; // removed meanwhile (another process evicting)
				}
				if (!stat.isFile()) continue;
				if (ENTRY.test(name)) {
					const size = allocatedBytes(stat);
					if (stat.blksize > 0) this.block = stat.blksize;
					bytes += size;
					count++;
					if (options.keep) entries.push({ file, size, mtimeMs: stat.mtimeMs });
				} else if (name.endsWith('.tmp') && Date.now() - stat.mtimeMs > STALE_TMP_MS) {
					try {
						rmSync(file, { force: true });
					} catch {
						// someone else's file: left alone
					}
				}
			}
		}
		return { entries, bytes, count, shardsRead };
	}

	/**
	 * The allocated bytes of every entry, estimated from whole shard folders until SAMPLE_ENTRIES entries (at
	 * least SAMPLE_SHARDS folders) were seen: keys are sha256, so every folder holds an even share. A small
	 * cache is counted whole. The estimate decides only when to evict; eviction counts every entry.
	 */
	async estimateSize(): Promise<number> {
		const shards = this.shards();
		// Spread over the key space, in a fixed order.
		const order = shards.map((s, i) => ({ s, k: (i * 97) % shards.length })).sort((a, b) => a.k - b.k || a.s.localeCompare(b.s)).map((x) => x.s);
		const { bytes, shardsRead } = await this.scan(order, { keep: false, enough: SAMPLE_ENTRIES, minShards: SAMPLE_SHARDS });
		return shardsRead === 0 ? 0 : Math.round((bytes * shards.length) / shardsRead);
	}

	/** Delete least recently used entries until they take at most EVICT_TO of `maxBytes`. Safe with other processes. */
	async evict(): Promise<void> {
		this.evicting ??= (async () => {
			try {
				const { entries } = await this.scan(this.shards(), { keep: true });
				entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
				let total = entries.reduce((t, e) => t + e.size, 0);
				const target = Math.floor(this.maxBytes * EVICT_TO);
				let sliceStart = Date.now();
				for (const e of entries) {
					if (total <= target) break;
					if (Date.now() - sliceStart >= SLICE_MS) {
						await yieldNow();
						sliceStart = Date.now();
					}
					try {
						rmSync(e.file, { force: true });
					} catch {
						// not ours to remove (permissions): counted as gone all the same, the next eviction sees it again
					}
					total -= e.size;
				}
				this.bytes = total;
			} finally {
				this.evicting = undefined;
			}
		})();
		return this.evicting;
	}

	/** Disk space taken by the stored entries, counted now: allocated blocks, as `du` counts them (not the folders). */
	async size(): Promise<number> {
		return (await this.scan(this.shards(), { keep: false })).bytes;
	}
}

/** The lock file of the eviction under way in a cache folder: it holds the evicting process's id. */
const EVICT_LOCK = '.evicting';
/** An eviction lock older than this is stale whoever holds it. */
const EVICT_LOCK_STALE_MS = 60 * 60 * 1000;

/**
 * Whether an eviction of `dir` is under way in some process: its lock file exists, is younger than an hour
 * and names a running process.
 */
export function evictionUnderWay(dir: string): boolean {
	try {
		const lock = path.join(dir, EVICT_LOCK);
		const stat = statSync(lock);
		if (Date.now() - stat.mtimeMs > EVICT_LOCK_STALE_MS) return false;
		const pid = Number(readFileSync(lock, 'utf8').trim());
		if (!Number.isInteger(pid) || pid <= 0) return false;
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM'; // a running process of another user
	}
}

/**
 * Evict `dir` under its eviction lock (what the CLI's background process does): take the lock (or leave
 * when a live process holds it), evict down to EVICT_TO of `maxBytes`, release the lock. Never throws.
 */
export async function evictWithLock(dir: string, maxBytes: number): Promise<void> {
	const lock = path.join(dir, EVICT_LOCK);
	let taken = false;
	try {
		try {
			writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || evictionUnderWay(dir)) return;
			writeFileSync(lock, `${process.pid}\n`); // a stale lock: taken over
		}
		taken = true;
		await new DiskResponseStore({ dir, maxBytes }).evict();
	} catch {
		// a cache folder removed meanwhile, no permission: nothing to do
	} finally {
		try {
			if (taken && readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock, { force: true });
		} catch {
			// already gone
		}
	}
}
