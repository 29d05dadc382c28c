/**
 * One call of a resolved prompt: render → model → parse → validate → (one repair call) → result.
 * A value is returned as valid only after it passed the declared schema.
 */
import { batchCostUsd, costUsd } from './pricing';
import { ProviderError } from './errors';
import { readAnswer } from './answer/read';
import { toWireJsonSchema, describeSchema } from './schema';
import { renderPrompt } from './template';
import type { ChatTurn, Provider, ProviderResponse } from './providers/types';
import type { PriceTable } from './registry/store';
import { runConsensus } from './accuracy/consensus';
import { callProvenance } from './provenance';
import type { CallMeta, CallResult, ModelSpec, ResolvedPrompt } from './types';

export interface RunPromptOptions {
	pricing?: PriceTable;
	signal?: AbortSignal;
	/** The repeat attempt (1-based) this call is; passed to the provider so the response cache keeps attempts apart. */
	attempt?: number;
	/**
	 * Consensus across models of several providers: the provider for a voter's model that is not the prompt's own
	 * (the nodes pick its credential). Without it every voter goes to `provider`, which must route by model.
	 */
	providerFor?: (model: ModelSpec) => Provider | Promise<Provider>;
}

function repairMessage(reason: string, resolved: ResolvedPrompt): string {
	return [
		`Your answer was rejected: ${reason}.`,
		`Answer again with only a JSON object that matches this JSON Schema, and nothing else:`,
		describeSchema(resolved.spec.output),
	].join('\n');
}

function invalid(reason: string, rawOutput: string | null, meta: CallMeta, flags: { refused?: boolean; retryable?: boolean } = {}): CallResult {
	return { valid: false, reason, rawOutput, meta, ...(flags.refused ? { refused: true } : {}), ...(flags.retryable !== undefined ? { retryable: flags.retryable } : {}) };
}

/** The answer as shown to people: its text, or the refusal's text. */
function rawOf(response: ProviderResponse): string | null {
	return response.text || response.refusal || null;
}

/**
 * Throws InputError for missing/wrong variables (before any model call) and a `fatal` ProviderError (bad key,
 * quota, unknown model, rejected request…). Everything else ends in the result: a valid value only when the model
 * finished its answer and the value passed the schema; otherwise `valid: false` with the reason — a cut-off,
 * filtered or refused answer (no repair call), an answer that stays unreadable after one repair call, an input
 * too long for the model (`retryable: false`), or a transient provider failure after the SDK's retries
 * (`retryable: true`). A cancelled call (options.signal) throws. A prompt with `consensus` asks every voter in
 * parallel (lib/accuracy/consensus.ts): valid only when they agree, else invalid with reason "no consensus".
 */
export async function runPrompt(resolved: ResolvedPrompt, variables: Record<string, unknown>, provider: Provider, options: RunPromptOptions = {}): Promise<CallResult> {
	if (resolved.spec.consensus) {
		renderPrompt(resolved.spec, variables); // variable errors before any call
		return runConsensus(resolved, {
			single: (one, voterProvider, attempt, signal) => runSingle(one, variables, voterProvider, { ...options, signal, ...(attempt !== undefined ? { attempt } : {}) }),
			provider,
			...(options.providerFor ? { providerFor: options.providerFor } : {}),
			...(options.attempt !== undefined ? { attempt: options.attempt } : {}),
			...(options.signal ? { signal: options.signal } : {}),
		});
	}
	return runSingle(resolved, variables, provider, options);
}

/** One answer (with at most one repair call): what runPrompt does for a prompt without consensus, and per voter. */
async function runSingle(resolved: ResolvedPrompt, variables: Record<string, unknown>, provider: Provider, options: RunPromptOptions): Promise<CallResult> {
	const { spec } = resolved;
	const rendered = renderPrompt(spec, variables);
	const jsonSchema = toWireJsonSchema(spec.output);
	const meta: CallMeta = {
		prompt: resolved.promptId,
		version: resolved.version,
		contentHash: resolved.contentHash,
		...(resolved.channel ? { channel: resolved.channel } : {}),
		model: spec.model.name,
		provider: spec.model.provider,
		latencyMs: 0,
		inputTokens: 0,
		outputTokens: 0,
		costUsd: 0,
		calls: 0,
		repaired: false,
		finishReasons: [],
	};
	const started = performance.now();
	/** Tokens answered through a batch API, priced at the batch rate. */
	const batched = { input: 0, output: 0 };
	const call = async (messages: ChatTurn[]): Promise<ProviderResponse> => {
		meta.calls++;
		const response = await provider.complete({
			model: spec.model,
			system: rendered.system,
			messages,
			jsonSchema,
			schemaName: resolved.promptId.replace(/[^A-Za-z0-9_-]/g, '_'),
			signal: options.signal,
			...(options.attempt !== undefined ? { attempt: options.attempt } : {}),
		});
		meta.inputTokens += response.usage.inputTokens;
		meta.outputTokens += response.usage.outputTokens;
		meta.finishReasons.push(response.end.reason);
		// Priced at the batch rate when fetched through the batch API, also when replayed from the cache.
		if (response.batch) {
			batched.input += response.usage.inputTokens;
			batched.output += response.usage.outputTokens;
		}
		// Counted as what this call did: read from the cache, or sent (through the batch API or directly).
		if (response.cached) meta.cachedCalls = (meta.cachedCalls ?? 0) + 1;
		else if (response.batch) meta.batchedCalls = (meta.batchedCalls ?? 0) + 1;
		// The oldest answer behind the result is what its evidence is as old as.
		const fetchedAt = response.fetchedAt ?? new Date().toISOString();
		if (meta.fetchedAt === undefined || fetchedAt < meta.fetchedAt) meta.fetchedAt = fetchedAt;
		return response;
	};
	const finish = () => {
		meta.latencyMs = Math.round(performance.now() - started);
		const table = options.pricing ?? {};
		const { provider: p, name } = spec.model;
		meta.costUsd =
			costUsd(table, p, name, meta.inputTokens - batched.input, meta.outputTokens - batched.output) + batchCostUsd(table, p, name, batched.input, batched.output);
		Object.assign(meta, callProvenance(meta));
	};
	const read = (response: ProviderResponse) => readAnswer(spec.output, response, spec.model.maxTokens);

	/** Why the first answer was rejected, once a repair call is under way: a failure of that call still says it. */
	let firstReason: string | undefined;
	try {
		const messages: ChatTurn[] = [{ role: 'user', content: rendered.user }];
		const first = await call(messages);
		const verdict = read(first);
		if (verdict.ok) {
			finish();
			if (verdict.notes.length) meta.tolerated = verdict.notes;
			return { valid: true, value: verdict.value, rawOutput: first.text, meta };
		}
		if (!verdict.repairable) {
			finish();
			return invalid(verdict.reason, rawOf(first), meta, { refused: verdict.refused, retryable: verdict.retryable });
		}
		// Exactly one repair call that shows the model its error.
		firstReason = verdict.reason;
		const second = await call([...messages, { role: 'assistant', content: first.text || '(empty)' }, { role: 'user', content: repairMessage(verdict.reason, resolved) }]);
		const again = read(second);
		finish();
		if (again.ok) {
			meta.repaired = true;
			if (again.notes.length) meta.tolerated = again.notes;
			return { valid: true, value: again.value, rawOutput: second.text, meta };
		}
		const reason = again.repairable
			? `invalid model output after one repair attempt: ${again.reason} (first answer: ${verdict.reason})`
			: `${again.reason} (in the repair call; first answer: ${verdict.reason})`;
		return invalid(reason, rawOf(second), meta, { refused: again.refused, retryable: again.retryable });
	} catch (error) {
		finish();
		if (!(error instanceof ProviderError)) throw error;
		error.meta = meta;
		if (error.category === 'fatal' || options.signal?.aborted) throw error;
		const inRepair = firstReason !== undefined ? ` (in the repair call; first answer: ${firstReason})` : '';
		if (error.category === 'input') return invalid(`${error.message}${inRepair}`, null, meta, { retryable: false });
		return invalid(`provider error: ${error.message}${inRepair}`, null, meta, { retryable: true });
	}
}
