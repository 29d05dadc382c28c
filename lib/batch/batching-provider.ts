/**
 * Sends calls through a provider's batch API instead of one by one, behind the ordinary Provider seam:
 * the runner, the answer reading and the report are the same as for a direct run.
 *
 * Calls are gathered until none arrived for `quietMs` (the runner starts every fixture at once in batch
 * mode), deduplicated by response cache key, and submitted as one batch; each call's promise settles with
 * its answer (marked `batch: true`, priced at the batch rate) or its error. Calls that depend on an answer
 * — a repair call, attempt 2 of `repeat` — form the next batch, so `repeat` N takes N rounds.
 *
 * Resume: the batch id is saved (PendingBatches) as soon as the provider accepted it; the same run started
 * again finds it by its requests and polls it instead of submitting a new one. A saved id the provider answers
 * 404 for (expired, deleted, another account, a restarted server) is dropped with a notice and the requests are
 * submitted anew; a server that cannot be reached keeps the saved id (the batch may still be running there).
 */
import { canonicalJson, sha256 } from '../hash';
import { ProviderError } from '../errors';
import { responseCacheKey } from '../cache/key';
import type { ModelSpec } from '../types';
import type { Provider, ProviderRequest, ProviderResponse } from '../providers/types';
import { BatchNotFoundError, type BatchApi, type BatchCapable, type BatchItem, type BatchStatus } from './types';
import type { PendingBatches } from './pending';

/** What the caller hears while a batch runs. */
export interface BatchProgress {
	batchId: string;
	label: string;
	/** true when an earlier, interrupted run had submitted this batch. */
	resumed: boolean;
	status: BatchStatus;
}

export interface BatchingOptions {
	/** Where batch ids are kept for resuming; without it an interrupted batch cannot be resumed. */
	pending?: PendingBatches;
	/** Between two status requests; default 15 000 ms (`PROMPT_RELEASE_BATCH_POLL_MS`). */
	pollIntervalMs?: number;
	/** Calls are gathered until none arrived for this long; default 100 ms. */
	quietMs?: number;
	/** After submitting (or finding) a batch, and after every status request. */
	onProgress?: (progress: BatchProgress) => void;
	/** Something the user should know that does not stop the run (a saved batch id dropped because the provider no longer knows it). */
	onNotice?: (message: string) => void;
	now?: () => Date;
}

interface Waiting {
	key: string;
	request: ProviderRequest;
	resolve: (response: ProviderResponse) => void;
	reject: (error: unknown) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The id of a round: sha256 of its sorted custom ids (= response cache keys); it names the round's PendingBatches file. */
export function roundKey(customIds: Iterable<string>): string {
	return sha256([...customIds].sort().join('\n'));
}

/** `PROMPT_RELEASE_BATCH_POLL_MS`, else 15 s. */
export function defaultPollIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
	const ms = Number(env.PROMPT_RELEASE_BATCH_POLL_MS);
	return Number.isFinite(ms) && ms >= 0 ? ms : 15_000;
}

export class BatchingProvider implements Provider {
	readonly name: Provider['name'];
	/** Every batch this provider submitted or resumed, in order (recorded in the run report). */
	readonly batchIds: string[] = [];
	private readonly inner: Provider & BatchCapable;
	private readonly options: BatchingOptions;
	private queue: Waiting[] = [];
	private timer: NodeJS.Timeout | undefined;
	private readonly rounds = new Set<Promise<void>>();

	constructor(inner: Provider & BatchCapable, options: BatchingOptions = {}) {
		this.inner = inner;
		this.name = inner.name;
		this.options = options;
	}

	baseUrlFor(model: ModelSpec): string {
		return this.inner.baseUrlFor?.(model) ?? model.baseUrl ?? '';
	}

	complete(request: ProviderRequest): Promise<ProviderResponse> {
		return new Promise<ProviderResponse>((resolve, reject) => {
			const key = responseCacheKey(this.inner.name, this.baseUrlFor(request.model), request);
			this.queue.push({ key, request, resolve, reject });
			if (this.timer) clearTimeout(this.timer);
			this.timer = setTimeout(() => this.flush(), this.options.quietMs ?? 100);
		});
	}

	/** Submit what is queued, one batch per model. */
	private flush(): void {
		this.timer = undefined;
		const waiting = this.queue;
		this.queue = [];
		const byModel = new Map<string, Waiting[]>();
		for (const w of waiting) {
			const model = canonicalJson(w.request.model);
			byModel.set(model, [...(byModel.get(model) ?? []), w]);
		}
		for (const group of byModel.values()) {
			const round = this.round(group).catch((error: unknown) => {
				for (const w of group) w.reject(error);
			});
			this.rounds.add(round);
			void round.finally(() => this.rounds.delete(round));
		}
	}

	/**
	 * One batch for a group of calls: resume the saved batch of the same requests, else submit one; poll it, read
	 * its answers and settle every call. A saved batch the provider does not know is dropped and submitted anew.
	 */
	private async round(group: Waiting[]): Promise<void> {
		const api: BatchApi = this.inner.batchApi(group[0].request.model);
		const items = new Map<string, BatchItem>();
		for (const w of group) if (!items.has(w.key)) items.set(w.key, { customId: w.key, request: w.request });
		const list = [...items.values()];
		const round = roundKey(items.keys());
		const saved = await this.options.pending?.read(round);
		if (saved) {
			try {
				return await this.collect(api, group, list, round, saved.batchId, true);
			} catch (error) {
				if (!(error instanceof BatchNotFoundError)) throw error;
				await this.options.pending?.remove(round);
				this.options.onNotice?.(
					`batch ${saved.batchId} (saved ${saved.submittedAt} in ${this.options.pending?.fileOf(round)}) is unknown to ${api.label} (HTTP 404: ${error.detail}): ` +
						'it expired, was deleted or belongs to another account or server. Its saved id was dropped and the requests are submitted anew.',
				);
			}
		}
		const batchId = await this.submit(api, list, round);
		try {
			await this.collect(api, group, list, round, batchId, false);
		} catch (error) {
			if (!(error instanceof BatchNotFoundError)) throw error;
			await this.options.pending?.remove(round);
			throw new ProviderError(
				`${api.label} no longer knows batch ${batchId}, submitted by this run (HTTP 404: ${error.detail}); its saved id was dropped: run the same command again to submit the requests anew`,
				404,
				{ fatal: true },
			);
		}
	}

	/** Submit the requests as a new batch and save its id for resuming. Throws a fatal ProviderError when the server has no batch API. */
	private async submit(api: BatchApi, list: BatchItem[], round: string): Promise<string> {
		let batchId: string;
		try {
			batchId = await api.submit(list);
		} catch (error) {
			if (error instanceof ProviderError && error.status === 404) {
				throw new ProviderError(`${api.label} does not offer a batch API (HTTP 404 on submit): run without --batch`, 404, { fatal: true });
			}
			throw error;
		}
		await this.options.pending?.save({
			format: 1,
			round,
			batchId,
			label: api.label,
			submittedAt: (this.options.now?.() ?? new Date()).toISOString(),
			customIds: list.map((i) => i.customId),
		});
		return batchId;
	}

	/**
	 * Poll a batch until it ended, read its answers and settle the calls. Throws BatchNotFoundError (the id is
	 * not in `batchIds` then) when the provider answers 404 for it, and a fatal ProviderError saying how to
	 * resume when the provider cannot be reached.
	 */
	private async collect(api: BatchApi, group: Waiting[], list: BatchItem[], round: string, batchId: string, resumed: boolean): Promise<void> {
		this.batchIds.push(batchId);
		const forget = (): void => {
			const at = this.batchIds.lastIndexOf(batchId);
			if (at >= 0) this.batchIds.splice(at, 1);
		};
		let status: BatchStatus;
		try {
			status = await api.status(batchId);
			this.options.onProgress?.({ batchId, label: api.label, resumed, status });
			while (status.state === 'running') {
				await sleep(this.options.pollIntervalMs ?? defaultPollIntervalMs());
				status = await api.status(batchId);
				this.options.onProgress?.({ batchId, label: api.label, resumed, status });
			}
		} catch (error) {
			if (error instanceof BatchNotFoundError) {
				forget();
				throw error;
			}
			const why = error instanceof Error ? error.message : String(error);
			throw new ProviderError(`lost contact with ${api.label}, batch ${batchId}: ${why}. The batch keeps running at the provider: run the same command again to resume it`, undefined, { fatal: true });
		}
		if (status.state === 'failed') {
			await this.options.pending?.remove(round);
			throw new ProviderError(`${api.label}: batch ${batchId} failed${status.detail ? ` (${status.detail})` : ''}; nothing was answered`, undefined, { fatal: true });
		}
		let answers: Map<string, ProviderResponse | ProviderError>;
		try {
			answers = await api.results(batchId, list);
		} catch (error) {
			if (error instanceof BatchNotFoundError) forget();
			throw error;
		}
		// The answers are in hand: from here on a rerun has nothing to resume (cached answers, if any, serve it).
		await this.options.pending?.remove(round);
		const fetchedAt = (this.options.now?.() ?? new Date()).toISOString();
		for (const w of group) {
			const answer = answers.get(w.key);
			if (answer instanceof Error) w.reject(answer);
			else if (answer) w.resolve({ ...answer, batch: true, fetchedAt });
			else w.reject(new ProviderError(`${api.label}: batch ${batchId} ended (${status.providerStatus}) without an answer for this request: run again`));
		}
	}
}
