/** Core errors → n8n node errors that tell the user what to fix. */
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { ConfigError, ConfigErrors, InputError, PromptReleaseError, ProviderError, type ProviderErrorCategory } from '../../lib/errors';

export interface ErrorContext {
	itemIndex?: number;
	/** Prefix naming what failed, e.g. `item 0, signal "newPrice"`. */
	subject?: string;
	/** The prompt involved: named in the message unless the message already names it. */
	promptId?: string;
	/** Extra help shown under the message. */
	description?: string;
}

/** What to do about a provider error, by its class: only a transient failure is helped by retries or a longer timeout. */
const PROVIDER_HINTS: Record<ProviderErrorCategory, string> = {
	fatal: 'Retrying will not help: check the model credential (API key, Base URL), the account\'s plan and billing, and the prompt\'s model name.',
	input: 'This item\'s input cannot be answered by this model (too long for it, or refused by the provider\'s input filter): shorten the input or use a model with a larger context window; a filtered item needs a person.',
	transient: 'The provider failed for now: try again later, or raise Timeout / Max Retries in the node options.',
};

function hintFor(error: unknown): string | undefined {
	if (error instanceof InputError) return 'Check the node\'s Variables: every required input of the prompt needs a value of the declared type.';
	if (error instanceof ConfigError || error instanceof ConfigErrors) return 'Check the prompt registry (the Prompt Registry credential\'s folder) and the prompt/release chosen in this node.';
	if (error instanceof ProviderError) return PROVIDER_HINTS[error.category];
	return undefined;
}

/** Wrap anything thrown while handling an item into a NodeOperationError / NodeApiError with itemIndex. */
export function toNodeError(node: INode, error: unknown, context: ErrorContext = {}): NodeApiError | NodeOperationError {
	const { itemIndex, promptId } = context;
	const message = error instanceof Error ? error.message : String(error);
	const names = [context.subject, promptId && !message.includes(`"${promptId}"`) ? `prompt "${promptId}"` : undefined].filter(Boolean);
	const prefix = names.length ? `${names.join(', ')}: ` : '';
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (itemIndex !== undefined && error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
		if (context.subject && !error.message.includes(context.subject)) error.message = `${context.subject}: ${error.message}`;
		return error;
	}
	const description = [context.description, hintFor(error)].filter(Boolean).join(' ') || undefined;
	if (error instanceof ProviderError) {
		const httpCode = error.status !== undefined ? String(error.status) : undefined;
		const response: JsonObject = { message, ...(httpCode ? { httpCode } : {}) };
		return new NodeApiError(node, response, { message: `${prefix}${message}`, description, itemIndex, httpCode });
	}
	if (error instanceof PromptReleaseError) {
		return new NodeOperationError(node, `${prefix}${message}`, { itemIndex, description });
	}
	const wrapped = new NodeOperationError(node, error instanceof Error ? error : message, { itemIndex, description });
	if (prefix) wrapped.message = `${prefix}${wrapped.message}`;
	return wrapped;
}

/** The message to put in an output item when continueOnFail() is on. */
export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || /aborted/i.test(error.message));
}

/**
 * What a call cancelled by the node's abort signal throws: the node fails with the error that caused the
 * abort (kept by mapLimited as the first failure), so this one is never shown and never wraps that error again.
 */
export function cancelledError(node: INode, itemIndex: number): NodeOperationError {
	return new NodeOperationError(node, 'The execution was cancelled', { itemIndex });
}

/**
 * The `error` to put on an output item that failed under Continue On Fail: only with "Continue (using error
 * output)" (node.onError === 'continueErrorOutput'), where n8n routes items carrying `error` to the error
 * output. Under "Continue (regular output)" n8n would replace such an item's JSON by `{error}` alone, losing
 * the fields the node puts next to it (reason, trace, valid: false), so the item carries none there.
 * Source: n8n-core WorkflowExecute.handleNodeErrorOutput (n8n 2.41.1).
 */
export function errorOutputField(node: INode, error: NodeApiError | NodeOperationError): { error?: NodeApiError | NodeOperationError } {
	return node.onError === 'continueErrorOutput' ? { error } : {};
}
