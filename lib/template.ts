import { InputError } from './errors';
import type { InputSpec, PromptSpec } from './types';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isVariableName(name: string): boolean {
	return VARIABLE_NAME.test(name);
}

/** Names used as `{{name}}` in a text, in order of first use. */
export function placeholders(text: string): string[] {
	const seen = new Set<string>();
	for (const m of text.matchAll(PLACEHOLDER)) seen.add(m[1]);
	return [...seen];
}

/** Problems with the placeholders of instructions and template, relative to the declared inputs. */
export function templateIssues(spec: Pick<PromptSpec, 'inputs' | 'instructions' | 'template'>): Array<{ field: 'instructions' | 'template'; message: string }> {
	const issues: Array<{ field: 'instructions' | 'template'; message: string }> = [];
	for (const field of ['instructions', 'template'] as const) {
		for (const name of placeholders(spec[field] ?? '')) {
			if (!isVariableName(name)) {
				issues.push({ field, message: `placeholder {{${name}}} is not a variable name (letters, digits, "_")` });
			} else if (!Object.hasOwn(spec.inputs ?? {}, name)) {
				issues.push({ field, message: `placeholder {{${name}}} has no declared input: add inputs.${name} or remove the placeholder` });
			}
		}
	}
	return issues;
}

function typeOf(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'array';
	return typeof value;
}

/** Check variables against the declared inputs: required present, declared type. Extra variables are ignored. */
export function checkVariables(promptId: string, inputs: Record<string, InputSpec>, vars: Record<string, unknown>): Record<string, string | number | boolean> {
	const out: Record<string, string | number | boolean> = {};
	for (const [name, spec] of Object.entries(inputs)) {
		const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
		if (value === undefined || value === null || (spec.type === 'string' && value === '' && spec.required)) {
			if (spec.required) {
				throw new InputError(
					`prompt "${promptId}": required variable "${name}" is missing${value === '' ? ' (empty)' : ''}. Map it in the node's Variables or add it to the fixture's inputs.`,
				);
			}
			continue;
		}
		if (typeof value !== spec.type || (spec.type === 'number' && !Number.isFinite(value))) {
			const shown = JSON.stringify(value);
			throw new InputError(
				`prompt "${promptId}": variable "${name}" must be a ${spec.type}, got ${typeOf(value)} ${shown && shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}.`,
			);
		}
		out[name] = value as string | number | boolean;
	}
	return out;
}

function fill(text: string, vars: Record<string, string | number | boolean>): string {
	return text.replace(PLACEHOLDER, (_all, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : ''));
}

export interface RenderedPrompt {
	system: string;
	user: string;
	variables: Record<string, string | number | boolean>;
}

/** Render instructions (system) and template (user message) with checked variables. */
export function renderPrompt(spec: PromptSpec, vars: Record<string, unknown>): RenderedPrompt {
	const variables = checkVariables(spec.id, spec.inputs, vars);
	return { system: fill(spec.instructions, variables), user: fill(spec.template, variables), variables };
}
