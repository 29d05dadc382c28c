/**
 * What Record Correction needs to know about the answer it corrects, and how it is read from each source:
 * an Extract Signal item, a Run Prompt Release item, a trace object (the review form: ./review-form.ts).
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INode } from 'n8n-workflow';

/** The part of a trace a correction needs. */
export interface CorrectionTrace {
	prompt: string;
	version?: number | 'draft';
	variables: Record<string, unknown>;
	modelOutput: unknown;
	/** Set when a channel with a canary served the call: the correction counts against that arm. */
	channel?: string;
	arm?: 'stable' | 'canary';
	canaryId?: string;
	/** The checked value the item was served with; absent when it was served none (invalid answer, error). */
	served?: { value: unknown };
}

/** A plain object (not null, not an array). */
export function isObject(value: unknown): value is IDataObject {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A `json` parameter: an object from an expression, or JSON text. */
export function objectParameter(ctx: IExecuteFunctions, name: string, label: string, itemIndex: number): IDataObject {
	const value = ctx.getNodeParameter(name, itemIndex, {}) as unknown;
	if (isObject(value)) return value;
	if (typeof value === 'string') {
		const text = value.trim();
		if (!text) return {};
		try {
			const parsed: unknown = JSON.parse(text);
			if (isObject(parsed)) return parsed;
		} catch {
			// reported below
		}
	}
	throw new NodeOperationError(ctx.getNode(), `${label} must be an object, got ${JSON.stringify(value)?.slice(0, 80)}`, { itemIndex });
}

/** A version from a trace or parameter: a number ("3", "v3"), "draft", or undefined when empty; else a NodeOperationError naming `label`. */
export function parseVersion(node: INode, value: unknown, itemIndex: number, label: string): number | 'draft' | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	if (value === 'draft') return 'draft';
	const n = typeof value === 'string' ? Number(value.trim().replace(/^v/i, '')) : Number(value);
	if (Number.isInteger(n) && n >= 1) return n;
	throw new NodeOperationError(node, `${label} must be a version number or "draft", got ${JSON.stringify(value)}`, { itemIndex });
}

/**
 * `servedValid`: whether the source item was served a checked value (Run Prompt Release `valid`, the signal
 * being in `_signals` rather than `_invalid`); unknown for a bare trace, where a value of null means none.
 */
export function checkTrace(node: INode, value: unknown, itemIndex: number, from: string, servedValid?: boolean): CorrectionTrace {
	const fix = 'Point the node at an item from Run Prompt Release or Extract Signal (its "trace"), or use Source "Manual Fields".';
	if (!isObject(value)) throw new NodeOperationError(node, `no trace found ${from}`, { itemIndex, description: fix });
	if (typeof value.prompt !== 'string' || !value.prompt) throw new NodeOperationError(node, `the trace ${from} names no prompt ("prompt" is missing)`, { itemIndex, description: fix });
	if (value.variables !== undefined && !isObject(value.variables)) {
		throw new NodeOperationError(node, `the trace ${from} has "variables" that are not an object`, { itemIndex, description: fix });
	}
	return {
		prompt: value.prompt,
		version: parseVersion(node, value.version, itemIndex, `the trace's version ${from}`),
		variables: (value.variables as Record<string, unknown> | undefined) ?? {},
		modelOutput: value.modelOutput ?? value.value ?? null,
		...(typeof value.channel === 'string' && value.channel ? { channel: value.channel } : {}),
		...(value.arm === 'stable' || value.arm === 'canary' ? { arm: value.arm } : {}),
		...(typeof value.canaryId === 'string' && value.canaryId ? { canaryId: value.canaryId } : {}),
		...((servedValid ?? (value.value !== undefined && value.value !== null)) ? { served: { value: value.value ?? null } } : {}),
	};
}

/** The trace of one signal of an Extract Signal item: the named field (invalid or valid), else its first invalid signal. */
export function traceFromSignalItem(node: INode, source: IDataObject, field: string, itemIndex: number): CorrectionTrace {
	const invalid = Array.isArray(source._invalid) ? (source._invalid as unknown[]).filter(isObject) : [];
	const signals = isObject(source._signals) ? source._signals : {};
	if (field) {
		const failed = invalid.find((e) => e.field === field);
		const entry = failed ?? (isObject(signals[field]) ? (signals[field] as IDataObject) : undefined);
		if (!entry) {
			const known = [...invalid.map((e) => String(e.field)), ...Object.keys(signals)];
			throw new NodeOperationError(node, `the item has no signal "${field}"`, {
				itemIndex,
				description: known.length ? `Signals on this item: ${[...new Set(known)].join(', ')}. Fix "Signal Field Name".` : 'The item carries no Extract Signal output (_invalid / _signals). Check "Source Item".',
			});
		}
		return checkTrace(node, entry.trace, itemIndex, `for signal "${field}"`, !failed);
	}
	const first = invalid.find((e) => isObject(e.trace));
	if (!first) {
		throw new NodeOperationError(node, 'the item has no invalid signal to correct', {
			itemIndex,
			description: 'Connect the "invalid" output of Extract Signal, or enter the signal to correct in "Signal Field Name" (valid signals can be corrected too).',
		});
	}
	return checkTrace(node, first.trace, itemIndex, `for signal "${String(first.field)}"`, false);
}
