import { closeSync, promises as fs, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { LineCounter, parseDocument, stringify, isMap, isNode, isScalar, isSeq, type Document } from 'yaml';
import { ConfigError, YamlSyntaxError } from './errors';
import { readYamlSubset } from './yaml-subset';

export type FieldPath = ReadonlyArray<string | number>;

/** A parsed YAML/JSON file that can say on which line a field stands. */
export interface LoadedFile {
	file: string;
	data: unknown;
	lineOf(field: FieldPath): number | undefined;
}

/** Render a field path the way users write it: `model.name`, `inputs.subject.type`, `rules[2]`. */
export function fieldName(field: FieldPath): string {
	let out = '';
	for (const part of field) {
		if (typeof part === 'number') out += `[${part}]`;
		else out += out ? `.${part}` : part;
	}
	return out;
}

/**
 * Parse a registry file. Plain files (lib/yaml-subset.ts: what `toYaml` writes for fixtures) are read by the
 * fast subset reader, with the same result; anything else by the `yaml` package. Line numbers for messages
 * come from the `yaml` package either way (parsed when first asked for). Throws YamlSyntaxError naming the line.
 */
export function parseYaml(text: string, file: string): LoadedFile {
	const fast = readYamlSubset(text);
	if (fast) {
		let full: LoadedFile | undefined;
		return { file, data: fast.value, lineOf: (field) => (full ??= parseFullYaml(text, file)).lineOf(field) };
	}
	return parseFullYaml(text, file);
}

function parseFullYaml(text: string, file: string): LoadedFile {
	const lineCounter = new LineCounter();
	const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
	if (doc.errors.length > 0) {
		const err = doc.errors[0];
		const line = err.linePos?.[0]?.line ?? lineCounter.linePos(err.pos[0]).line;
		throw new YamlSyntaxError(`invalid YAML: ${err.message.split('\n')[0]}. Fix the syntax at that line.`, {
			file,
			line,
		});
	}
	let data: unknown;
	try {
		data = doc.toJS({ maxAliasCount: 100 });
	} catch (error) {
		// An unresolved alias (`*name` before `&name`) or an alias bomb.
		throw new YamlSyntaxError(`invalid YAML: ${(error as Error).message}`, { file });
	}
	return {
		file,
		data,
		lineOf(field: FieldPath): number | undefined {
			const lineAt = (node: unknown) => (isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined);
			// Walk up to the nearest existing field, so a missing field points at its parent. A field in a
			// mapping is located by its key, so `model:` points at its own line, not at its first child.
			for (let n = field.length; n > 0; n--) {
				const parent = n === 1 ? doc.contents : doc.getIn(field.slice(0, n - 1), true);
				const key = field[n - 1];
				if (isMap(parent)) {
					const pair = parent.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(key));
					const line = pair && (lineAt(pair.key) ?? lineAt(pair.value));
					if (line !== undefined) return line;
				} else if (isSeq(parent) && typeof key === 'number') {
					const line = lineAt(parent.items[key]);
					if (line !== undefined) return line;
				}
			}
			return lineAt(doc.contents);
		},
	};
}

export async function readYamlFile(file: string): Promise<LoadedFile> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch (error) {
		throw new ConfigError(`cannot read file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { file });
	}
	return parseYaml(text, file);
}

export function toYaml(value: unknown): string {
	return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * Registry files of a few hundred bytes (prompts, versions, fixtures, index entries) are read synchronously:
 * an asynchronous read is five thread-pool round trips (open, fstat, read, read, close), each a futex wake,
 * an eventfd write and an epoll wake-up — ten times the cost of the read itself, and what bounded Record
 * Correction's throughput (docs/adr/0032). Errors arrive as rejections, as from `fs.promises.readFile`.
 */
export async function readSmallFile(file: string, encoding: 'utf8'): Promise<string> {
	return readFileSync(file, encoding);
}

/** Write `content` to the new file `tmp` (next to `file`), creating `file`'s folder only when it is missing. */
function writeNewTempFile(tmp: string, file: string, content: string): void {
	try {
		writeFileSync(tmp, content, { encoding: 'utf8', flag: 'wx' });
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		mkdirSync(path.dirname(file), { recursive: true });
		writeFileSync(tmp, content, { encoding: 'utf8', flag: 'wx' });
	}
}

/**
 * `writeFileAtomic` for small registry files (fixtures, index entries), written synchronously for the same
 * reason as `readSmallFile`. Large files (runs, caches) use `writeFileAtomic`.
 *
 * The file being replaced first gets a second name, removed after the rename. A rename that drops the last
 * name of a file frees it before letting go of the folder's lock, and freeing can wait for the disk (ext4
 * without a journal and mounted with `discard` discards the freed blocks synchronously): every other write
 * and lookup in the folder waited for it, which serialised concurrent Record Corrections (docs/adr/0032).
 * The unlink frees the old content after releasing the lock. Where hard links are not possible the file
 * is simply replaced.
 */
export async function writeSmallFileAtomic(file: string, content: string): Promise<void> {
	const tmp = tempName(file);
	let aside: string | undefined;
	try {
		writeNewTempFile(tmp, file, content);
		aside = tempName(file);
		try {
			linkSync(file, aside);
		} catch {
			aside = undefined; // a new file (ENOENT), or no hard links on this file system: nothing to set aside
		}
		renameSync(tmp, file);
	} catch (error) {
		rmSync(tmp, { force: true });
		throw error;
	} finally {
		if (aside !== undefined) rmSync(aside, { force: true });
	}
}

/**
 * `createFileExclusive` for small registry files (fixtures), synchronous for the same reason as
 * `readSmallFile`: the asynchronous one is six thread-pool round trips (mkdir, open, write, close, link,
 * unlink). The content is written to a temporary file and hard-linked to `file`, so readers never see a
 * partly written file and of concurrent writers exactly one creates it. Returns false, writing nothing,
 * when `file` already exists. The folder is created only when missing.
 */
export async function createSmallFileExclusive(file: string, content: string): Promise<boolean> {
	const tmp = tempName(file);
	writeNewTempFile(tmp, file, content);
	try {
		linkSync(tmp, file);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
		throw error;
	} finally {
		unlinkSync(tmp);
	}
}

/** Unique per process: a random prefix once, then a counter. */
const tempPrefix = randomBytes(4).toString('hex');
let tempCount = 0;

function tempName(file: string): string {
	return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempPrefix}${(tempCount++).toString(36)}.tmp`);
}

/**
 * `writeFileAtomic` for content given in pieces (a large report): the pieces are written as they come, so the
 * whole text is never one string; readers see the old file or the complete new one. Creates missing folders.
 * Writes synchronously through one 256 KB buffer.
 */
export async function writeFileAtomicFrom(file: string, pieces: Iterable<string>): Promise<void> {
	const tmp = tempName(file);
	mkdirSync(path.dirname(file), { recursive: true });
	const fd = openSync(tmp, 'wx');
	try {
		// One reused buffer: joining pieces into large strings would leave a large object per block for V8 to collect.
		const buffer = Buffer.allocUnsafe(1 << 18);
		let used = 0;
		const flush = (): void => {
			for (let at = 0; at < used; ) at += writeSync(fd, buffer, at, used - at);
			used = 0;
		};
		for (const piece of pieces) {
			// A UTF-16 code unit takes at most 3 bytes in UTF-8.
			if (used + piece.length * 3 > buffer.length) flush();
			if (piece.length * 3 > buffer.length) writeSync(fd, piece);
			else used += buffer.write(piece, used, 'utf8');
		}
		flush();
		closeSync(fd);
		renameSync(tmp, file);
	} catch (error) {
		try {
			closeSync(fd);
		} catch {
			// already closed
		}
		rmSync(tmp, { force: true });
		throw error;
	}
}

/** Write a file so readers see either the old or the new content, never a torn one. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
	const tmp = tempName(file);
	try {
		try {
			await fs.writeFile(tmp, content, { encoding: 'utf8', flag: 'wx' });
		} catch (error) {
			// The folder is usually there: create it only when missing (one system call less per write).
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
			await fs.mkdir(path.dirname(file), { recursive: true });
			await fs.writeFile(tmp, content, { encoding: 'utf8', flag: 'wx' });
		}
		await fs.rename(tmp, file);
	} catch (error) {
		await fs.rm(tmp, { force: true });
		throw error;
	}
}

/**
 * Create a file that must not exist yet (frozen versions, stored runs).
 * Returns false, writing nothing, when the file already exists.
 */
export async function createFileExclusive(file: string, content: string): Promise<boolean> {
	await fs.mkdir(path.dirname(file), { recursive: true });
	const tmp = tempName(file);
	await fs.writeFile(tmp, content, { encoding: 'utf8', flag: 'wx' });
	try {
		await fs.link(tmp, file);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
		throw error;
	} finally {
		await fs.rm(tmp, { force: true });
	}
}
