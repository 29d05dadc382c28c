/**
 * `prompt-release pull --from <postgres-url> <folder>`: corrections recorded in production come back as
 * fixture files, to be reviewed in a pull request like any change (and run reports with `runs`).
 * A fixture changed on both sides since the last publish/pull is reported, never overwritten.
 */
import { ConfigError } from '../errors';
import type { FileRegistryStore } from './file-store';
import type { PostgresRegistryStore } from './postgres/store';
import { fixtureHash, fixtureSyncStates, markSynced } from './postgres/sync-state';

export interface PullOptions {
	/** Only these prompts (default: every prompt both registries hold). */
	promptIds?: string[];
	/** Also copy run reports the folder does not have yet. */
	runs?: boolean;
}

export interface PullReport {
	/** Fixture files written, as `<prompt>/<fixture id>`, and whether they are new to the folder. */
	written: Array<{ promptId: string; fixtureId: string; created: boolean }>;
	/** Changed in the folder and in the database since the last sync: left as they are in the folder. */
	conflicts: Array<{ promptId: string; fixtureId: string }>;
	/** Changed only in the folder: `publish` will push them. */
	newerInFolder: Array<{ promptId: string; fixtureId: string }>;
	runsWritten: Array<{ promptId: string; runId: string }>;
	/** Prompts only the database holds (not pulled: add them to git first). */
	skippedPrompts: string[];
}

export async function pullRegistry(source: PostgresRegistryStore, target: FileRegistryStore, options: PullOptions = {}): Promise<PullReport> {
	const inDb = await source.listPrompts();
	const inFolder = await target.listPrompts();
	const report: PullReport = { written: [], conflicts: [], newerInFolder: [], runsWritten: [], skippedPrompts: inDb.filter((p) => !inFolder.includes(p)) };
	const wanted = options.promptIds?.length ? options.promptIds : inDb.filter((p) => inFolder.includes(p));
	for (const promptId of wanted) {
		if (!inDb.includes(promptId) || !inFolder.includes(promptId)) {
			throw new ConfigError(`prompt "${promptId}" must be in both registries to pull it (database: ${inDb.join(', ') || 'none'}; folder: ${inFolder.join(', ') || 'none'})`);
		}
		for (const state of (await fixtureSyncStates(source, promptId)).values()) {
			const id = state.fixture.id;
			const local = await target.readFixture(promptId, id);
			const localHash = local && fixtureHash(local);
			if (localHash === state.hash) {
				if (state.syncedHash !== state.hash) await markSynced(source, promptId, state);
				continue;
			}
			const dbChanged = state.syncedHash !== state.hash;
			const folderChanged = local !== undefined && state.syncedHash !== localHash;
			if (dbChanged && folderChanged) {
				report.conflicts.push({ promptId, fixtureId: id });
			} else if (dbChanged) {
				await target.writeFixture(promptId, state.fixture);
				await markSynced(source, promptId, state);
				report.written.push({ promptId, fixtureId: id, created: local === undefined });
			} else {
				report.newerInFolder.push({ promptId, fixtureId: id });
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
