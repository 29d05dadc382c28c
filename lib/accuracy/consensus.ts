/**
 * Consensus voting (design: docs/adr/0040): a prompt that declares `consensus` asks several times — N
 * samples of its model, or each listed model once — in parallel, and an answer is valid only when the
 * rule is met: `all` equal, or at least k equal (`{majority: k}`). An invalid answer is a vote for no
 * value. Without agreement the item is invalid with reason "no consensus", listing every answer, so a
 * person decides instead of the model guessing.
 */
import { valuesEqual } from '../schema';
import { callProvenance } from '../provenance';
import type { Provider } from '../providers/types';
import type { CallMeta, CallResult, ConsensusOutcome, ConsensusSpec, ModelSpec, OutputValue, PromptSpec, ResolvedPrompt } from '../types';

/** One voter: the model it asks and how it is named in reasons. */
export interface Voter {
	model: ModelSpec;
	label: string;
}

/** The voters of a consensus: N copies of the prompt's model (samples), or the listed models. */
export function votersOf(spec: PromptSpec): Voter[] {
	const c = spec.consensus;
	if (!c) return [{ model: spec.model, label: `${spec.model.provider}:${spec.model.name}` }];
	if (c.models?.length) return c.models.map((m) => ({ model: m, label: `${m.provider}:${m.name}` }));
	const n = c.samples ?? 1;
	return Array.from({ length: n }, (_, i) => ({ model: spec.model, label: `sample ${i + 1} of ${spec.model.provider}:${spec.model.name}` }));
}

/** How many equal answers the rule needs out of `voters`. */
export function needed(rule: ConsensusSpec['rule'], voters: number): number {
	return rule === 'all' ? voters : rule.majority;
}

/** The rule as words: `all` or `majority 2`. */
export function ruleText(rule: ConsensusSpec['rule']): string {
	return rule === 'all' ? 'all' : `majority ${rule.majority}`;
}

/** The models a consensus asks besides the prompt's own (for credentials and providers). */
export function consensusModels(spec: PromptSpec): ModelSpec[] {
	return spec.consensus?.models ?? [];
}

/**
 * The vote over the voters' results (in voter order): the largest group of equal valid answers wins if it
 * has the number the rule needs. Pure; `combine` sums what the calls cost.
 */
export function tally(spec: ConsensusSpec, voters: Voter[], results: CallResult[]): { outcome: ConsensusOutcome; value?: OutputValue; winner?: number } {
	const groups: Array<{ value: OutputValue; members: number[] }> = [];
	results.forEach((r, i) => {
		if (!r.valid) return;
		const group = groups.find((g) => valuesEqual(g.value, r.value));
		if (group) group.members.push(i);
		else groups.push({ value: r.value, members: [i] });
	});
	const best = groups.reduce<(typeof groups)[number] | undefined>((a, g) => (!a || g.members.length > a.members.length ? g : a), undefined);
	const agreed = best?.members.length ?? 0;
	const reached = best !== undefined && agreed >= needed(spec.rule, voters.length);
	const outcome: ConsensusOutcome = {
		rule: ruleText(spec.rule),
		voters: voters.length,
		agreed,
		reached,
		answers: results.map((r, i) => (r.valid ? { voter: voters[i].label, value: r.value } : { voter: voters[i].label, invalid: r.reason })),
	};
	return reached ? { outcome, value: best!.value, winner: best!.members[0] } : { outcome };
}

/** Sum the voters' metadata: tokens, cost and calls add up; latency is the wall time of the parallel calls. */
function combine(resolved: ResolvedPrompt, voters: Voter[], results: CallResult[], latencyMs: number): CallMeta {
	const metas = results.map((r) => r.meta);
	const spec = resolved.spec;
	const models = [...new Set(voters.map((v) => v.model.name))];
	const fetched = metas.map((m) => m.fetchedAt).filter((t): t is string => t !== undefined).sort()[0];
	const tolerated = [...new Set(metas.flatMap((m) => m.tolerated ?? []))];
	const calls = metas.reduce((t, m) => t + m.calls, 0);
	const cachedCalls = metas.reduce((t, m) => t + (m.cachedCalls ?? 0), 0);
	const batchedCalls = metas.reduce((t, m) => t + (m.batchedCalls ?? 0), 0);
	return {
		prompt: resolved.promptId,
		version: resolved.version,
		contentHash: resolved.contentHash,
		...(resolved.channel ? { channel: resolved.channel } : {}),
		model: models.join('+'),
		provider: spec.model.provider,
		latencyMs,
		inputTokens: metas.reduce((t, m) => t + m.inputTokens, 0),
		outputTokens: metas.reduce((t, m) => t + m.outputTokens, 0),
		costUsd: metas.reduce((t, m) => t + m.costUsd, 0),
		calls,
		repaired: metas.some((m) => m.repaired),
		finishReasons: metas.flatMap((m) => m.finishReasons),
		...(tolerated.length ? { tolerated } : {}),
		...(cachedCalls ? { cachedCalls } : {}),
		...(batchedCalls ? { batchedCalls } : {}),
		...callProvenance({ calls, cachedCalls, batchedCalls }),
		...(fetched ? { fetchedAt: fetched } : {}),
	};
}

function shownAnswer(a: ConsensusOutcome['answers'][number]): string {
	return a.invalid !== undefined ? `${a.voter} gave no valid answer (${a.invalid})` : `${a.voter} answered ${JSON.stringify(a.value)}`;
}

/** The reason of an item without consensus: the rule, the count, and every answer. */
export function noConsensusReason(outcome: ConsensusOutcome): string {
	return `no consensus (rule ${outcome.rule}: ${outcome.agreed} of ${outcome.voters} answers agree): ${outcome.answers.map(shownAnswer).join('; ')}`;
}

export interface ConsensusCall {
	/** One call of the prompt with one voter's model (no consensus of its own). */
	single: (resolved: ResolvedPrompt, provider: Provider, attempt: number | undefined, signal: AbortSignal) => Promise<CallResult>;
	provider: Provider;
	/** The provider for a voter's model when it is not the prompt's own provider (the nodes pick the credential). */
	providerFor?: (model: ModelSpec) => Provider | Promise<Provider>;
	attempt?: number;
	signal?: AbortSignal;
}

/**
 * Ask every voter in parallel and vote. A fatal provider error of any voter aborts the others and is thrown.
 * Samples of one model get distinct response-cache keys (as repeat attempts do), so N samples stay N answers.
 */
export async function runConsensus(resolved: ResolvedPrompt, call: ConsensusCall): Promise<CallResult> {
	const spec = resolved.spec;
	const consensus = spec.consensus!;
	const voters = votersOf(spec);
	const abort = new AbortController();
	const onAbort = (): void => abort.abort();
	call.signal?.addEventListener('abort', onAbort, { once: true });
	const started = performance.now();
	try {
		const results = await Promise.all(
			voters.map(async (voter, i) => {
				const { consensus: _own, ...plain } = spec;
				void _own;
				const one: ResolvedPrompt = { ...resolved, spec: { ...plain, model: voter.model } };
				const sameProvider = voter.model.provider === spec.model.provider && voter.model.baseUrl === spec.model.baseUrl;
				const provider = sameProvider || !call.providerFor ? call.provider : await call.providerFor(voter.model);
				// Samples: attempt a, sample s → cache attempt (a−1)·N + s; the first sample of the first attempt keys as a plain call.
				const attempt = consensus.samples ? ((call.attempt ?? 1) - 1) * voters.length + i + 1 : call.attempt;
				try {
					return await call.single(one, provider, attempt, abort.signal);
				} catch (error) {
					abort.abort();
					throw error;
				}
			}),
		);
		const latencyMs = Math.round(performance.now() - started);
		const meta = combine(resolved, voters, results, latencyMs);
		const { outcome, value, winner } = tally(consensus, voters, results);
		meta.consensus = outcome;
		if (value !== undefined && winner !== undefined) return { valid: true, value, rawOutput: results[winner].rawOutput ?? '', meta };
		const raw = JSON.stringify(results.map((r, i) => ({ voter: voters[i].label, output: r.rawOutput })));
		return {
			valid: false,
			reason: noConsensusReason(outcome),
			rawOutput: raw,
			meta,
			...(results.some((r) => !r.valid && r.retryable) ? { retryable: true } : {}),
			...(results.every((r) => !r.valid && r.refused) ? { refused: true } : {}),
		};
	} finally {
		call.signal?.removeEventListener('abort', onAbort);
	}
}
