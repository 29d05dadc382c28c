/**
 * The one place that decides what a model answer is worth: how it ended (finish reason, refusal), then
 * the JSON value in its text (extract.ts), the unwrapped value (unwrap.ts), then the declared schema.
 * A value is valid only when the model finished its answer and the value passed the schema.
 */
import type { ProviderResponse } from '../providers/types';
import { validateValue, type ParseResult } from '../schema';
import type { OutputSchema, OutputValue } from '../types';
import { extractJson } from './extract';
import { unwrapAnswer } from './unwrap';

export type AnswerVerdict =
	| { ok: true; value: OutputValue; notes: string[] }
	| {
			ok: false;
			reason: string;
			/** Whether one repair call (showing the model its error) can help: not for a token cap, a filter, a refusal. */
			repairable: boolean;
			/** The model declined to answer. */
			refused?: boolean;
			/** The provider ended the answer abnormally (an unknown finish word): the same call may succeed later. */
			retryable?: boolean;
	  };

/** What the reading needs of a provider response. */
export type AnswerText = Pick<ProviderResponse, 'text' | 'end'> & Partial<Pick<ProviderResponse, 'refusal' | 'reasoningTokens'>>;

/** The provider's own word, quoted, for reasons: `the provider said "max_tokens"`. */
function said(providerReason: string | null): string {
	return providerReason ? `the provider said "${providerReason}"` : 'the provider gave no reason';
}

/** Why an answer that did not finish is invalid, whatever its text parses to; undefined when it finished. */
function unfinished(response: AnswerText, maxTokens: number): { reason: string; repairable: boolean; refused?: boolean; retryable?: boolean } | undefined {
	const { end } = response;
	switch (end.reason) {
		case 'refusal':
			return { reason: `refused: ${response.refusal?.trim() || '(the model gave no text)'}`, repairable: false, refused: true };
		case 'length': {
			if (end.providerReason === 'model_context_window_exceeded') {
				return { reason: `answer cut off: the input and the answer exceeded the model's context window (${said(end.providerReason)}): shorten the input or use a model with a larger context window`, repairable: false };
			}
			const reasoning = response.reasoningTokens ?? 0;
			const empty = !extractsAnything(response.text);
			if (empty && reasoning > 0) {
				return { reason: `no answer: the model spent its whole output budget (maxTokens ${maxTokens}) on reasoning (${reasoning} reasoning tokens): raise model.maxTokens`, repairable: false };
			}
			return { reason: `answer cut off at maxTokens ${maxTokens} (${said(end.providerReason)}): raise model.maxTokens`, repairable: false };
		}
		case 'content_filter':
			return { reason: `answer stopped by the provider's content filter (${said(end.providerReason)}): a person must decide this item`, repairable: false };
		case 'paused':
			return { reason: `the provider paused the turn before the answer was complete (${said(end.providerReason)}): try again`, repairable: false };
		case 'tool_calls':
			return { reason: `the model called a tool instead of answering (${said(end.providerReason)})`, repairable: true };
		case 'other':
			return {
				reason: `the answer did not end normally (${said(end.providerReason)}), so it is not taken as finished: the item can be tried again`,
				repairable: false,
				retryable: true,
			};
		default:
			return undefined;
	}
}

function extractsAnything(text: string): boolean {
	const r = extractJson(text);
	return r.ok || r.kind === 'not-json' || r.kind === 'ambiguous' || r.kind === 'inexact';
}

/**
 * Read one provider response against the declared output schema. `maxTokens` (the prompt's `model.maxTokens`)
 * is named in cut-off reasons. Never throws; never coerces a wrong type ("12" is not an integer).
 */
export function readAnswer(schema: OutputSchema, response: AnswerText, maxTokens: number): AnswerVerdict {
	const stopped = unfinished(response, maxTokens);
	if (stopped) return { ok: false, ...stopped };
	const extracted = extractJson(response.text);
	if (!extracted.ok) {
		const afterReasoning = extracted.kind === 'empty' && (response.reasoningTokens ?? 0) > 0 ? ' after reasoning' : '';
		return { ok: false, reason: `${extracted.reason}${afterReasoning}`, repairable: true };
	}
	const unwrapped = unwrapAnswer(schema, extracted.value);
	if (!unwrapped.ok) return { ok: false, reason: unwrapped.reason, repairable: unwrapped.repairable };
	const checked = validateValue(schema, unwrapped.value);
	if (!checked.ok) return { ok: false, reason: checked.reason, repairable: true };
	return { ok: true, value: checked.value, notes: [...extracted.notes, ...unwrapped.notes] };
}

/** Read an answer text that finished normally (no finish reason known): the text-only form of readAnswer. */
export function parseModelOutput(schema: OutputSchema, text: string): ParseResult {
	const verdict = readAnswer(schema, { text, end: { reason: 'stop', providerReason: null } }, 0);
	return verdict.ok ? { ok: true, value: verdict.value } : { ok: false, reason: verdict.reason };
}
