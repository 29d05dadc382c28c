/**
 * Resume state of batch runs: one small JSON file per submitted batch, `<cache dir>/batches/<round>.json`,
 * written atomically right after the provider accepted the batch and removed once its answers were read.
 * `<round>` is the sha256 of the sorted response-cache keys of the batch's requests, so running the same
 * command again (same prompt, model, fixtures and attempt) finds the batch and polls it instead of paying
 * for a second one. Why here and not in the registry: docs/adr/0021-batch-resume-state.md.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../yaml-io';

export interface PendingBatch {
	format: 1;
	/** sha256 of the sorted custom ids (= response cache keys) of the batch. */
	round: string;
	batchId: string;
	/** e.g. `openai batch at https://api.openai.com/v1`. */
	label: string;
	submittedAt: string;
	customIds: string[];
}

export class PendingBatches {
	readonly dir: string;

	constructor(dir: string) {
		this.dir = path.resolve(dir);
	}

	/** The folder for a response cache folder: `<cacheDir>/batches`. */
	static inCacheDir(cacheDir: string): PendingBatches {
		return new PendingBatches(path.join(cacheDir, 'batches'));
	}

	fileOf(round: string): string {
		return path.join(this.dir, `${round}.json`);
	}

	/** The pending batch of a round; undefined when none or when the file is unreadable (then it is ignored). */
	async read(round: string): Promise<PendingBatch | undefined> {
		try {
			const value = JSON.parse(await fs.readFile(this.fileOf(round), 'utf8')) as Partial<PendingBatch>;
			if (value.format !== 1 || value.round !== round || typeof value.batchId !== 'string' || !Array.isArray(value.customIds)) return undefined;
			return value as PendingBatch;
		} catch {
			return undefined;
		}
	}

	async save(pending: PendingBatch): Promise<void> {
		await fs.mkdir(this.dir, { recursive: true });
		await writeFileAtomic(this.fileOf(pending.round), `${JSON.stringify(pending, null, 2)}\n`);
	}

	async remove(round: string): Promise<void> {
		await fs.rm(this.fileOf(round), { force: true });
	}

	/** Every pending batch (for messages such as "2 batches still pending"). */
	async list(): Promise<PendingBatch[]> {
		const names = await fs.readdir(this.dir).catch(() => [] as string[]);
		const out: PendingBatch[] = [];
		for (const name of names) {
			if (!name.endsWith('.json')) continue;
			const p = await this.read(name.slice(0, -'.json'.length));
			if (p) out.push(p);
		}
		return out;
	}
}
