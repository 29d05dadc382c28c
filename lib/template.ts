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

/** A text cut at its placeholders: literal, name, literal, name, …, literal (always an odd count). */
type Compiled = string[];

/** Texts compiled recently (instructions and templates of the prompts in use); bounded. */
const compiled = new Map<string, Compiled>();

function compile(text: string): Compiled {
	let parts = compiled.get(text);
	if (parts) return parts;
	parts = [];
	let at = 0;
	for (const m of text.matchAll(PLACEHOLDER)) {
		parts.push(text.slice(at, m.index), m[1]);
		at = m.index + m[0].length;
	}
	parts.push(text.slice(at));
	if (compiled.size >= 64) compiled.delete(compiled.keys().next().value as string);
	compiled.set(text, parts);
	return parts;
}

/** Every `{{name}}` replaced by the variable's value (empty when absent); the text is cut at its placeholders once. */
function fill(text: string, vars: Record<string, string | number | boolean>): string {
	const parts = compile(text);
	if (parts.length === 1) return text;
	let out = parts[0];
	for (let i = 1; i < parts.length; i += 2) out += (Object.hasOwn(vars, parts[i]) ? String(vars[parts[i]]) : '') + parts[i + 1];
	return out;
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
