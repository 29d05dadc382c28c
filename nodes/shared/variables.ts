/**
 * Prompt variables from a node's "Variables From" / "Variables" parameters: mapped name/value pairs
 * (values usually expressions) and, optionally, the item's JSON fields named like the prompt's inputs.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';
import { coerceInput } from '../../lib/coerce';
import { directValue, itemParameter, storedParameters } from './json-expressions';
import type { InputSpec } from '../../lib/types';

export type VariableSource = 'mapping' | 'itemJson';

interface MappedVariable {
	name?: unknown;
	value?: unknown;
}

/**
 * The raw variables of one item. `declared` lists the input names the item's prompts declare
 * (only those are taken from the item JSON). Mapped values override item fields.
 */
export function readVariables(ctx: IExecuteFunctions, itemIndex: number, declared: Iterable<string>): Record<string, unknown> {
	const source = itemParameter(ctx, 'variableSource', itemIndex, 'mapping') as VariableSource;
	const out: Record<string, unknown> = {};
	if (source === 'itemJson') {
		const json: IDataObject = ctx.getInputData()[itemIndex]?.json ?? {};
		for (const name of declared) if (json[name] !== undefined) out[name] = json[name];
	}
	const mapped = mappedDirectly(ctx, itemIndex) ?? (ctx.getNodeParameter('variables.variable', itemIndex, []) as MappedVariable[]) ?? [];
	mapped.forEach((entry, position) => {
		const name = typeof entry.name === 'string' ? entry.name.trim() : '';
		if (!name) {
			throw new NodeOperationError(ctx.getNode(), `Variables: entry ${position + 1} has no name`, {
				itemIndex,
				description: 'Enter the name of an input the prompt declares (the {{name}} used in its template), or remove the entry.',
			});
		}
		out[name] = entry.value;
	});
	return out;
}

/**
 * The mapped variables without n8n's expression engine when every entry is a plain name with a plain value
 * or a simple `{{ $json.… }}` field that resolves (./json-expressions.ts); undefined: let n8n evaluate them.
 */
function mappedDirectly(ctx: IExecuteFunctions, itemIndex: number): MappedVariable[] | undefined {
	const collection = (storedParameters(ctx) as { variables?: { variable?: unknown } }).variables?.variable;
	if (collection === undefined) return [];
	if (!Array.isArray(collection)) return undefined;
	const out: MappedVariable[] = [];
	for (const entry of collection as MappedVariable[]) {
		if (entry === null || typeof entry !== 'object' || (typeof entry.name === 'string' && entry.name.startsWith('='))) return undefined;
		const value = directValue(ctx, entry.value, itemIndex);
		if (!value) return undefined;
		out.push({ name: entry.name, value: value.value });
	}
	return out;
}

/**
 * Convert what n8n mapping produces towards the declared input types: "12.5" → 12.5 for number inputs,
 * "true"/"yes" → true for boolean inputs, numbers/booleans → text for string inputs.
 * Anything that does not convert is passed on unchanged, so the core reports it by name.
 */
export function coerceVariables(inputs: Record<string, InputSpec>, raw: Record<string, unknown>): Record<string, unknown> {
	const out: Record<string, unknown> = { ...raw };
	for (const [name, spec] of Object.entries(inputs)) {
		const value = raw[name];
		if (value === undefined || value === null) continue;
		if (spec.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) out[name] = String(value);
		else if (spec.type !== 'string' && typeof value === 'string' && value.trim() !== '') out[name] = coerceInput(spec.type, value.trim());
	}
	return out;
}
