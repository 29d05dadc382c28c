/**
 * The file store's index of fixtures by inputs (design: docs/adr/0032): finding "the fixture that already
 * covers these inputs" reads one small file instead of every fixture.
 *
 * Layout: `<prompt>/fixtures/.index/<h[0..2]>/<h>` where `h` is the sha256 (hex) of the canonical JSON of
 * the inputs; the file holds the fixture id and a newline. One file per inputs, written atomically, so
 * concurrent writers never share a file to lock, and two branches adding fixtures merge without conflicts.
 * A fixture named after its inputs (`derivedFixtureId`: what Record Correction names the fixture of new
 * inputs) needs no entry: it is found by its name, so a correction of new inputs writes one file, not two.
 * Entries that older versions wrote for such fixtures stay valid and are left in place.
 * `.index/VERSION` marks an index that was built over every fixture; a registry without it (from before
 * the index existed) is indexed once, under a lock, on first use.
 *
 * The index is derived data and is checked, never trusted blindly: a lookup reads the fixture it names and
 * compares inputs. Fixtures added by hand or by git merges get their entries from `prompt-release
 * validate --fix` (`validate` reports missing and stale entries).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { ConfigError } from '../errors';
import { canonicalJson, sha256 } from '../hash';
import { readSmallFile, writeSmallFileAtomic } from '../yaml-io';

const FORMAT = '1\n';
/** How long a process trusts that an index it saw complete still is (see `complete`). */
const COMPLETE_RECHECK_MS = 5000;
/** Index folders this process saw complete, and when. */
const knownComplete = new Map<string, number>();

/** sha256 hex of the canonical JSON of the inputs: the index key. */
export function inputsKey(inputs: Record<string, unknown>): string {
	return sha256(canonicalJson(inputs));
}

/**
 * The fixture id derived from inputs whose key is `key`: `correction-` and the key's first 16 hex digits.
 * Record Correction names the fixture of new inputs so; such a fixture is found by its name, without an entry.
 */
export function derivedFixtureId(key: string): string {
	return `correction-${key.slice(0, 16)}`;
}

/** Whether the fixture `fixtureId` with inputs of key `key` needs an index entry (its id is not derived from its inputs). */
export function needsEntry(key: string, fixtureId: string): boolean {
	return fixtureId !== derivedFixtureId(key);
}

async function readText(file: string): Promise<string | undefined> {
	try {
		return await readSmallFile(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

export interface IndexProblem {
	fixtureId: string;
	message: string;
}

export class InputsIndex {
	readonly dir: string;

	/** `fixturesDir`: the prompt's `fixtures/` folder. */
	constructor(fixturesDir: string) {
		this.dir = path.join(fixturesDir, '.index');
	}

	private entry(key: string): string {
		return path.join(this.dir, key.slice(0, 2), key);
	}

	/** The fixture id the index names for these inputs, if any (not yet checked against the fixture). */
	async lookup(inputs: Record<string, unknown>): Promise<string | undefined> {
		return this.lookupKey(inputsKey(inputs));
	}

	/** `lookup` by the inputs' key (`inputsKey`), for callers that computed it already. */
	async lookupKey(key: string): Promise<string | undefined> {
		return (await readText(this.entry(key)))?.trim() || undefined;
	}

	/** Point these inputs at `fixtureId` (atomic; the last writer wins, as with the fixture itself). */
	async set(inputs: Record<string, unknown>, fixtureId: string): Promise<void> {
		await this.setKey(inputsKey(inputs), fixtureId);
	}

	/** `set` by the inputs' key (`inputsKey`). */
	async setKey(key: string, fixtureId: string): Promise<void> {
		await writeSmallFileAtomic(this.entry(key), `${fixtureId}\n`);
	}

	/** Drop the entry for these inputs if it still names `fixtureId`. */
	async remove(inputs: Record<string, unknown>, fixtureId: string): Promise<void> {
		const file = this.entry(inputsKey(inputs));
		if ((await readText(file))?.trim() === fixtureId) await fs.rm(file, { force: true });
	}

	/**
	 * True once the index was built over every fixture (or created empty with the first fixture). A complete
	 * index stays complete (only `rebuild` writes VERSION), so a process reads VERSION again only after
	 * COMPLETE_RECHECK_MS: an index deleted by hand is noticed (and rebuilt) within that time.
	 */
	async complete(): Promise<boolean> {
		const seen = knownComplete.get(this.dir);
		if (seen !== undefined && Date.now() - seen < COMPLETE_RECHECK_MS) return true;
		const complete = (await readText(path.join(this.dir, 'VERSION'))) === FORMAT;
		if (complete) knownComplete.set(this.dir, Date.now());
		else knownComplete.delete(this.dir);
		return complete;
	}

	/**
	 * Build the index over `fixtures` if it is not complete yet, under a lock so concurrent processes build it
	 * once. `fixtures` is read only when needed.
	 */
	async ensure(fixtures: () => AsyncIterable<{ id: string; inputs: Record<string, unknown> }>): Promise<void> {
		if (await this.complete()) return;
		await fs.mkdir(this.dir, { recursive: true });
		let release: () => Promise<void>;
		try {
			release = await lockfile.lock(this.dir, { realpath: false, stale: 60_000, retries: { retries: 600, minTimeout: 20, maxTimeout: 500 } });
		} catch (error) {
			throw new ConfigError(`could not lock the fixture index ${this.dir}: ${(error as Error).message}. Run "prompt-release validate --fix" to rebuild it.`);
		}
		try {
			if (await this.complete()) return;
			await this.rebuild(fixtures());
		} finally {
			await release();
		}
	}

	/**
	 * Write an entry for every fixture that needs one (`needsEntry`) and remove entries that name no fixture
	 * with those inputs; then mark the index complete. Returns how many entries were written and removed.
	 */
	async rebuild(fixtures: AsyncIterable<{ id: string; inputs: Record<string, unknown> }>): Promise<{ written: number; removed: number }> {
		const keep = new Set<string>();
		// Entries written while the rebuild runs (by other processes) are newer than this and stay.
		const started = Date.now() - 1000;
		let written = 0;
		for await (const f of fixtures) {
			const key = inputsKey(f.inputs);
			if (!needsEntry(key, f.id)) {
				keep.add(key); // found by its name; an entry an older version wrote for it is left as it is
				continue;
			}
			if (keep.has(key)) continue; // two fixtures with the same inputs: the first (by id) wins
			keep.add(key);
			if ((await readText(this.entry(key)))?.trim() !== f.id) {
				await this.setKey(key, f.id);
				written++;
			}
		}
		let removed = 0;
		for (const shard of await fs.readdir(this.dir).catch(() => [] as string[])) {
			if (!/^[0-9a-f]{2}$/.test(shard)) continue;
			for (const key of await fs.readdir(path.join(this.dir, shard))) {
				if (!/^[0-9a-f]{64}$/.test(key) || keep.has(key)) continue;
				const file = path.join(this.dir, shard, key);
				const stat = await fs.stat(file).catch(() => undefined);
				if (!stat || stat.mtimeMs >= started) continue;
				await fs.rm(file, { force: true });
				removed++;
			}
		}
		await writeSmallFileAtomic(path.join(this.dir, 'VERSION'), FORMAT);
		knownComplete.set(this.dir, Date.now());
		return { written, removed };
	}

	/** Fixtures that need an entry (`needsEntry`) the index does not lead to (missing or pointing elsewhere). */
	async check(fixtures: AsyncIterable<{ id: string; inputs: Record<string, unknown> }>): Promise<IndexProblem[]> {
		const problems: IndexProblem[] = [];
		const seen = new Set<string>();
		for await (const f of fixtures) {
			const key = inputsKey(f.inputs);
			if (seen.has(key)) continue; // duplicates of inputs are allowed; the index names the first
			seen.add(key);
			const problem = await this.problemOf(f.id, key);
			if (problem) problems.push(problem);
		}
		return problems;
	}

	/**
	 * Why the index does not lead to fixture `fixtureId`, the first fixture (by id) whose inputs have key `key`;
	 * undefined when it does or the fixture needs no entry. `validate` asks this of each fixture as it reads it.
	 */
	async problemOf(fixtureId: string, key: string): Promise<IndexProblem | undefined> {
		if (!needsEntry(key, fixtureId)) return undefined; // found by its name
		const named = (await readText(this.entry(key)))?.trim();
		if (named === fixtureId) return undefined;
		return { fixtureId, message: named ? `the fixture index names "${named}" for its inputs` : 'it is missing from the fixture index' };
	}
}
