/**
 * The review form of a case, both directions, framework-free:
 * - `reviewForm`: the n8n Form node's JSON-defined fields for the prompt's declared output type, a title,
 *   and a safe HTML description (the inputs, what the model answered, why it was doubted);
 * - `valueFromSubmission`: the submitted form item back to a value of the declared type, with errors that
 *   name the form field and say what to enter.
 *
 * Field names (the keys of the submitted item, n8n Form node version 2.4 or later):
 *   caseId, prompt            hidden fields: the submission names its case by itself
 *   value                     the answer of a scalar output; `value.<property>` per property of an object output
 *   notStated                 the "not stated" checkbox of a nullable number, date or free-text answer
 *                             (`notStated.<property>` for object properties); dropdowns offer NOT_STATED instead
 * The n8n form posts a number field through Number() (an empty one arrives as 0), so only required numbers
 * use a number field (the browser does not submit it empty); a nullable number is a text field. n8n trims
 * text fields and sends a checkbox as the list of checked option labels.
 */
import { InputError } from '../errors';
import { validateValue } from '../schema';
import type { ObjectSchema, OutputSchema, OutputValue, ScalarSchema, ScalarValue } from '../types';
import type { ReviewCase, ReviewClosing } from './types';

/** The dropdown option, and the checkbox option, that mean "the source does not state it" (null). */
export const NOT_STATED = 'Not stated (null)';

/** Free text longer than this (or without a maxLength) gets a textarea. */
const TEXTAREA_FROM = 200;

/** Inputs longer than this many characters are cut in the description (the form stays readable). */
const MAX_SHOWN_CHARS = 20_000;

/** One field of the n8n Form node in JSON mode (keys as n8n-workflow's ALLOWED_FORM_FIELDS_KEYS). */
export interface FormFieldJson {
	fieldLabel: string;
	fieldType: 'checkbox' | 'date' | 'dropdown' | 'hiddenField' | 'number' | 'text' | 'textarea';
	/** The key of the field in the submitted item. */
	fieldName: string;
	placeholder?: string;
	requiredField?: boolean;
	fieldOptions?: { values: Array<{ option: string }> };
	/** hiddenField only: the value it posts. */
	fieldValue?: string;
}

/** What the Form node page shows for one case. */
export interface ReviewFormDefinition {
	/** Plain text (n8n escapes it). */
	title: string;
	/** HTML in which every value from the case (inputs, model answer, reason) is escaped. */
	description: string;
	fields: FormFieldJson[];
}

/** A submitted value that does not fit the declared type: the message names the form field(s) and what to enter. */
export class ReviewFormError extends InputError {}

/** Escape text for HTML content and attribute values (& < > " '). */
export function escapeHtml(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function rangeText(s: { minimum?: number; maximum?: number }): string | undefined {
	if (s.minimum !== undefined && s.maximum !== undefined) return `from ${s.minimum} to ${s.maximum}`;
	if (s.minimum !== undefined) return `${s.minimum} or more`;
	if (s.maximum !== undefined) return `${s.maximum} or less`;
	return undefined;
}

function isEnum(s: ScalarSchema): s is Extract<ScalarSchema, { enum: string[] }> {
	return s.type === 'string' && 'enum' in s && Array.isArray(s.enum);
}

function isDate(s: ScalarSchema): boolean {
	return s.type === 'string' && 'format' in s && s.format === 'date';
}

function maxLengthOf(s: ScalarSchema): number | undefined {
	return s.type === 'string' && 'maxLength' in s ? s.maxLength : undefined;
}

/** What to enter for a schema, in words: "a whole number from 0 to 100", "one of: a, b", … */
export function expectedText(s: ScalarSchema): string {
	let text: string;
	if (s.type === 'boolean') text = 'true or false';
	else if (s.type === 'integer' || s.type === 'number') {
		const range = rangeText(s);
		text = `${s.type === 'integer' ? 'a whole number' : 'a number'}${range ? ` ${range}` : ''}`;
	} else if (isEnum(s)) text = `one of: ${s.enum.join(', ')}`;
	else if (isDate(s)) text = 'a date written YYYY-MM-DD (e.g. 2026-03-01)';
	else {
		const max = maxLengthOf(s);
		text = max !== undefined ? `text of at most ${max} characters` : 'text';
	}
	return s.nullable ? `${text}, or ${NOT_STATED}` : text;
}

const options = (values: string[]) => ({ values: values.map((option) => ({ option })) });

/** The answer field(s) of one scalar: `name` is the answer's field name, `notStatedName` the checkbox's. */
function scalarFields(s: ScalarSchema, label: string, name: string, notStatedName: string): FormFieldJson[] {
	const hint = s.description ? ` — ${s.description}` : '';
	if (s.type === 'boolean' || isEnum(s)) {
		const values = s.type === 'boolean' ? ['true', 'false'] : (s as { enum: string[] }).enum;
		return [{ fieldLabel: `${label}${hint}`, fieldType: 'dropdown', fieldName: name, requiredField: true, fieldOptions: options(s.nullable ? [...values, NOT_STATED] : values) }];
	}
	let field: FormFieldJson;
	if (s.type === 'integer' || s.type === 'number') {
		const range = rangeText(s);
		field = {
			fieldLabel: `${label} (${expectedText({ ...s, nullable: false })})${hint}`,
			// n8n posts an empty number field as 0, which would record 0 for "no value": a nullable number is a
			// text field (empty stays empty and is refused unless "not stated" is checked); a required one stays a
			// number field, which the browser does not submit empty.
			fieldType: s.nullable ? 'text' : 'number',
			fieldName: name,
			placeholder: `${s.type === 'integer' ? 'e.g. 14' : 'e.g. 12.5'}${range ? `, ${range}` : ''}`,
		};
	} else if (isDate(s)) {
		field = { fieldLabel: `${label} (date)${hint}`, fieldType: 'date', fieldName: name };
	} else {
		const max = maxLengthOf(s);
		field = {
			fieldLabel: `${label}${max !== undefined ? ` (at most ${max} characters)` : ''}${hint}`,
			fieldType: max !== undefined && max <= TEXTAREA_FROM ? 'text' : 'textarea',
			fieldName: name,
		};
	}
	if (!s.nullable) return [{ ...field, requiredField: true }];
	return [
		{ ...field, requiredField: false },
		{ fieldLabel: `${label}: not stated`, fieldType: 'checkbox', fieldName: notStatedName, requiredField: false, fieldOptions: options([NOT_STATED]) },
	];
}

/** The answer fields for a declared output type (no hidden fields): one per scalar, one per object property. */
export function answerFields(schema: OutputSchema): FormFieldJson[] {
	if (schema.type !== 'object') return scalarFields(schema, 'Correct answer', 'value', 'notStated');
	return Object.entries(schema.properties).flatMap(([prop, s]) => scalarFields(s, prop, `value.${prop}`, `notStated.${prop}`));
}

function shown(value: unknown): string {
	if (value === null || value === undefined) return '(none)';
	const text = typeof value === 'string' ? value : JSON.stringify(value);
	return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}\n… (${text.length - MAX_SHOWN_CHARS} more characters not shown)` : text;
}

/**
 * One labelled block of the description; the text is escaped and its line breaks kept as <br>. A <div>, not
 * a <pre>: n8n's form card does not wrap a <pre>, so a long email line would run out of it.
 */
function block(label: string, value: unknown): string {
	return `<p><b>${escapeHtml(label)}</b></p><div>${escapeHtml(shown(value)).replace(/\r?\n/g, '<br>')}</div>`;
}

/** A case queued again after it was closed: how it was closed then (and the fixture's value now, when given). */
function earlierBlock(previous: ReviewClosing, earlier?: { expected: unknown }): string {
	const by = previous.by ? ` by ${previous.by}` : '';
	if (previous.status === 'dismissed') return `<p><b>Dismissed before</b>${escapeHtml(by)} at ${escapeHtml(previous.at)}: ${escapeHtml(previous.reason ?? '')}</p>`;
	const value = earlier ? `: the fixture expects <b>${escapeHtml(shown(earlier.expected))}</b>` : previous.fixtureId ? ` (fixture ${escapeHtml(previous.fixtureId)})` : '';
	return `<p><b>Answered before</b>${escapeHtml(by)} at ${escapeHtml(previous.at)}${value}. The model got these inputs wrong again; enter the right answer (the same one confirms it).</p>`;
}

/**
 * The form of a case: hidden caseId and prompt, then the answer fields for `output` (the declared output
 * type of the version that answered). `pending`: how many cases wait, shown in the description. `earlier`:
 * for a case queued again after it was answered, the fixture that answer wrote (its value is shown).
 */
export function reviewForm(kase: ReviewCase, output: OutputSchema, pending?: number, earlier?: { expected: unknown }): ReviewFormDefinition {
	const why = kase.kind === 'audit' ? 'Audit sample: a valid answer drawn for a person to check.' : `The answer was not valid: ${kase.reason}`;
	const where = [
		`Prompt ${kase.promptId}, ${kase.version === 'draft' ? 'draft' : `version ${kase.version}`}`,
		kase.channel ? `channel ${kase.channel}${kase.arm ? ` (${kase.arm})` : ''}` : undefined,
		`queued ${kase.occurrences} time${kase.occurrences === 1 ? '' : 's'} (first ${kase.firstSeen}, last ${kase.lastSeen})`,
		pending !== undefined ? `${pending} case${pending === 1 ? '' : 's'} waiting` : undefined,
	].filter(Boolean);
	const description = [
		`<p><b>Why this case is here:</b> ${escapeHtml(why)}</p>`,
		block('What the model answered', kase.modelOutput),
		...(kase.previous ? [earlierBlock(kase.previous, earlier)] : []),
		...Object.entries(kase.inputs).map(([name, value]) => block(`Input: ${name}`, value)),
		`<p>${escapeHtml(where.join('; '))}. Enter the right answer below.</p>`,
	].join('');
	return {
		title: `Review: ${kase.promptId}`,
		description,
		fields: [
			{ fieldLabel: 'caseId', fieldType: 'hiddenField', fieldName: 'caseId', fieldValue: kase.id },
			{ fieldLabel: 'prompt', fieldType: 'hiddenField', fieldName: 'prompt', fieldValue: kase.promptId },
			...answerFields(output),
		],
	};
}

// ---------------------------------------------------------------------------------------------------------
// The reverse: a submitted form item → a value of the declared type.

/** A field of the submission: the flat key n8n writes ("value.price"), else the nested path (value → price). */
function read(submission: Record<string, unknown>, name: string): unknown {
	if (Object.hasOwn(submission, name)) return submission[name];
	const dot = name.indexOf('.');
	if (dot < 0) return undefined;
	const parent = submission[name.slice(0, dot)];
	return parent && typeof parent === 'object' && !Array.isArray(parent) ? (parent as Record<string, unknown>)[name.slice(dot + 1)] : undefined;
}

/** A checkbox: the list of checked labels (or its JSON text), or true. */
function checked(value: unknown): boolean {
	if (value === true) return true;
	let v = value;
	if (typeof v === 'string') {
		const t = v.trim();
		if (t === '' || t === 'false') return false;
		try {
			v = JSON.parse(t);
		} catch {
			return t === NOT_STATED || t === 'true';
		}
	}
	return Array.isArray(v) ? v.length > 0 : v === true;
}

function isEmpty(value: unknown): boolean {
	return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** One scalar answer; a returned string is the problem (what to enter), thrown by the caller with the field name. */
function scalarFrom(s: ScalarSchema, raw: unknown, notStated: boolean): { value: ScalarValue } | { problem: string } {
	const what = expectedText(s);
	const dropdown = s.type === 'boolean' || isEnum(s);
	const saysNotStated = typeof raw === 'string' && raw.trim() === NOT_STATED;
	const blank = isEmpty(raw);
	if (notStated || saysNotStated) {
		if (!s.nullable) return { problem: `"${NOT_STATED}" is not allowed here: enter ${what}` };
		if (notStated && !blank && !saysNotStated) return { problem: `both a value (${JSON.stringify(raw)}) and "${NOT_STATED}" were given: enter ${what.replace(`, or ${NOT_STATED}`, '')} or check "${NOT_STATED}", not both` };
		return { value: null };
	}
	if (isEmpty(raw)) {
		if (s.nullable && !dropdown) return { problem: `is empty: enter ${what.replace(`, or ${NOT_STATED}`, '')}, or check "${NOT_STATED}"` };
		return { problem: `is empty: ${dropdown ? 'choose' : 'enter'} ${what}` };
	}
	if (s.type === 'boolean') {
		if (typeof raw === 'boolean') return { value: raw };
		const t = String(raw).trim().toLowerCase();
		if (t === 'true') return { value: true };
		if (t === 'false') return { value: false };
		return { problem: `${JSON.stringify(raw)} is not true or false: choose ${what}` };
	}
	if (s.type === 'integer' || s.type === 'number') {
		const n = typeof raw === 'number' ? raw : typeof raw === 'string' && NUMBER.test(raw.trim()) ? Number(raw.trim()) : NaN;
		if (!Number.isFinite(n)) return { problem: `${JSON.stringify(raw)} is not a number: enter ${what} (with a decimal point and no thousands separators, e.g. 1234.5)` };
		if (s.type === 'integer' && !Number.isInteger(n)) return { problem: `${n} is not a whole number: enter ${what}` };
		if ((s.minimum !== undefined && n < s.minimum) || (s.maximum !== undefined && n > s.maximum)) return { problem: `${n} is out of range: enter ${what}` };
		return { value: n };
	}
	const text = typeof raw === 'string' ? raw.trim() : String(raw);
	if (isEnum(s)) {
		if (s.enum.includes(text)) return { value: text };
		const folded = s.enum.filter((v) => v.toLowerCase() === text.toLowerCase());
		if (folded.length === 1) return { value: folded[0] };
		return { problem: `${JSON.stringify(text)} is not one of the allowed values: choose ${what}` };
	}
	if (isDate(s)) {
		if (validateValue({ type: 'string', format: 'date' }, text).ok) return { value: text };
		return { problem: `${JSON.stringify(text)} is not a calendar date: enter ${what}` };
	}
	const max = maxLengthOf(s);
	if (max !== undefined && text.length > max) return { problem: `has ${text.length} characters: enter ${what}` };
	return { value: text };
}

/**
 * The answer of a submitted review form as a value of `schema` (the declared output type of the case's
 * version): fields named as `answerFields` names them. Strings are converted (numbers, true/false), a
 * "not stated" checkbox or option becomes null. Throws ReviewFormError naming every field that does not fit
 * and what to enter (range, allowed values, date format).
 */
export function valueFromSubmission(schema: OutputSchema, submission: Record<string, unknown>): OutputValue {
	if (schema.type !== 'object') {
		const result = scalarFrom(schema, read(submission, 'value'), checked(read(submission, 'notStated')));
		if ('problem' in result) throw new ReviewFormError(`form field "value"${fieldProblem(result.problem)}`);
		return result.value;
	}
	return objectFrom(schema, submission);
}

function fieldProblem(problem: string): string {
	return problem.startsWith('is ') || problem.startsWith('has ') ? ` ${problem}` : `: ${problem}`;
}

function objectFrom(schema: ObjectSchema, submission: Record<string, unknown>): Record<string, ScalarValue> {
	const out: Record<string, ScalarValue> = {};
	const problems: string[] = [];
	for (const [prop, s] of Object.entries(schema.properties)) {
		const result = scalarFrom(s, read(submission, `value.${prop}`), checked(read(submission, `notStated.${prop}`)));
		if ('problem' in result) problems.push(`form field "value.${prop}"${fieldProblem(result.problem)}`);
		else out[prop] = result.value;
	}
	if (problems.length) throw new ReviewFormError(problems.join('; '));
	return out;
}
