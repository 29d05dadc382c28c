/**
 * One call of a resolved prompt: render → model → parse → validate → (one repair call) → result.
 * A value is returned as valid only after it passed the declared schema.
 */
import { costUsd } from './pricing';
import { ProviderError } from './errors';
import { parseModelOutput, toWireJsonSchema, describeSchema } from './schema';
import { renderPrompt } from './template';
import type { ChatTurn, Provider } from './providers/types';
import type { PriceTable } from './registry/store';
import type { CallMeta, CallResult, ResolvedPrompt } from './types';

export interface RunPromptOptions {
	pricing?: PriceTable;
	signal?: AbortSignal;
}

function repairMessage(reason: string, resolved: ResolvedPrompt): string {
	return [
		`Your answer was rejected: ${reason}.`,
		`Answer again with only a JSON object that matches this JSON Schema, and nothing else:`,
		describeSchema(resolved.spec.output),
	].join('\n');
}

/**
 * Throws InputError for missing/wrong variables (before any model call) and ProviderError when the
 * provider fails after its retries. Everything the model answers ends up in the result, valid or not.
 */
export async function runPrompt(resolved: ResolvedPrompt, variables: Record<string, unknown>, provider: Provider, options: RunPromptOptions = {}): Promise<CallResult> {
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
	};
	const started = performance.now();
	const call = async (messages: ChatTurn[]) => {
		meta.calls++;
		const response = await provider.complete({
			model: spec.model,
			system: rendered.system,
			messages,
			jsonSchema,
			schemaName: resolved.promptId.replace(/[^A-Za-z0-9_-]/g, '_'),
			signal: options.signal,
		});
		meta.inputTokens += response.usage.inputTokens;
		meta.outputTokens += response.usage.outputTokens;
		return response.text;
	};
	const finish = () => {
		meta.latencyMs = Math.round(performance.now() - started);
		meta.costUsd = costUsd(options.pricing ?? {}, spec.model.provider, spec.model.name, meta.inputTokens, meta.outputTokens);
	};

	try {
		const messages: ChatTurn[] = [{ role: 'user', content: rendered.user }];
		const first = await call(messages);
		const parsed = parseModelOutput(spec.output, first);
		if (parsed.ok) {
			finish();
			return { valid: true, value: parsed.value, rawOutput: first, meta };
		}
		// Exactly one repair call that shows the model its error.
		const second = await call([...messages, { role: 'assistant', content: first || '(empty)' }, { role: 'user', content: repairMessage(parsed.reason, resolved) }]);
		const reparsed = parseModelOutput(spec.output, second);
		finish();
		if (reparsed.ok) {
			meta.repaired = true;
			return { valid: true, value: reparsed.value, rawOutput: second, meta };
		}
		return {
			valid: false,
			reason: `invalid model output after one repair attempt: ${reparsed.reason} (first answer: ${parsed.reason})`,
			rawOutput: second,
			meta,
		};
	} catch (error) {
		finish();
		if (error instanceof ProviderError) error.meta = meta;
		throw error;
	}
}
