import type { FreezeRule } from '../policy';
import type { CompareRule, Fixture, FrozenVersion, OutcomeRecord, PromptSpec, ReleasesState, RunReport } from '../types';

/** Prices in USD per million tokens, keyed `provider:model` or just `model`. */
export type PriceTable = Record<string, { input: number; output: number }>;

/** A `policy.yaml` as written: every key optional (defaults and precedence: lib/policy.ts). */
export interface PolicyFile {
	maxRegressions?: number;
	minPassRate?: number;
	maxCostIncreasePct?: number;
	maxP95LatencyIncreasePct?: number;
	repeat?: number;
	compare?: Record<string, CompareRule>;
	freeze?: FreezeRule;
	maxEvidenceAgeHours?: number;
}

/**
 * The seam between the registry logic and where the registry lives.
 * Files in a folder (FileRegistryStore, one n8n host) or PostgreSQL (PostgresRegistryStore, n8n queue mode).
 * Every read validates what it returns; every write is atomic.
 */
export interface RegistryStore {
	/** Where the registry lives, for messages (a folder path or a connection label). */
	readonly location: string;

	listPrompts(): Promise<string[]>;
	readDraft(promptId: string): Promise<PromptSpec>;
	writeDraft(spec: PromptSpec): Promise<void>;

	listVersions(promptId: string): Promise<number[]>;
	/** Throws ConfigError when the content no longer matches its hash. */
	readVersion(promptId: string, version: number): Promise<FrozenVersion>;
	/** Create-only: returns false (writing nothing) when that version already exists. */
	createVersion(promptId: string, frozen: FrozenVersion): Promise<boolean>;

	/** Fixtures, validated against `spec` when given (inputs and expected). */
	listFixtures(promptId: string, spec?: PromptSpec): Promise<Fixture[]>;
	readFixture(promptId: string, fixtureId: string, spec?: PromptSpec): Promise<Fixture | undefined>;
	/** Create or replace the fixture with that id (upsert; safe from many processes at once). */
	writeFixture(promptId: string, fixture: Fixture): Promise<void>;
	/** The fixture whose inputs equal `inputs` (canonical JSON), if any: corrections update it rather than add a contradicting one. */
	findFixtureByInputs(promptId: string, inputs: Record<string, unknown>): Promise<Fixture | undefined>;

	readReleases(promptId: string): Promise<ReleasesState>;
	/** Read-modify-write under a lock, so concurrent releases/rollbacks never lose an entry. */
	updateReleases(promptId: string, mutate: (state: ReleasesState) => ReleasesState | Promise<ReleasesState>): Promise<ReleasesState>;

	writeRun(report: RunReport): Promise<void>;
	readRun(promptId: string, runId: string): Promise<RunReport>;
	/** Run ids, oldest first. */
	listRuns(promptId: string): Promise<string[]>;

	/**
	 * The canary outcome log: append-only, safe with many processes (each writes its own file / rows).
	 * Records are appended in batches by the nodes; read back whole for arm statistics.
	 */
	appendOutcomes(promptId: string, canaryId: string, records: OutcomeRecord[]): Promise<void>;
	readOutcomes(promptId: string, canaryId: string): Promise<OutcomeRecord[]>;

	/**
	 * The gate policy file, validated: registry-wide (`policy.yaml` at the root) without a prompt id,
	 * else that prompt's own `<prompt>/policy.yaml`. Empty when the file does not exist.
	 */
	readPolicy(promptId?: string): Promise<PolicyFile>;
	/** Replace the policy (registry-wide without a prompt id); written by `publish`. */
	writePolicy(policy: PolicyFile, promptId?: string): Promise<void>;

	/** The registry's price table overrides (`pricing.yaml`), empty when none. */
	readPricing(): Promise<PriceTable>;
	/** Replace the price table overrides; written by `publish`. */
	writePricing(prices: PriceTable): Promise<void>;
}
