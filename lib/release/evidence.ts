/**
 * The evidence a release stands on: the run behind a channel's release (the baseline for regressions) and
 * the latest run of exactly a version's content. Who acts (`currentUser`) is recorded with every change.
 */
import * as os from 'node:os';
import { ConfigError, ConfigErrors } from '../errors';
import { type BaselineView } from '../runner';
import type { RegistryStore } from '../registry/store';
import type { RunHeader, RunReport } from '../types';

export function currentUser(): string {
	if (process.env.PROMPT_RELEASE_USER) return process.env.PROMPT_RELEASE_USER;
	try {
		return os.userInfo().username;
	} catch {
		return 'unknown';
	}
}

/**
 * The run behind the channel's current release, if any (the baseline for regressions).
 * Undefined when the channel has no release or its pointer records no run. When the pointer names a
 * run that cannot be read, throws a ConfigError naming the file: regressions must not go unchecked.
 */
export async function baselineRun(store: RegistryStore, promptId: string, channel = 'production'): Promise<RunReport | undefined> {
	return readPointedRun(store, promptId, channel, (runId) => store.readRun(promptId, runId));
}

/** `baselineRun` without the results (the summary document only), for large runs. */
export async function baselineRunHeader(store: RegistryStore, promptId: string, channel = 'production'): Promise<RunHeader | undefined> {
	return readPointedRun(store, promptId, channel, (runId) => store.readRunHeader(promptId, runId));
}

async function readPointedRun<T>(store: RegistryStore, promptId: string, channel: string, read: (runId: string) => Promise<T>): Promise<T | undefined> {
	const pointer = (await store.readReleases(promptId)).channels[channel];
	if (!pointer?.runId) return undefined;
	try {
		return await read(pointer.runId);
	} catch (error) {
		const problems = error instanceof ConfigErrors ? error.errors : error instanceof ConfigError ? [error] : undefined;
		if (!problems) throw error;
		const file = problems[0].location.file ?? `${promptId}/runs/${pointer.runId}.json`;
		const why = problems.map((p) => (p.message.startsWith(file) ? p.message.slice(file.length).replace(/^(:\d+)?:? */, '') : p.message)).join('; ');
		throw new ConfigError(
			`channel "${channel}" of "${promptId}" was released with run ${pointer.runId}, but that run cannot be read: ${why}. Regressions cannot be checked without it: restore runs/${pointer.runId}.json from git.`,
			{ file },
		);
	}
}

/** The summary document of the newest stored run of exactly this version and content hash. */
export async function latestRunHeaderOf(store: RegistryStore, promptId: string, version: number, contentHash: string): Promise<RunHeader | undefined> {
	const ids = await store.listRuns(promptId);
	for (let i = ids.length - 1; i >= 0; i--) {
		const header = await store.readRunHeader(promptId, ids[i]);
		if (header.version === version && header.contentHash === contentHash) return header;
	}
	return undefined;
}

/** The newest stored run of exactly this version and content hash. */
export async function latestRunOf(store: RegistryStore, promptId: string, version: number, contentHash: string): Promise<RunReport | undefined> {
	const ids = await store.listRuns(promptId);
	for (let i = ids.length - 1; i >= 0; i--) {
		// Summary documents only: the results of a large run are read once the run is found.
		const header = await store.readRunHeader(promptId, ids[i]);
		if (header.version === version && header.contentHash === contentHash) return store.readRun(promptId, ids[i]);
	}
	return undefined;
}

/**
 * The fixtures that passed in a stored run, read one result at a time: what regressions are judged
 * against, without holding the run's results.
 */
export async function baselineView(store: RegistryStore, promptId: string, runId: string): Promise<BaselineView> {
	const passed = new Set<string>();
	for await (const r of store.readRunResults(promptId, runId)) if (r.passed) passed.add(r.fixtureId);
	return { runId, passed };
}
