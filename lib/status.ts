import { contentHash } from './hash';
import type { RegistryStore } from './registry/store';
import type { ChannelPointer, FixtureSource, HistoryEntry } from './types';

export interface PromptStatus {
	id: string;
	description: string;
	model: string;
	versions: number[];
	/** True when prompt.yaml differs from the last frozen version (or there is none). */
	draftChanged: boolean;
	channels: Record<string, ChannelPointer>;
	fixtures: { total: number; bySource: Partial<Record<FixtureSource, number>> };
	lastRun?: { runId: string; version: number | 'draft'; passed: number; total: number; passRate: number; regressions: number };
	lastHistory?: HistoryEntry;
}

export async function promptStatus(store: RegistryStore, promptId: string): Promise<PromptStatus> {
	const spec = await store.readDraft(promptId);
	const versions = await store.listVersions(promptId);
	const last = versions.length ? await store.readVersion(promptId, versions[versions.length - 1]) : undefined;
	const releases = await store.readReleases(promptId);
	const fixtures = await store.listFixtures(promptId);
	const bySource: Partial<Record<FixtureSource, number>> = {};
	for (const f of fixtures) bySource[f.source] = (bySource[f.source] ?? 0) + 1;
	const runs = await store.listRuns(promptId);
	let lastRun: PromptStatus['lastRun'];
	if (runs.length) {
		const run = await store.readRun(promptId, runs[runs.length - 1]);
		lastRun = {
			runId: run.runId,
			version: run.version,
			passed: run.summary.passed,
			total: run.summary.total,
			passRate: run.summary.passRate,
			regressions: run.summary.regressions.length,
		};
	}
	return {
		id: promptId,
		description: spec.description,
		model: `${spec.model.provider}:${spec.model.name}`,
		versions,
		draftChanged: !last || last.contentHash !== contentHash(spec),
		channels: releases.channels,
		fixtures: { total: fixtures.length, bySource },
		...(lastRun ? { lastRun } : {}),
		...(releases.history.length ? { lastHistory: releases.history[releases.history.length - 1] } : {}),
	};
}
