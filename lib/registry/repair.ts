/**
 * `publish --repair <prompt>@<version>`: a published version row whose stored content no longer hashes to its
 * recorded hash (edited by hand, a bad restore) is rewritten from git's frozen file, and only when git's file is
 * itself intact and records the same content hash as the row: a repair never changes what a version is.
 */
import { ConfigError, InputError } from '../errors';
import type { FileRegistryStore } from './file-store';
import type { PostgresRegistryStore } from './postgres/store';
import type { FrozenVersion } from '../types';

export interface VersionRepair {
	promptId: string;
	version: number;
	/** git's frozen version, once checked. */
	frozen?: FrozenVersion;
}

/** `<prompt>@<version>` values (prompt among `prompts`), or InputError naming the bad one. */
export function parseRepairs(values: string[], prompts: string[]): VersionRepair[] {
	return values.map((v) => {
		const m = /^([^@\s]+)@v?([1-9][0-9]*)$/.exec(v.trim());
		if (!m) throw new InputError(`--repair "${v}" is invalid: write <prompt>@<version> (e.g. price-change@3)`);
		if (!prompts.includes(m[1])) throw new InputError(`--repair "${v}": prompt "${m[1]}" is not being published (prompts: ${prompts.join(', ') || 'none'})`);
		return { promptId: m[1], version: Number(m[2]) };
	});
}

/** Check a repair before anything is written: git's file intact, the row there under the same content hash. */
export async function checkRepair(source: FileRegistryStore, target: PostgresRegistryStore, repair: VersionRepair): Promise<VersionRepair> {
	const { promptId, version } = repair;
	let frozen: FrozenVersion;
	try {
		frozen = await source.readVersion(promptId, version);
	} catch (error) {
		throw new ConfigError(`--repair ${promptId}@${version} refused, nothing was written: git's own version file cannot be used: ${(error as Error).message}`);
	}
	const rows = await target.query<{ content_hash: string }>(`SELECT content_hash FROM {s}.versions WHERE prompt_id = $1 AND version = $2`, [promptId, version]);
	if (!rows.length) throw new InputError(`--repair ${promptId}@${version}: ${target.location} has no version ${version} of "${promptId}"; publish without --repair adds it`);
	if (rows[0].content_hash !== frozen.contentHash) {
		throw new ConfigError(
			`--repair ${promptId}@${version} refused, nothing was written: ${target.location} records ${rows[0].content_hash} for that version, git's file ${frozen.contentHash}: they are different versions, not a damaged copy`,
		);
	}
	return { ...repair, frozen };
}

/** Rewrite the checked version row from git's file (only while it still records the same content hash). */
export async function repairVersion(target: PostgresRegistryStore, repair: VersionRepair): Promise<void> {
	const frozen = repair.frozen!;
	await target.query(`UPDATE {s}.versions SET body = $3 WHERE prompt_id = $1 AND version = $2 AND content_hash = $4`, [
		repair.promptId,
		repair.version,
		JSON.parse(JSON.stringify(frozen)),
		frozen.contentHash,
	]);
	await target.readVersion(repair.promptId, repair.version); // checks the hash again
}
