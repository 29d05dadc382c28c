/**
 * `prompt-release publish <folder> --to <postgres-url>`: git holds what is reviewed; PostgreSQL holds what
 * changes at run time. Publish pushes drafts, frozen versions, fixtures, run reports (the gate's evidence),
 * policies and prices from the folder;
 * it never touches channels. Idempotent. A version number already published with another content hash
 * refuses the whole publish before anything is written.
 */
import { GateRefusal, InputError } from '../errors';
import type { FileRegistryStore } from './file-store';
import type { PostgresRegistryStore } from './postgres/store';
import { fixtureHash, fixtureSyncStates, publishFixture } from './postgres/sync-state';
import type { FrozenVersion } from '../types';

/** A publish refused because a version differs from the one already published under its number (exit 1). */
export class PublishConflict extends GateRefusal {}

export interface PromptPublish {
	promptId: string;
	versionsAdded: number[];
	versionsPresent: number[];
	fixturesWritten: string[];
	fixturesUnchanged: number;
	/** Changed in production since the last publish/pull and in git too: kept; pull and review first. */
	fixturesKept: string[];
	/** Run reports copied (the gate's evidence for releases made against the database). */
	runsAdded: string[];
}

export interface PublishReport {
	prompts: PromptPublish[];
}

/** Publish `promptIds` (default: every prompt of the folder). Throws PublishConflict naming every conflicting version. */
export async function publishRegistry(source: FileRegistryStore, target: PostgresRegistryStore, promptIds: string[] = []): Promise<PublishReport> {
	const all = await source.listPrompts();
	const unknown = promptIds.filter((p) => !all.includes(p));
	if (unknown.length) throw new InputError(`not in registry folder ${source.location}: ${unknown.join(', ')} (prompts: ${all.join(', ') || 'none'})`);
	const ids = promptIds.length ? promptIds : all;

	// 1. Read and check everything first: nothing is written when anything conflicts.
	const plans: Array<{ promptId: string; versions: FrozenVersion[]; present: number[] }> = [];
	const conflicts: string[] = [];
	for (const promptId of ids) {
		await source.readDraft(promptId);
		const versions: FrozenVersion[] = [];
		for (const v of await source.listVersions(promptId)) versions.push(await source.readVersion(promptId, v));
		const published = new Set(await target.listVersions(promptId));
		const present: number[] = [];
		for (const frozen of versions.filter((f) => published.has(f.version))) {
			const there = await target.readVersion(promptId, frozen.version);
			if (there.contentHash === frozen.contentHash) present.push(frozen.version);
			else conflicts.push(`version ${frozen.version} of "${promptId}": the folder has ${frozen.contentHash}, ${target.location} has ${there.contentHash}`);
		}
		plans.push({ promptId, versions: versions.filter((f) => !present.includes(f.version)), present });
	}
	if (conflicts.length) {
		throw new PublishConflict(
			`publish refused, nothing was written: published versions are immutable and ${conflicts.length === 1 ? 'this one differs' : 'these differ'}:\n  - ${conflicts.join('\n  - ')}\nRestore the folder's versions from git, or commit the change as a new version.`,
		);
	}

	// 2. Write: registry-wide policy and prices, then per prompt draft, versions, policy, fixtures.
	await target.writePolicy(await source.readPolicy());
	await target.writePricing(await source.readPricing());
	const report: PublishReport = { prompts: [] };
	for (const plan of plans) {
		const { promptId } = plan;
		await target.writeDraft(await source.readDraft(promptId));
		const out: PromptPublish = { promptId, versionsAdded: [], versionsPresent: plan.present, fixturesWritten: [], fixturesUnchanged: 0, fixturesKept: [], runsAdded: [] };
		for (const frozen of plan.versions) {
			if (await target.createVersion(promptId, frozen)) out.versionsAdded.push(frozen.version);
			else out.versionsPresent.push(frozen.version); // published meanwhile by a concurrent publish: checked on the next run
		}
		await target.writePolicy(await source.readPolicy(promptId), promptId);
		const states = await fixtureSyncStates(target, promptId);
		for (const fixture of await source.listFixtures(promptId)) {
			const there = states.get(fixture.id);
			const hash = fixtureHash(fixture);
			if (there && there.hash === hash) {
				out.fixturesUnchanged++;
				if (there.syncedHash !== hash) await publishFixture(target, promptId, fixture, there);
			} else if (there && there.syncedHash !== there.hash) {
				out.fixturesKept.push(fixture.id);
			} else if (await publishFixture(target, promptId, fixture, there)) {
				out.fixturesWritten.push(fixture.id);
			} else {
				out.fixturesKept.push(fixture.id);
			}
		}
		const runs = new Set(await target.listRuns(promptId));
		for (const runId of await source.listRuns(promptId)) {
			if (runs.has(runId)) continue;
			await target.writeRun(await source.readRun(promptId, runId));
			out.runsAdded.push(runId);
		}
		report.prompts.push(out);
	}
	return report;
}
