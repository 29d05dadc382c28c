/**
 * Each API's own word for how an answer ended, mapped to the one vocabulary of FinishReason.
 * The words are those of the OpenAI Chat Completions (`choices[].finish_reason`), OpenAI Responses
 * (`status`, `incomplete_details.reason`) and Anthropic Messages (`stop_reason`) API references;
 * OpenAI-compatible servers (Ollama, vLLM, LM Studio) send the Chat Completions words or nothing.
 */
import type { AnswerEnd, FinishReason } from './types';

const CHAT: Record<string, FinishReason> = {
	stop: 'stop',
	eos: 'stop', // some compatible servers (older TGI) say eos
	end_turn: 'stop',
	length: 'length',
	max_tokens: 'length', // some proxies pass Anthropic's word through
	content_filter: 'content_filter',
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

function end(map: Record<string, FinishReason>, word: unknown): AnswerEnd {
	if (typeof word !== 'string' || !word) return { reason: 'unknown', providerReason: null };
	return { reason: Object.hasOwn(map, word) ? map[word] : 'unknown', providerReason: word };
}

/** OpenAI Chat Completions `finish_reason` (also what OpenAI-compatible servers send; null or absent → unknown). */
export function chatEnd(finishReason: unknown): AnswerEnd {
	return end(CHAT, finishReason);
}

/** Anthropic Messages `stop_reason`. */
export function anthropicEnd(stopReason: unknown): AnswerEnd {
	return end(ANTHROPIC, stopReason);
}

/**
 * OpenAI Responses: `status` `completed` → stop; `incomplete` with `incomplete_details.reason`
 * `max_output_tokens` → length, `content_filter` → content_filter; `in_progress` / `queued` → paused.
 * `providerReason` is the incomplete reason when there is one, else the status.
 */
export function responsesEnd(status: unknown, incompleteReason: unknown): AnswerEnd {
	if (status === 'incomplete') {
		const word = typeof incompleteReason === 'string' && incompleteReason ? incompleteReason : 'incomplete';
		const reason: FinishReason = word === 'max_output_tokens' ? 'length' : word === 'content_filter' ? 'content_filter' : 'unknown';
		return { reason, providerReason: word };
	}
	if (status === 'completed') return { reason: 'stop', providerReason: 'completed' };
	if (status === 'in_progress' || status === 'queued') return { reason: 'paused', providerReason: status };
	return { reason: 'unknown', providerReason: typeof status === 'string' ? status : null };
}
