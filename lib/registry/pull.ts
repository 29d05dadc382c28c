/**
 * `prompt-release pull --from <postgres-url> <folder>`: corrections recorded in production come back as
 * fixture files, to be reviewed in a pull request like any change (and run reports with `runs`).
 * A fixture changed on both sides since the last publish/pull is reported, never overwritten: production's copy
 * is written next to it as `<id>.yaml.production` to merge from (ADR 0012). Files keep their key order.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { parseYaml, toYaml, writeFileAtomic } from '../yaml-io';
import type { FileRegistryStore } from './file-store';
import type { PostgresRegistryStore } from './postgres/store';
import { fixtureHash, fixtureSyncStates, markSynced, resolvesConflict } from './postgres/sync-state';
import type { Fixture } from '../types';

export interface PullOptions {
	/** Only these prompts (default: every prompt both registries hold). */
	promptIds?: string[];
	/** Also copy run reports the folder does not have yet. */
	runs?: boolean;
}

export interface PullReport {
	/** Fixture files written, as `<prompt>/<fixture id>`, and whether they are new to the folder. */
	written: Array<{ promptId: string; fixtureId: string; created: boolean }>;
	/** Changed in the folder and in the database since the last sync: left as they are; production's copy in `productionCopy`. */
	conflicts: Array<{ promptId: string; fixtureId: string; productionCopy: string }>;
	/** Changed only in the folder, or resolved there (holding every production edit): `publish` will push them. */
	newerInFolder: Array<{ promptId: string; fixtureId: string; resolved: boolean }>;
	runsWritten: Array<{ promptId: string; runId: string }>;
	/** Prompts only the database holds (not pulled: add them to git first). */
	skippedPrompts: string[];
	/** Versions only the database holds: made outside git (never reviewed); git's next commit of that number will be refused by publish. */
	versionsOnlyInDatabase: Array<{ promptId: string; versions: number[] }>;
}

/** `value`'s keys in the order of `like`'s keys, then those of `then`, then the rest as they come. */
function orderedLike(value: Record<string, unknown>, like: string[], then: string[] = []): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const k of [...like, ...then, ...Object.keys(value)]) if (Object.hasOwn(value, k) && !Object.hasOwn(out, k)) out[k] = value[k];
	return out;
}

/** A fixture file's YAML with the key order of the file it replaces (inputs: else the prompt's declared order). */
function fixtureText(fixture: Fixture, existing: Record<string, unknown> | undefined, declared: string[]): string {
	const plain = JSON.parse(JSON.stringify(fixture)) as Record<string, unknown>;
	const oldInputs = existing?.inputs && typeof existing.inputs === 'object' ? Object.keys(existing.inputs) : [];
	plain.inputs = orderedLike(plain.inputs as Record<string, unknown>, oldInputs, declared);
	return toYaml(orderedLike(plain, existing ? Object.keys(existing) : []));
}

async function rawFixture(file: string): Promise<Record<string, unknown> | undefined> {
	const text = await fs.readFile(file, 'utf8').catch(() => undefined);
	if (text === undefined) return undefined;
	const data = parseYaml(text, file).data;
	return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

/** Pull production's fixture changes (and runs) into the folder; see PullReport for what is reported. */
export async function pullRegistry(source: PostgresRegistryStore, target: FileRegistryStore, options: PullOptions = {}): Promise<PullReport> {
	const inDb = await source.listPrompts();
	const inFolder = await target.listPrompts();
	const report: PullReport = { written: [], conflicts: [], newerInFolder: [], runsWritten: [], skippedPrompts: inDb.filter((p) => !inFolder.includes(p)), versionsOnlyInDatabase: [] };
	const wanted = options.promptIds?.length ? options.promptIds : inDb.filter((p) => inFolder.includes(p));
	for (const promptId of wanted) {
		if (!inDb.includes(promptId) || !inFolder.includes(promptId)) {
			throw new ConfigError(`prompt "${promptId}" must be in both registries to pull it (database: ${inDb.join(', ') || 'none'}; folder: ${inFolder.join(', ') || 'none'})`);
		}
		const inGit = new Set(await target.listVersions(promptId));
		const onlyDb = (await source.listVersions(promptId)).filter((v) => !inGit.has(v));
		if (onlyDb.length) report.versionsOnlyInDatabase.push({ promptId, versions: onlyDb });
		const declared = Object.keys((await target.readDraft(promptId)).inputs);
		const dir = path.join(target.promptDir(promptId), 'fixtures');
		for (const state of (await fixtureSyncStates(source, promptId)).values()) {
			const id = state.fixture.id;
			const file = path.join(dir, `${id}.yaml`);
			const copy = `${file}.production`;
			const local = await target.readFixture(promptId, id);
			const localHash = local && fixtureHash(local);
			const dbChanged = state.syncedHash !== state.hash;
			const folderChanged = local !== undefined && state.syncedHash !== localHash;
			if (localHash === state.hash) {
				if (state.syncedHash !== state.hash) await markSynced(source, promptId, state);
				await fs.rm(copy, { force: true });
			} else if (dbChanged && folderChanged && !resolvesConflict(state, local!)) {
				await writeFileAtomic(copy, `# Production's copy of ${id}.yaml (from ${source.location}): merge what you keep into ${id}.yaml. Not loaded as a fixture.\n${fixtureText(state.fixture, await rawFixture(file), declared)}`);
				report.conflicts.push({ promptId, fixtureId: id, productionCopy: copy });
			} else if (dbChanged && !folderChanged) {
				await target.writeFixture(promptId, state.fixture, fixtureText(state.fixture, await rawFixture(file), declared));
				await markSynced(source, promptId, state);
				await fs.rm(copy, { force: true });
				report.written.push({ promptId, fixtureId: id, created: local === undefined });
			} else {
				await fs.rm(copy, { force: true });
				report.newerInFolder.push({ promptId, fixtureId: id, resolved: dbChanged });
			}
		}
		if (options.runs) {
			const have = new Set(await target.listRuns(promptId));
			for (const runId of await source.listRuns(promptId)) {
				if (have.has(runId)) continue;
				await target.writeRun(await source.readRun(promptId, runId));
				report.runsWritten.push({ promptId, runId });
			}
		}
	}
	return report;
}
