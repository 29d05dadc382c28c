/**
 * Each API's own word for how an answer ended, mapped to the one vocabulary of FinishReason.
 * The words are those of the OpenAI Chat Completions (`choices[].finish_reason`), OpenAI Responses
 * (`status`, `incomplete_details.reason`) and Anthropic Messages (`stop_reason`) API references, plus the words
 * OpenAI-compatible servers are known to send (vLLM `abort`, Mistral `model_length`, OpenRouter `error`,
 * DeepSeek `insufficient_system_resource`, Gemini `SAFETY` / `RECITATION`, older TGI `eos`).
 *
 * A word this table does not know is `other`: not a finished answer (never valid). Only a missing word from an
 * OpenAI-compatible server is `unknown` and judged by its text — such servers (Ollama, LM Studio, llama.cpp)
 * often send none; OpenAI and Anthropic always send one, so a missing word from them is `other` too.
 */
import type { AnswerEnd, FinishReason } from './types';

const CHAT: Record<string, FinishReason> = {
	stop: 'stop',
	eos: 'stop',
	end_turn: 'stop',
	stop_sequence: 'stop',
	length: 'length',
	max_tokens: 'length', // proxies passing Anthropic's word through
	model_length: 'length', // Mistral: the model's context length was reached
	content_filter: 'content_filter',
	safety: 'content_filter',
	recitation: 'content_filter',
	tool_calls: 'tool_calls',
	function_call: 'tool_calls',
};

const ANTHROPIC: Record<string, FinishReason> = {
	end_turn: 'stop',
	tool_use: 'stop', // the forced tool was called: the tool input is the answer
	stop_sequence: 'stop',
	max_tokens: 'length',
	model_context_window_exceeded: 'length',
	refusal: 'refusal',
	pause_turn: 'paused',
};

function end(map: Record<string, FinishReason>, word: unknown, missing: FinishReason): AnswerEnd {
	if (typeof word !== 'string' || !word.trim()) return { reason: missing, providerReason: null };
	const key = word.trim().toLowerCase();
	return { reason: Object.hasOwn(map, key) ? map[key] : 'other', providerReason: word };
}

/**
 * OpenAI Chat Completions `finish_reason`. `compatible`: the answer came from an OpenAI-compatible server, where
 * a missing finish reason is common (`unknown`, judged by the text); from OpenAI itself a missing one is `other`.
 */
export function chatEnd(finishReason: unknown, compatible = false): AnswerEnd {
	return end(CHAT, finishReason, compatible ? 'unknown' : 'other');
}

/** Anthropic Messages `stop_reason` (always set on a complete non-streaming message: missing → `other`). */
export function anthropicEnd(stopReason: unknown): AnswerEnd {
	return end(ANTHROPIC, stopReason, 'other');
}

/**
 * OpenAI Responses: `status` `completed` → stop; `incomplete` with `incomplete_details.reason`
 * `max_output_tokens` → length, `content_filter` → content_filter, any other or none → other; `in_progress` /
 * `queued` → paused; `failed`, `cancelled` or anything else → other. `providerReason` is the incomplete reason
 * when there is one, else the status.
 */
export function responsesEnd(status: unknown, incompleteReason: unknown): AnswerEnd {
	if (status === 'incomplete') {
		const word = typeof incompleteReason === 'string' && incompleteReason ? incompleteReason : 'incomplete';
		const reason: FinishReason = word === 'max_output_tokens' ? 'length' : word === 'content_filter' ? 'content_filter' : 'other';
		return { reason, providerReason: word };
	}
	if (status === 'completed') return { reason: 'stop', providerReason: 'completed' };
	if (status === 'in_progress' || status === 'queued') return { reason: 'paused', providerReason: status };
	return { reason: 'other', providerReason: typeof status === 'string' ? status : null };
}
