/**
 * `prompt-release validate` for a registry that is not a folder (PostgreSQL): read every item through the
 * store, whose reads validate, and collect every problem instead of stopping at the first.
 */
import { ConfigError, ConfigErrors } from '../errors';
import { FixtureSetCheck } from './fixture-checks';
import { classRuleErrors } from './policy-checks';
import type { PolicyFile, RegistryStore } from './store';
import type { PromptSpec } from '../types';
import type { ValidationReport } from '../validate-registry';

async function collect(errors: ConfigError[], fn: () => Promise<unknown>): Promise<void> {
	try {
		await fn();
	} catch (error) {
		if (error instanceof ConfigErrors) errors.push(...error.errors);
		else if (error instanceof ConfigError) errors.push(error);
		else errors.push(new ConfigError((error as Error).message));
	}
}

/**
 * Check one stored run as `readRun` does (its summary document, then every result, each checked) while
 * holding one result at a time: a run of 100,000 results is never in memory during `validate`.
 */
export async function checkStoredRun(store: Pick<RegistryStore, 'readRunResults'>, promptId: string, runId: string): Promise<void> {
	// readRunResults reads and checks the summary document (or the whole format 1 document) before the first result.
	for await (const result of store.readRunResults(promptId, runId)) void result;
}

/**
 * Every draft, version (hash-checked), fixture (against the draft), release pointer, run, policy (the
 * per-class rules in force against each prompt's output, the registry-wide ones included) and review case
 * of the store.
 */
export async function validateStore(store: RegistryStore): Promise<ValidationReport> {
	const report: ValidationReport = { prompts: 0, versions: 0, fixtures: 0, errors: [] };
	const { errors } = report;
	// The registry-wide policy applies to every prompt that does not set a rule itself; its own problems are reported below.
	const globalPolicy = await store.readPolicy().catch((): PolicyFile => ({}));
	for (const id of await store.listPrompts()) {
		report.prompts++;
		let spec: PromptSpec | undefined;
		await collect(errors, async () => {
			spec = await store.readDraft(id);
		});
		const versions = await store.listVersions(id);
		const intact = new Map<number, string>();
		for (const v of versions) {
			report.versions++;
			await collect(errors, async () => intact.set(v, (await store.readVersion(id, v)).contentHash));
		}
		const ids: string[] = [];
		await collect(errors, async () => ids.push(...(await store.listFixtures(id)).map((f) => f.id)));
		report.fixtures += ids.length;
		const sameInputs = spec ? new FixtureSetCheck(spec) : undefined;
		for (const fixtureId of ids) {
			await collect(errors, async () => {
				const fixture = await store.readFixture(id, fixtureId, spec);
				if (fixture && sameInputs) errors.push(...sameInputs.check(fixture, { file: `${store.location} prompt "${id}" fixture "${fixtureId}"` }));
			});
		}
		const runs = new Set(await store.listRuns(id));
		await collect(errors, async () => {
			for (const [channel, pointer] of Object.entries((await store.readReleases(id)).channels)) {
				const where = `prompt "${id}" channel "${channel}"`;
				const hash = intact.get(pointer.version);
				if (!versions.includes(pointer.version)) errors.push(new ConfigError(`${where} points at version ${pointer.version}, which does not exist: publish it from git`));
				else if (hash && hash !== pointer.contentHash) errors.push(new ConfigError(`${where} records hash ${pointer.contentHash} but version ${pointer.version} is ${hash}`));
				if (pointer.runId !== undefined && !runs.has(pointer.runId)) errors.push(new ConfigError(`${where} was released with run ${pointer.runId}, which is missing from the registry`));
			}
		});
		for (const runId of runs) await collect(errors, () => checkStoredRun(store, id, runId));
		await collect(errors, async () => {
			const policy = await store.readPolicy(id);
			if (spec) errors.push(...classRuleErrors(spec, policy, globalPolicy, { own: `${store.location} prompt "${id}" policy`, global: `${store.location} registry-wide policy` }));
		});
		await collect(errors, () => store.listReviews(id));
	}
	await collect(errors, () => store.readPolicy());
	await collect(errors, () => store.readPricing());
	return report;
}
