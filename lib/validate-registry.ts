/** `prompt-release validate`: check every file of a registry (review logs included) and collect every problem. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ConfigErrors } from './errors';
import type { FileRegistryStore } from './registry/file-store';
import { checkReviewLogs } from './registry/review-files';
import { checkStoredRun } from './registry/validate-store';
import { readYamlFile } from './yaml-io';
import type { PromptSpec } from './types';
import { FixtureSetCheck } from './registry/fixture-checks';
import { classRuleErrors } from './registry/policy-checks';
import type { PolicyFile } from './registry/store';

export interface ValidationReport {
	prompts: number;
	versions: number;
	fixtures: number;
	errors: ConfigError[];
	/** With `fix`: fixture index entries written and removed. */
	fixed?: { written: number; removed: number };
	/** With `fix`: abandoned partial results files removed (of runs that never finished), and their bytes. */
	removedPartialRuns?: { files: number; bytes: number };
}

async function collect(errors: ConfigError[], fn: () => Promise<unknown>): Promise<boolean> {
	try {
		await fn();
		return true;
	} catch (error) {
		if (error instanceof ConfigErrors) errors.push(...error.errors);
		else if (error instanceof ConfigError) errors.push(error);
		else errors.push(new ConfigError((error as Error).message));
		return false;
	}
}

/** A path as messages show it: relative to the current directory when below it (as the store does). */
function shown(p: string): string {
	const rel = path.relative(process.cwd(), p);
	return rel && !rel.startsWith('..') ? rel : p;
}

/** `compare:` keys must name output fields ("value" for scalar outputs). */
function compareKeysFit(spec: PromptSpec, keys: string[], file: string): void {
	const fields = spec.output.type === 'object' ? Object.keys(spec.output.properties) : ['value'];
	const wrong = keys.filter((k) => !fields.includes(k));
	if (wrong.length) {
		throw new ConfigError(`compare names ${wrong.map((k) => `"${k}"`).join(', ')}, not an output field of "${spec.id}" (fields: ${fields.join(', ')})`, { file, field: `compare.${wrong[0]}` });
	}
}

/**
 * Check every file of a folder registry. With `fix`, first rebuild each prompt's fixture index by inputs
 * (lib/registry/inputs-index.ts), so fixtures added by hand or by a git merge are found by corrections;
 * `report.fixed` says how many index entries were written and removed. Partial results files of runs that
 * never finished (`listPartialRuns`: their writer is gone) are reported, and with `fix` removed
 * (`report.removedPartialRuns`).
 */
export async function validateRegistry(store: FileRegistryStore, options: { fix?: boolean } = {}): Promise<ValidationReport> {
	const report: ValidationReport = { prompts: 0, versions: 0, fixtures: 0, errors: [] };
	const { errors } = report;
	await store.listPrompts(); // throws a clear error when the folder is missing
	// The registry-wide policy applies to every prompt that does not set a rule itself: read it once (its own problems are reported below).
	const globalPolicy = await store.readPolicy().catch((): PolicyFile => ({}));
	const entries = await fs.readdir(store.root, { withFileTypes: true });
	for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
		const id = entry.name;
		const dir = path.join(store.root, id);
		try {
			store.promptDir(id);
		} catch (error) {
			if (!(error instanceof ConfigError)) throw error;
			errors.push(new ConfigError(`${error.message}. The folder name is the prompt id: rename the folder.`, { file: shown(dir) }));
			continue;
		}
		try {
			await fs.access(path.join(dir, 'prompt.yaml'));
		} catch {
			errors.push(new ConfigError(`folder "${id}" has no prompt.yaml: every prompt folder needs its draft`, { file: shown(dir) }));
			continue;
		}
		report.prompts++;
		let spec: PromptSpec | undefined;
		await collect(errors, async () => {
			spec = await store.readDraft(id);
		});
		const versions = await store.listVersions(id);
		const intact = new Map<number, string>();
		for (const v of versions) {
			report.versions++;
			await collect(errors, async () => {
				const frozen = await store.readVersion(id, v);
				intact.set(v, frozen.contentHash);
			});
		}
		const fixturesDir = path.join(dir, 'fixtures');
		const fixtureFiles = (await fs.readdir(fixturesDir).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml'));
		report.fixtures += fixtureFiles.length;
		// One fixture at a time, so one bad file does not hide the others. The same pass checks the fixture index
		// (one entry per distinct inputs, naming the first fixture by id): per fixture, only its inputs' key is kept.
		const before = errors.length;
		const sameInputs = spec ? new FixtureSetCheck(spec) : undefined;
		const index = store.inputsIndex(id);
		// A registry whose index was never built gets one on first use; only a built index can be out of date.
		const checkIndex = fixtureFiles.length > 0 && (await index.complete());
		const indexProblems: string[] = [];
		let indexProblemCount = 0;
		for (const name of fixtureFiles.sort()) {
			await collect(errors, async () => {
				const fixture = await store.readFixture(id, name.slice(0, -'.yaml'.length), spec);
				if (!fixture || !sameInputs) return;
				const checked = sameInputs.checkWithKey(fixture, { file: shown(path.join(fixturesDir, name)) });
				errors.push(...checked.errors);
				if (!checkIndex || !checked.first || options.fix) return;
				const problem = await index.problemOf(fixture.id, checked.key);
				if (problem && indexProblemCount++ < 5) indexProblems.push(`${problem.fixtureId} (${problem.message})`);
			});
		}
		if (errors.length === before && fixtureFiles.length > 0) {
			if (options.fix) {
				// Rebuilt over the fixtures just checked: every entry is then right (nothing left to report).
				const done = await index.rebuild(store.streamFixtures(id));
				report.fixed = { written: (report.fixed?.written ?? 0) + done.written, removed: (report.fixed?.removed ?? 0) + done.removed };
			} else if (indexProblemCount) {
				errors.push(
					new ConfigError(
						`${indexProblemCount} fixture(s) of "${id}" cannot be found by their inputs: ${indexProblems.join(', ')}${indexProblemCount > 5 ? `, and ${indexProblemCount - 5} more` : ''}. Corrections of those inputs would add a second fixture: run "prompt-release validate --fix" to rebuild the fixture index`,
						{ file: shown(index.dir) },
					),
				);
			}
		}
		await collect(errors, async () => {
			const releases = await store.readReleases(id);
			const channels = Object.entries(releases.channels);
			if (channels.length === 0) return;
			// readReleases checked the file; read it again for the lines of its fields.
			const loaded = await readYamlFile(shown(path.join(dir, 'releases.yaml')));
			const at = (channel: string, field: string) => ({ file: loaded.file, field: `channels.${channel}.${field}`, line: loaded.lineOf(['channels', channel, field]) });
			const runs = new Set(await store.listRuns(id));
			for (const [channel, pointer] of channels) {
				const hash = intact.get(pointer.version);
				if (!versions.includes(pointer.version)) {
					errors.push(new ConfigError(`channel "${channel}" points at version ${pointer.version}, which does not exist`, at(channel, 'version')));
				} else if (hash && hash !== pointer.contentHash) {
					errors.push(new ConfigError(`channel "${channel}" records hash ${pointer.contentHash} but version ${pointer.version} is ${hash}`, at(channel, 'contentHash')));
				}
				if (pointer.runId !== undefined && !runs.has(pointer.runId)) {
					errors.push(
						new ConfigError(
							`channel "${channel}" was released with run ${pointer.runId}, but ${shown(path.join(dir, 'runs', `${pointer.runId}.json`))} is missing: restore runs/${pointer.runId}.json from git (regressions are checked against it)`,
							at(channel, 'runId'),
						),
					);
				}
			}
		});
		for (const runId of await store.listRuns(id)) await collect(errors, () => checkStoredRun(store, id, runId));
		// Results of runs that never finished (the process was killed): named, and removed with --fix.
		for (const partial of await store.partialRuns(id)) {
			if (!partial.abandoned) continue; // possibly a run in progress
			if (options.fix) {
				await fs.rm(partial.file, { force: true });
				const removed = (report.removedPartialRuns ??= { files: 0, bytes: 0 });
				removed.files++;
				removed.bytes += partial.bytes;
				continue;
			}
			errors.push(
				new ConfigError(
					`abandoned partial run ${partial.runId}: the results of a run that never finished (${Math.ceil(partial.bytes / 1024)} KB, last written ${partial.modified.toISOString()}; ${partial.abandoned}). No run reads it: run "prompt-release validate --fix" to remove it`,
					{ file: shown(partial.file) },
				),
			);
		}
		// Review logs: every unreadable line, each named by file and line (a torn last line is not a problem).
		errors.push(...(await checkReviewLogs(store.reviewsDir(id), (d) => fs.readdir(d).catch(() => [] as string[]), shown)));
		await collect(errors, async () => {
			const policy = await store.readPolicy(id);
			if (spec && policy.compare) compareKeysFit(spec, Object.keys(policy.compare), shown(path.join(dir, 'policy.yaml')));
			// Per-class minimums in force for the prompt (its own, else the registry-wide ones) must name classes
			// (and properties) the draft's output declares.
			if (spec) errors.push(...classRuleErrors(spec, policy, globalPolicy, { own: shown(path.join(dir, 'policy.yaml')), global: shown(path.join(store.root, 'policy.yaml')) }));
		});
	}
	await collect(errors, () => store.readPolicy());
	await collect(errors, () => store.readPricing());
	return report;
}
