/**
 * `prompt-release publish <folder> --to <postgres-url>`: git holds what is reviewed; PostgreSQL holds what
 * changes at run time. Publish pushes drafts, frozen versions, fixtures, run reports (the gate's evidence),
 * policies and prices from the folder;
 * it never touches channels. Idempotent. A version number already published with another content hash
 * refuses the whole publish before anything is written. A fixture changed in production since the last
 * publish/pull is kept unless git's file resolves it (it holds every production edit) or `resolve` names it;
 * a tampered version row is rewritten from git only when `repair` names it (ADR 0012).
 */
import { GateRefusal, InputError } from '../errors';
import type { FileRegistryStore } from './file-store';
import type { PostgresRegistryStore } from './postgres/store';
import { fixtureHash, fixtureSyncStates, publishFixture, resolvesConflict } from './postgres/sync-state';
import { checkRepair, parseRepairs, repairVersion, type VersionRepair } from './repair';
import type { FrozenVersion } from '../types';

/** A publish refused because a version differs from the one already published under its number (exit 1). */
export class PublishConflict extends GateRefusal {}

export interface PromptPublish {
	promptId: string;
	versionsAdded: number[];
	versionsPresent: number[];
	/** Version rows rewritten from git (`--repair`): their stored content no longer matched its hash. */
	versionsRepaired: number[];
	fixturesWritten: string[];
	fixturesUnchanged: number;
	/** Changed in production since the last publish/pull and in git too, not resolved: production's copy kept (exit 1). */
	fixturesKept: string[];
	/** Changed on both sides, and git's file won: named in `resolve`, or it holds every production edit. */
	fixturesResolved: string[];
	/** Run reports copied (the gate's evidence for releases made against the database). */
	runsAdded: string[];
}

export interface PublishReport {
	prompts: PromptPublish[];
}

export interface PublishOptions {
	/** `<prompt>/<fixture>` or `<prompt>` (every fixture of it): git's file wins over production's change. */
	resolve?: string[];
	/** `<prompt>@<version>`: rewrite that published version row from git's file (same content hash). */
	repair?: string[];
}

function parseResolves(values: string[], prompts: string[]): (promptId: string, fixtureId: string) => boolean {
	const wanted = values.map((v) => {
		const m = /^([^/\s]+)(?:\/([^/\s]+?)(?:\.yaml)?)?$/.exec(v.trim());
		if (!m) throw new InputError(`--resolve "${v}" is invalid: write <prompt>/<fixture id> (e.g. price-change/increase) or <prompt>`);
		if (!prompts.includes(m[1])) throw new InputError(`--resolve "${v}": prompt "${m[1]}" is not in the folder (prompts: ${prompts.join(', ') || 'none'})`);
		return { promptId: m[1], fixtureId: m[2] };
	});
	return (promptId, fixtureId) => wanted.some((w) => w.promptId === promptId && (w.fixtureId === undefined || w.fixtureId === fixtureId));
}

/** Publish `promptIds` (default: every prompt of the folder). Throws PublishConflict naming every conflicting version. */
export async function publishRegistry(source: FileRegistryStore, target: PostgresRegistryStore, promptIds: string[] = [], options: PublishOptions = {}): Promise<PublishReport> {
	const all = await source.listPrompts();
	const unknown = promptIds.filter((p) => !all.includes(p));
	if (unknown.length) throw new InputError(`not in registry folder ${source.location}: ${unknown.join(', ')} (prompts: ${all.join(', ') || 'none'})`);
	const ids = promptIds.length ? promptIds : all;
	const resolveWanted = parseResolves(options.resolve ?? [], all);
	for (const r of options.resolve ?? []) {
		const [promptId, fixtureId] = r.trim().replace(/\.yaml$/, '').split('/');
		if (fixtureId && !(await source.readFixture(promptId, fixtureId))) throw new InputError(`--resolve "${r}": the folder has no fixture "${fixtureId}" in "${promptId}"`);
	}
	const repairs = parseRepairs(options.repair ?? [], ids);

	// 1. Read and check everything first: nothing is written when anything conflicts.
	const plans: Array<{ promptId: string; versions: FrozenVersion[]; present: number[]; repairs: VersionRepair[] }> = [];
	const conflicts: string[] = [];
	for (const promptId of ids) {
		await source.readDraft(promptId);
		const mine = repairs.filter((r) => r.promptId === promptId);
		const checked: VersionRepair[] = [];
		for (const r of mine) checked.push(await checkRepair(source, target, r));
		const versions: FrozenVersion[] = [];
		for (const v of await source.listVersions(promptId)) versions.push(await source.readVersion(promptId, v));
		const published = new Set(await target.listVersions(promptId));
		const present: number[] = [];
		for (const frozen of versions.filter((f) => published.has(f.version))) {
			if (mine.some((r) => r.version === frozen.version)) continue;
			const there = await target.readVersion(promptId, frozen.version);
			if (there.contentHash === frozen.contentHash) present.push(frozen.version);
			else conflicts.push(`version ${frozen.version} of "${promptId}": the folder has ${frozen.contentHash}, ${target.location} has ${there.contentHash}`);
		}
		plans.push({ promptId, versions: versions.filter((f) => !present.includes(f.version) && !published.has(f.version)), present, repairs: checked });
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
		const out: PromptPublish = { promptId, versionsAdded: [], versionsPresent: plan.present, versionsRepaired: [], fixturesWritten: [], fixturesUnchanged: 0, fixturesKept: [], fixturesResolved: [], runsAdded: [] };
		for (const r of plan.repairs) {
			await repairVersion(target, r);
			out.versionsRepaired.push(r.version);
		}
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
				// Changed in production since the last sync: git wins only when told so, or when it already holds production's edits.
				const resolved = resolveWanted(promptId, fixture.id) || resolvesConflict(there, fixture);
				if (resolved && (await publishFixture(target, promptId, fixture, there))) out.fixturesResolved.push(fixture.id);
				else out.fixturesKept.push(fixture.id);
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
