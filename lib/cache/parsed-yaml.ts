/**
 * YAML files as last parsed, kept on disk by their exact text: a rerun over 1,000 unchanged fixture files
 * reads each file and one cache file instead of parsing 1,000 YAML documents, which was the largest cost of
 * a `test` whose answers all come from the response cache. Only the parse is reused: whoever reads the data
 * still checks it (a fixture against its prompt) every time.
 *
 * - One cache file per folder: `<cacheDir>/parsed-yaml/<sha256 of the folder's path, 32 hex>.json` holding
 *   `{format, yaml: <version of the yaml package>, files: {<name>: [<sha256 of the text>, <data as JSON>]}}`.
 * - A hit needs the very same text: the sha256 of the text just read must equal the entry's. Anything else
 *   is parsed. Values JSON cannot carry exactly (`.inf`, `.nan`, `-0`, a `__proto__` key) are never stored.
 * - Error messages keep their line numbers: the text is parsed again when an error asks for a line.
 * - Saved after a complete pass over the folder, only when something changed, atomically (temporary file +
 *   rename): concurrent runs each leave a whole file, and every entry is valid whoever wrote it.
 * - Bounded: a folder whose cache would pass 8 MB (some 20,000 short fixtures) is not cached (memory stays flat for very large folders);
 *   at most 32 folders are kept, the least recently used go first.
 * - Forgiving: a cache file that cannot be read or has another format is ignored and replaced, never an error.
 */
import { promises as fs, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../hash';
import { parseYaml, writeFileAtomic, type LoadedFile } from '../yaml-io';

/** Bumped whenever the cache file changes shape: older files are then ignored. */
export const PARSED_YAML_FORMAT = 1;
/** Largest cache of one folder, in characters of its JSON text: a larger folder is not cached (and its entries are not held). */
export const PARSED_YAML_MAX_BYTES = 8 * 1024 * 1024;
/** How many folders are cached at most. */
export const PARSED_YAML_MAX_FOLDERS = 32;
/** Temporary files older than this are left-overs of a killed writer. */
const STALE_TMP_MS = 60 * 60 * 1000;

function yamlVersion(): string {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return (require('yaml/package.json') as { version: string }).version;
}

/** Whether JSON gives back exactly this value: plain objects, arrays, strings, booleans, null and finite numbers other than -0. */
export function survivesJson(value: unknown): boolean {
	if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
	if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
	if (Array.isArray(value)) return value.every(survivesJson);
	if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
	for (const key of Object.keys(value)) if (key === '__proto__' || !survivesJson((value as Record<string, unknown>)[key])) return false;
	return true;
}

/** The parse cache under a cache folder (the CLI's `--cache-dir`). Nothing is read or written until a folder is used. */
export class ParsedYamlCache {
	readonly dir: string;
	/** The largest cache of one folder (default PARSED_YAML_MAX_BYTES). */
	readonly maxBytes: number;

	/** `cacheDir`: the response cache folder; this cache lives in its `parsed-yaml` subfolder. */
	constructor(cacheDir: string, options: { maxBytes?: number } = {}) {
		this.dir = path.join(path.resolve(cacheDir), 'parsed-yaml');
		this.maxBytes = options.maxBytes ?? PARSED_YAML_MAX_BYTES;
	}

	/** The cached parses of the files of `folder` (read now, once; a missing or unusable cache file is an empty one). */
	folder(folder: string): ParsedYamlFolder {
		return new ParsedYamlFolder(this, path.join(this.dir, `${sha256(path.resolve(folder)).slice(0, 32)}.json`), this.maxBytes);
	}

	/** Remove left-over temporary files and the least recently used folders beyond PARSED_YAML_MAX_FOLDERS. Never throws. */
	async prune(): Promise<void> {
		const names = await fs.readdir(this.dir).catch(() => [] as string[]);
		const kept: Array<{ file: string; mtimeMs: number }> = [];
		for (const name of names) {
			const file = path.join(this.dir, name);
			const stat = await fs.stat(file).catch(() => undefined);
			if (!stat?.isFile()) continue;
			if (/^[0-9a-f]{32}\.json$/.test(name)) kept.push({ file, mtimeMs: stat.mtimeMs });
			else if (name.endsWith('.tmp') && Date.now() - stat.mtimeMs > STALE_TMP_MS) await fs.rm(file, { force: true }).catch(() => undefined);
		}
		kept.sort((a, b) => b.mtimeMs - a.mtimeMs);
		for (const old of kept.slice(PARSED_YAML_MAX_FOLDERS)) await fs.rm(old.file, { force: true }).catch(() => undefined);
	}
}

type Entry = [hash: string, json: string];

/** One folder's cached parses: `parse` each file's text during a pass, then `save`. */
export class ParsedYamlFolder {
	/** Entries as read from the cache file. */
	private readonly stored = new Map<string, Entry>();
	/** Entries of the files parsed in this pass, in the order seen. */
	private readonly seen = new Map<string, Entry>();
	private changed = false;
	/** Characters the entries seen take; past `maxBytes` the folder is too large to cache and nothing more is kept. */
	private size = 0;
	private tooLarge = false;
	private readonly yaml = yamlVersion();

	constructor(
		private readonly cache: ParsedYamlCache,
		/** The cache file of this folder. */
		readonly file: string,
		private readonly maxBytes: number = PARSED_YAML_MAX_BYTES,
	) {
		try {
			const stat = statSync(file, { throwIfNoEntry: false });
			if (!stat || stat.size > maxBytes) return;
			const data = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; yaml?: unknown; files?: unknown };
			if (data.format !== PARSED_YAML_FORMAT || data.yaml !== this.yaml || typeof data.files !== 'object' || data.files === null) return;
			for (const [name, entry] of Object.entries(data.files as Record<string, unknown>)) {
				if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'string') this.stored.set(name, entry as Entry);
			}
		} catch {
			this.stored.clear(); // unreadable or not JSON: start afresh
		}
	}

	/**
	 * The file `name` of the folder, with text `text`, parsed: from the cache when this very text was parsed
	 * before, else by parseYaml (whose errors, e.g. YamlSyntaxError naming the line, are thrown as they are).
	 * `shown` is the file as messages name it.
	 */
	parse(name: string, text: string, shown: string): LoadedFile {
		const hash = sha256(text);
		const hit = this.stored.get(name);
		if (hit && hit[0] === hash) {
			this.keep(name, hit);
			let parsed: LoadedFile | undefined;
			return { file: shown, data: JSON.parse(hit[1]) as unknown, lineOf: (field) => (parsed ??= parseYaml(text, shown)).lineOf(field) };
		}
		const loaded = parseYaml(text, shown);
		this.changed = true;
		if (!this.tooLarge && survivesJson(loaded.data)) this.keep(name, [hash, JSON.stringify(loaded.data)]);
		return loaded;
	}

	/** Remember an entry for `save`, unless the folder has proved too large to cache (then nothing is held). */
	private keep(name: string, entry: Entry): void {
		if (this.tooLarge) return;
		this.size += name.length + entry[0].length + entry[1].length + 8;
		if (this.size <= this.maxBytes) {
			this.seen.set(name, entry);
			return;
		}
		this.tooLarge = true;
		this.seen.clear();
		this.stored.clear();
	}

	/**
	 * After a complete pass: write the entries of the files seen in it (files gone from the folder drop out)
	 * when anything changed, else mark the folder as used. Never throws: a cache that cannot be written only
	 * costs the next run a parse.
	 */
	async save(): Promise<void> {
		try {
			if (this.tooLarge) {
				await fs.rm(this.file, { force: true });
				return;
			}
			const removed = [...this.stored.keys()].some((name) => !this.seen.has(name));
			if (!this.changed && !removed) {
				const now = new Date();
				await fs.utimes(this.file, now, now);
				return;
			}
			const text = JSON.stringify({ format: PARSED_YAML_FORMAT, yaml: this.yaml, files: Object.fromEntries(this.seen) });
			if (text.length > this.maxBytes) {
				await fs.rm(this.file, { force: true });
				return;
			}
			await writeFileAtomic(this.file, text);
			await this.cache.prune();
		} catch {
			// a full disk or a read-only cache folder: the next run parses again
		}
	}
}
