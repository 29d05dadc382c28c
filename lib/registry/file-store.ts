import { promises as fs, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { ConfigError, ConfigErrors } from '../errors';
import { isUnavailableFsError, unavailable } from './unavailable';
import { canonicalJson } from '../hash';
import { createFileExclusive, createSmallFileExclusive, readSmallFile, parseYaml, toYaml, writeFileAtomic, writeSmallFileAtomic, type LoadedFile } from '../yaml-io';
import { derivedFixtureId, InputsIndex, inputsKey, needsEntry } from './inputs-index';
import { ParsedFiles } from './parsed-files';
import { assertPromptId, checkFixture, checkPolicyFile, checkPromptSpec, checkPricing, checkReleases, checkVersionFile } from './formats';
import { appendOutcomeLines, readOutcomeLines } from './outcome-files';
import { appendReviewEvents, readReviewCases } from './review-files';
import { assertReviewClosing, assertReviewRequests } from '../review/check';
import { reviewCaseId, type ReviewCase, type ReviewClosing, type ReviewRequest, type ReviewStatus } from '../review/types';
import { FileRunWriter, listPartialRuns, readRunDocument, readRunResultLines, RUN_ID, type PartialRun } from './run-files';
import type { ParsedYamlCache } from '../cache/parsed-yaml';
import { mergeCorrection, type PolicyFile, type PriceTable, type RegistryStore, type RunWriter, type VersionGuard } from './store';
import type { Fixture, FixtureResult, FrozenVersion, OutcomeRecord, PromptSpec, ReleasesState, RunHeader, RunReport } from '../types';

/** Whether a path exists; a path that cannot be checked (permission denied, I/O error) is RegistryUnavailableError. */
async function exists(p: string): Promise<boolean> {
	try {
		await fs.access(p);
		return true;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT' || code === 'ENOTDIR') return false;
		if (isUnavailableFsError(error)) throw unavailable(`registry cannot be read: ${code} on ${p}: check the folder's permissions and that it is mounted`);
		throw error;
	}
}

/**
 * `exists` without a thread-pool round trip, for checks on Record Correction's path (a stat of a
 * path that is usually missing costs far less than the round trip; see readSmallFile in ../yaml-io.ts).
 */
function existsNow(p: string): boolean {
	try {
		return statSync(p, { throwIfNoEntry: false }) !== undefined;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOTDIR') return false;
		if (isUnavailableFsError(error)) throw unavailable(`registry cannot be read: ${code} on ${p}: check the folder's permissions and that it is mounted`);
		throw error;
	}
}

async function listDir(dir: string): Promise<string[]> {
	try {
		return await fs.readdir(dir);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		if (isUnavailableFsError(error)) throw unavailable(`registry cannot be read: ${(error as NodeJS.ErrnoException).code} on ${dir}: check the folder's permissions and that it is mounted`);
		throw error;
	}
}

/** How many fixture files `streamFixtures` reads, parses and checks in one go. */
const FIXTURE_CHUNK = 64;

/** A registry file's text read at once, or undefined when that fails or finds it empty (the caller's `readText` then says why). */
function readNow(file: string): string | undefined {
	try {
		const text = readFileSync(file, 'utf8');
		return text.length ? text : undefined;
	} catch {
		return undefined;
	}
}

/** Drop undefined values so YAML output stays clean. */
function clean<T>(value: T): T {
	return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The log file this process appends to, per log folder (canary outcomes, review events), shared by every
 * FileRegistryStore of the process: n8n builds a store per execution, and one file per store would leave
 * one file per execution behind.
 */
const PROCESS_LOG_FILES = new Map<string, string>();

/** The registry as files in a folder (the format documented in README.md). */
export class FileRegistryStore implements RegistryStore {
	readonly root: string;
	/** Drafts and versions as last parsed and checked, reused while their file's text is unchanged. */
	private readonly parsed = new ParsedFiles();
	/**
	 * Parses of fixture files kept across processes, reused while a file's text is unchanged (lib/cache/parsed-yaml.ts);
	 * every fixture is still checked on every read. Off unless set (the CLI sets it when its cache is on).
	 */
	parsedYaml?: ParsedYamlCache;

	constructor(root: string) {
		this.root = path.resolve(root);
	}

	get location(): string {
		return this.root;
	}

	/** Paths relative to the current directory read better in messages. */
	private shown(p: string): string {
		const rel = path.relative(process.cwd(), p);
		return rel && !rel.startsWith('..') ? rel : p;
	}

	promptDir(promptId: string): string {
		assertPromptId(promptId);
		return path.join(this.root, promptId);
	}

	private async load(file: string): Promise<LoadedFile> {
		return parseYaml(await this.readText(file), this.shown(file));
	}

	/** The file's text, or undefined when it does not exist (one read instead of a check and a read). */
	private async readIfExists(file: string): Promise<string | undefined> {
		return this.readText(file, true);
	}

	private async readText(file: string): Promise<string>;
	private async readText(file: string, missingOk: true): Promise<string | undefined>;
	private async readText(file: string, missingOk = false): Promise<string | undefined> {
		let text: string;
		try {
			text = await readSmallFile(file, 'utf8');
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code ?? String(error);
			if (missingOk && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
			if (isUnavailableFsError(error)) throw unavailable(`cannot read file: ${code}: check the registry folder's permissions and that it is mounted`, { file: this.shown(file) });
			await this.assertRootReadable();
			throw new ConfigError(`cannot read file: ${code}`, { file: this.shown(file) });
		}
		// Every write of this package is atomic; an empty file is one that another writer truncated and is writing now.
		if (text.length === 0) throw unavailable('file is empty: it is probably being written right now (registry files are never empty); try again', { file: this.shown(file) });
		return text;
	}

	/** The registry folder itself is gone (unmounted, deleted): RegistryUnavailableError, not "nothing released". */
	private async assertRootReadable(): Promise<void> {
		if (!(await exists(this.root))) throw unavailable(`registry folder ${this.shown(this.root)} is gone: check that it is mounted and not moved`);
	}

	async listPrompts(): Promise<string[]> {
		if (!(await exists(this.root))) {
			throw unavailable(`registry folder not found. Create one with "prompt-release init ${this.shown(this.root)}", or point the registry location at an existing one (CLI: --registry or PROMPT_RELEASE_REGISTRY; n8n: the Prompt Registry credential's folder).`, { file: this.shown(this.root) });
		}
		const out: string[] = [];
		for (const name of (await listDir(this.root)).sort()) {
			if (await exists(path.join(this.root, name, 'prompt.yaml'))) out.push(name);
		}
		return out;
	}

	private async assertPromptExists(promptId: string): Promise<string> {
		const file = path.join(this.promptDir(promptId), 'prompt.yaml');
		if (!(await exists(file))) {
			await this.assertRootReadable();
			const known = await this.listPrompts().catch(() => [] as string[]);
			throw new ConfigError(`prompt "${promptId}" not found in registry ${this.shown(this.root)}${known.length ? ` (prompts: ${known.join(', ')})` : ''}`, { file: this.shown(file) });
		}
		return file;
	}

	async readDraft(promptId: string): Promise<PromptSpec> {
		const file = path.join(this.promptDir(promptId), 'prompt.yaml');
		const text = await this.readIfExists(file);
		if (text === undefined) await this.assertPromptExists(promptId); // throws "not found", naming the prompts there are
		return this.parsed.get(file, text ?? (await this.readText(file)), (t) => checkPromptSpec(parseYaml(t, this.shown(file)), promptId));
	}

	async writeDraft(spec: PromptSpec): Promise<void> {
		await writeFileAtomic(path.join(this.promptDir(spec.id), 'prompt.yaml'), toYaml(clean(spec)));
	}

	async listVersions(promptId: string): Promise<number[]> {
		return (await listDir(path.join(this.promptDir(promptId), 'versions')))
			.map((f) => /^([1-9][0-9]*)\.yaml$/.exec(f))
			.filter((m): m is RegExpExecArray => m !== null)
			.map((m) => Number(m[1]))
			.sort((a, b) => a - b);
	}

	async readVersion(promptId: string, version: number): Promise<FrozenVersion> {
		const file = path.join(this.promptDir(promptId), 'versions', `${version}.yaml`);
		const text = await this.readIfExists(file);
		if (text === undefined) {
			const versions = await this.listVersions(promptId);
			throw new ConfigError(`prompt "${promptId}" has no version ${version} (versions: ${versions.join(', ') || 'none yet — run "prompt-release commit ' + promptId + '"'})`, { file: this.shown(file) });
		}
		// Read every time; parsed and hash-checked again whenever the text differs from the last one checked.
		return this.parsed.get(file, text, (t) => checkVersionFile(parseYaml(t, this.shown(file)), promptId, version));
	}

	async createVersion(promptId: string, frozen: FrozenVersion): Promise<boolean> {
		const file = path.join(this.promptDir(promptId), 'versions', `${frozen.version}.yaml`);
		const text = `# Frozen version ${frozen.version} of "${promptId}". Do not edit: the content hash below guards it.\n${toYaml(clean(frozen))}`;
		// Check what we are about to write parses back to the same content.
		checkVersionFile(parseYaml(text, this.shown(file)), promptId, frozen.version);
		return createFileExclusive(file, text);
	}

	private fixturesDir(promptId: string): string {
		return path.join(this.promptDir(promptId), 'fixtures');
	}

	async listFixtures(promptId: string, spec?: PromptSpec): Promise<Fixture[]> {
		const out: Fixture[] = [];
		for await (const fixture of this.streamFixtures(promptId, spec)) out.push(fixture);
		return out;
	}

	/**
	 * Fixtures one at a time, in id order, each validated like `listFixtures` does: only the file names (and
	 * the few fixtures of the chunk being handed out) are held, so 100,000 fixtures never sit in memory at once.
	 * Files are read, parsed and checked FIXTURE_CHUNK at a time: during a run, doing that in one go between
	 * model calls costs a third of doing it one fixture at a time among them (bench: `test` at zero latency).
	 */
	async *streamFixtures(promptId: string, spec?: PromptSpec, onProblem?: (error: ConfigError) => void): AsyncGenerator<Fixture> {
		const dir = this.fixturesDir(promptId);
		const names = (await listDir(dir)).filter((f) => f.endsWith('.yaml')).sort();
		const parses = this.parsedYaml?.folder(dir);
		for (let at = 0; at < names.length; at += FIXTURE_CHUNK) {
			const chunk: Fixture[] = [];
			let failure: unknown;
			for (const name of names.slice(at, at + FIXTURE_CHUNK)) {
				try {
					const file = path.join(dir, name);
					const text = readNow(file) ?? (await this.readText(file));
					const loaded = parses ? parses.parse(name, text, this.shown(file)) : parseYaml(text, this.shown(file));
					chunk.push(checkFixture(loaded, name.slice(0, -'.yaml'.length), spec));
				} catch (error) {
					if (onProblem && error instanceof ConfigErrors) error.errors.forEach(onProblem);
					else if (onProblem && error instanceof ConfigError) onProblem(error);
					else {
						failure = error; // thrown once the fixtures before it are handed out, as one at a time would
						break;
					}
				}
			}
			yield* chunk;
			if (failure !== undefined) throw failure;
		}
		await parses?.save();
	}

	/** The prompt's index of fixtures by inputs (lib/registry/inputs-index.ts). */
	inputsIndex(promptId: string): InputsIndex {
		return new InputsIndex(this.fixturesDir(promptId));
	}

	async readFixture(promptId: string, fixtureId: string, spec?: PromptSpec): Promise<Fixture | undefined> {
		assertPromptId(fixtureId, 'fixture id');
		const file = path.join(this.fixturesDir(promptId), `${fixtureId}.yaml`);
		const text = await this.readIfExists(file);
		return text === undefined ? undefined : checkFixture(parseYaml(text, this.shown(file)), fixtureId, spec);
	}

	/**
	 * Upsert the fixture file, then its inputs-index entry (dropping the entry of its old inputs when they changed).
	 * A new id is created with an exclusive create (one of many concurrent writers wins it and returns true);
	 * the others replace it atomically and return false. `text` is the YAML to write (default: the fixture's).
	 */
	async writeFixture(promptId: string, fixture: Fixture, text = toYaml(clean(fixture))): Promise<boolean> {
		assertPromptId(fixture.id, 'fixture id');
		return this.putFixture(promptId, fixture, text);
	}

	/**
	 * `writeFixture`; `before`, when given, is the fixture just read under that id: it is replaced without an
	 * attempt to create it (and never counts as created).
	 */
	private async putFixture(promptId: string, fixture: Fixture, text = toYaml(clean(fixture)), before?: Fixture, key = inputsKey(fixture.inputs)): Promise<boolean> {
		if (before === undefined && (await this.createFixture(promptId, fixture, text, key))) return true;
		const index = this.inputsIndex(promptId);
		await index.ensure(() => this.streamFixtures(promptId));
		before ??= await this.readFixture(promptId, fixture.id).catch(() => undefined);
		await writeSmallFileAtomic(path.join(this.fixturesDir(promptId), `${fixture.id}.yaml`), text);
		const sameInputs = before !== undefined && canonicalJson(before.inputs) === canonicalJson(fixture.inputs);
		if (before && !sameInputs) await index.remove(before.inputs, fixture.id);
		// Replacing a file by rename costs the file system far more than reading it (ext4 flushes the new data
		// first): an entry that already names this fixture is left as it is; one named after its inputs needs none.
		if (needsEntry(key, fixture.id) && (!sameInputs || (await index.lookupKey(key)) !== fixture.id)) await index.setKey(key, fixture.id);
		return false;
	}

	/**
	 * Create the fixture file only when none has its id (exclusive: one concurrent writer wins), then its index
	 * entry when it needs one (`key`: its inputs' key).
	 */
	private async createFixture(promptId: string, fixture: Fixture, text = toYaml(clean(fixture)), key = inputsKey(fixture.inputs)): Promise<boolean> {
		const index = this.inputsIndex(promptId);
		await index.ensure(() => this.streamFixtures(promptId));
		if (!(await createSmallFileExclusive(path.join(this.fixturesDir(promptId), `${fixture.id}.yaml`), text))) return false;
		if (needsEntry(key, fixture.id)) await index.setKey(key, fixture.id);
		return true;
	}

	/**
	 * The version is read (and hash-checked) from its file; the covering fixture costs one or two small reads
	 * (its derived id, then the inputs index); then the fixture is written, with an index entry only when
	 * its id is not the derived one. A fixture that does not exist yet is created exclusively: of concurrent
	 * corrections of the same new inputs, exactly one reports `created`, the others update the fixture it created.
	 */
	async recordFixtureForInputs(promptId: string, fixture: Fixture, guard?: VersionGuard): Promise<{ fixture: Fixture; created: boolean } | undefined> {
		assertPromptId(fixture.id, 'fixture id');
		if (guard && (await this.readVersion(promptId, guard.version)).contentHash !== guard.contentHash) return undefined;
		const key = inputsKey(fixture.inputs);
		const own = await this.readFixture(promptId, fixture.id).catch(() => undefined);
		let existing = own ?? (await this.findByInputs(promptId, fixture.inputs, key, fixture.id === derivedFixtureId(key)));
		let merged = mergeCorrection(existing, fixture);
		if (!existing) {
			if (await this.createFixture(promptId, merged, undefined, key)) {
				await this.resolveReviewOf(promptId, merged);
				return { fixture: merged, created: true };
			}
			// Another writer created it in the meantime: what it wrote (tags, segment, note) is kept as for any update.
			existing = await this.readFixture(promptId, fixture.id).catch(() => undefined);
			merged = mergeCorrection(existing, fixture);
		}
		await this.putFixture(promptId, merged, undefined, existing, key);
		await this.resolveReviewOf(promptId, merged);
		return { fixture: merged, created: false };
	}

	/** After a correction's write: resolve the pending case of its inputs (a closing for no pending case is ignored by the fold). */
	private async resolveReviewOf(promptId: string, fixture: Fixture): Promise<void> {
		const dir = this.reviewsDir(promptId);
		if (!existsNow(dir)) return;
		await appendReviewEvents(dir, this.reviewFiles, [{ t: 'closed', id: reviewCaseId(fixture.inputs), closing: { status: 'resolved', at: new Date().toISOString(), fixtureId: fixture.id } }]);
	}

	/** This process's own review log file per folder (./review-files.ts), shared by every store object of the process. */
	private readonly reviewFiles = PROCESS_LOG_FILES;

	async queueReviews(promptId: string, requests: ReviewRequest[]): Promise<void> {
		if (requests.length === 0) return;
		assertReviewRequests(promptId, requests);
		await this.assertPromptExists(promptId);
		await appendReviewEvents(this.reviewsDir(promptId), this.reviewFiles, requests.map((request) => ({ t: 'queued' as const, request: clean(request) })));
	}

	async listReviews(promptId: string, status?: ReviewStatus): Promise<ReviewCase[]> {
		const cases = await readReviewCases(this.reviewsDir(promptId), promptId, listDir, (file) => this.shown(file));
		return status ? cases.filter((c) => c.status === status) : cases;
	}

	/** The log has no index: counting folds it like a listing. */
	async countReviews(promptId: string): Promise<Record<ReviewStatus, number>> {
		const counts: Record<ReviewStatus, number> = { pending: 0, resolved: 0, dismissed: 0 };
		for (const c of await this.listReviews(promptId)) counts[c.status]++;
		return counts;
	}

	async closeReview(promptId: string, caseId: string, closing: ReviewClosing): Promise<ReviewCase | undefined> {
		assertReviewClosing(promptId, caseId, closing);
		const existing = (await this.listReviews(promptId)).find((c) => c.id === caseId);
		if (!existing || existing.status !== 'pending') return existing;
		await appendReviewEvents(this.reviewsDir(promptId), this.reviewFiles, [{ t: 'closed', id: caseId, closing: clean(closing) }]);
		return (await this.listReviews(promptId)).find((c) => c.id === caseId);
	}

	/** The review log folder (`<prompt>/reviews/`), for `validate`. */
	reviewsDir(promptId: string): string {
		return path.join(this.promptDir(promptId), 'reviews');
	}

	private releasesFile(promptId: string): string {
		return path.join(this.promptDir(promptId), 'releases.yaml');
	}

	async readReleases(promptId: string): Promise<ReleasesState> {
		const file = this.releasesFile(promptId);
		if (!(await exists(file))) {
			await this.assertRootReadable();
			return { channels: {}, history: [] };
		}
		return checkReleases(await this.load(file));
	}

	async updateReleases(promptId: string, mutate: (state: ReleasesState) => ReleasesState | Promise<ReleasesState>): Promise<ReleasesState> {
		const file = this.releasesFile(promptId);
		// A mistyped prompt id must not leave a stray folder (and lock) behind.
		await this.assertPromptExists(promptId);
		let release: () => Promise<void>;
		try {
			release = await lockfile.lock(file, {
				realpath: false,
				stale: 15_000,
				retries: { retries: 100, minTimeout: 10, maxTimeout: 200, factor: 1.5 },
			});
		} catch (error) {
			throw new ConfigError(`could not lock ${this.shown(file)} for update: ${(error as Error).message}. Another release or rollback may be running; try again.`);
		}
		try {
			const next = await mutate(await this.readReleases(promptId));
			await writeFileAtomic(file, `# Channel pointers and release history of "${promptId}". Written by prompt-release.\n${toYaml(clean(next))}`);
			return next;
		} finally {
			await release();
		}
	}

	private runsDir(promptId: string): string {
		return path.join(this.promptDir(promptId), 'runs');
	}

	async createRunWriter(promptId: string, runId: string): Promise<RunWriter> {
		return new FileRunWriter(this.runsDir(promptId), promptId, runId, (p) => this.shown(p));
	}

	/** The partial results files in the prompt's `runs/` folder, each judged abandoned or possibly in progress (`listPartialRuns`). */
	async partialRuns(promptId: string): Promise<PartialRun[]> {
		return listPartialRuns(this.runsDir(promptId));
	}

	async writeRun(report: RunReport): Promise<void> {
		const writer = await this.createRunWriter(report.promptId, report.runId);
		try {
			for (const result of report.results) await writer.append(result);
			await writer.commit(report);
		} catch (error) {
			await writer.discard();
			throw error;
		}
	}

	async readRun(promptId: string, runId: string): Promise<RunReport> {
		const { header, inline } = await readRunDocument(this.runsDir(promptId), promptId, runId, (p) => this.shown(p));
		if (inline) return inline;
		const results: RunReport['results'] = [];
		for await (const r of this.readRunResults(promptId, runId)) results.push(r);
		return { ...header, results };
	}

	async readRunHeader(promptId: string, runId: string): Promise<RunHeader> {
		return (await readRunDocument(this.runsDir(promptId), promptId, runId, (p) => this.shown(p))).header;
	}

	readRunResults(promptId: string, runId: string): AsyncIterable<FixtureResult> {
		return readRunResultLines(this.runsDir(promptId), promptId, runId, (p) => this.shown(p));
	}

	async listRuns(promptId: string): Promise<string[]> {
		return (await listDir(this.runsDir(promptId)))
			.filter((f) => f.endsWith('.json'))
			.map((f) => f.slice(0, -'.json'.length))
			.filter((id) => RUN_ID.test(id))
			.sort();
	}

	private outcomesDir(promptId: string, canaryId: string): string {
		if (!RUN_ID.test(canaryId)) throw new ConfigError(`canary id "${canaryId}" is invalid`);
		return path.join(this.promptDir(promptId), 'outcomes', canaryId);
	}

	/** This process's own log file per canary, so concurrent processes never interleave rows (./outcome-files.ts). */
	private readonly outcomeFiles = PROCESS_LOG_FILES;

	async appendOutcomes(promptId: string, canaryId: string, records: OutcomeRecord[]): Promise<void> {
		await appendOutcomeLines(this.outcomesDir(promptId, canaryId), this.outcomeFiles, records);
	}

	async readOutcomes(promptId: string, canaryId: string): Promise<OutcomeRecord[]> {
		return readOutcomeLines(this.outcomesDir(promptId, canaryId), listDir);
	}

	async readPolicy(promptId?: string): Promise<PolicyFile> {
		const file = promptId === undefined ? path.join(this.root, 'policy.yaml') : path.join(this.promptDir(promptId), 'policy.yaml');
		if (!(await exists(file))) return {};
		return checkPolicyFile(await this.load(file));
	}

	async readPricing(): Promise<PriceTable> {
		const file = path.join(this.root, 'pricing.yaml');
		if (!(await exists(file))) return {};
		return checkPricing(await this.load(file));
	}

	async writePolicy(policy: PolicyFile, promptId?: string): Promise<void> {
		const file = promptId === undefined ? path.join(this.root, 'policy.yaml') : path.join(this.promptDir(promptId), 'policy.yaml');
		await writeFileAtomic(file, toYaml(clean(policy)));
	}

	async writePricing(prices: PriceTable): Promise<void> {
		await writeFileAtomic(path.join(this.root, 'pricing.yaml'), toYaml({ models: clean(prices) }));
	}

	/**
	 * At most two small reads and one fixture read, whatever the number of fixtures: the fixture named after
	 * the inputs (`correction-…`, ./inputs-index.ts), else the one the index names. Either is checked against
	 * the inputs (an entry left stale by a hand edit counts as no match). A registry written before the index
	 * existed is indexed once, on first use.
	 */
	async findFixtureByInputs(promptId: string, inputs: Record<string, unknown>): Promise<Fixture | undefined> {
		return this.findByInputs(promptId, inputs, inputsKey(inputs), false);
	}

	/** `findFixtureByInputs` with the inputs' `key`; `derivedRead`: the fixture named after them was just read and is missing. */
	private async findByInputs(promptId: string, inputs: Record<string, unknown>, key: string, derivedRead: boolean): Promise<Fixture | undefined> {
		const wanted = canonicalJson(inputs);
		const covers = (fixture: Fixture | undefined) => fixture !== undefined && canonicalJson(fixture.inputs) === wanted;
		if (!derivedRead) {
			const named = await this.readFixture(promptId, derivedFixtureId(key)).catch(() => undefined);
			if (covers(named)) return named;
		}
		const index = this.inputsIndex(promptId);
		await index.ensure(() => this.streamFixtures(promptId));
		const id = await index.lookupKey(key);
		if (!id) return undefined;
		const fixture = await this.readFixture(promptId, id).catch(() => undefined);
		return covers(fixture) ? fixture : undefined;
	}
}
