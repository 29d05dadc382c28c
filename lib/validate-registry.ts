/** `prompt-release validate`: check every file of a registry and collect every problem. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ConfigErrors } from './errors';
import type { FileRegistryStore } from './registry/file-store';
import type { PromptSpec } from './types';

export interface ValidationReport {
	prompts: number;
	versions: number;
	fixtures: number;
	errors: ConfigError[];
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

export async function validateRegistry(store: FileRegistryStore): Promise<ValidationReport> {
	const report: ValidationReport = { prompts: 0, versions: 0, fixtures: 0, errors: [] };
	const { errors } = report;
	await store.listPrompts(); // throws a clear error when the folder is missing
	const entries = await fs.readdir(store.root, { withFileTypes: true });
	for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
		const id = entry.name;
		const dir = path.join(store.root, id);
		if (!(await collect(errors, async () => store.promptDir(id)))) continue;
		try {
			await fs.access(path.join(dir, 'prompt.yaml'));
		} catch {
			errors.push(new ConfigError(`folder "${id}" has no prompt.yaml: every prompt folder needs its draft`, { file: path.relative(process.cwd(), dir) || dir }));
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
		// One fixture at a time, so one bad file does not hide the others.
		for (const name of fixtureFiles.sort()) {
			await collect(errors, () => store.readFixture(id, name.slice(0, -'.yaml'.length), spec));
		}
		await collect(errors, async () => {
			const releases = await store.readReleases(id);
			for (const [channel, pointer] of Object.entries(releases.channels)) {
				const hash = intact.get(pointer.version);
				if (!versions.includes(pointer.version)) {
					throw new ConfigError(`channel "${channel}" points at version ${pointer.version}, which does not exist`, { file: path.join(id, 'releases.yaml'), field: `channels.${channel}.version` });
				}
				if (hash && hash !== pointer.contentHash) {
					throw new ConfigError(`channel "${channel}" records hash ${pointer.contentHash} but version ${pointer.version} is ${hash}`, { file: path.join(id, 'releases.yaml'), field: `channels.${channel}.contentHash` });
				}
			}
		});
		for (const runId of await store.listRuns(id)) await collect(errors, () => store.readRun(id, runId));
	}
	await collect(errors, () => store.readPricing());
	return report;
}
