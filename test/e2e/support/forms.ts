/**
 * Drives n8n 2.41.1 forms over HTTP the way its own page script (templates/form-trigger.handlebars and
 * form-trigger-completion.handlebars) drives them in a browser:
 *
 *   const page = await openForm(`${server.url}/form/my-path`);     // GET, parsed: title, description, controls
 *   const next = await submitForm(page, { Name: 'Ada', 'field-2': ['yes'] });
 *   // POST multipart/form-data (field-0, field-1, … as n8n numbers the fields; hidden fields as rendered),
 *   // then, like the page script: read `{ formWaitingUrl }` (a Form Trigger with a next page) or stay on the
 *   // waiting URL (a Form page), poll `<waiting url>/n8n-execution-status?signature=…` until it says
 *   // `form-waiting` (a GET while the execution runs never answers), GET the next page and parse it.
 *   // A completion page is acknowledged with the POST its script sends on load, which ends the execution.
 *
 * Browser-side checks are applied too (a browser cannot send them otherwise): a required field left empty,
 * a dropdown value that is not one of its options, text in a number input, a date not in yyyy-mm-dd. Pass
 * `{ asBrowser: false }` to send exactly what was given.
 */
import * as path from 'node:path';

import { ensureN8nHost } from './process';

/** One control of a rendered n8n form page, in field order (n8n names them field-0, field-1, …). */
export interface FormControl {
	/** The multipart key n8n reads: `field-<index>`. */
	name: string;
	/** What n8n rendered: an input, a dropdown, a textarea, a hidden field, an HTML block, checkboxes/radios, a file input. */
	kind: 'input' | 'select' | 'textarea' | 'hidden' | 'html' | 'multiselect' | 'file';
	/** The input's `type` attribute (text, number, date, email, password) for kind 'input'. */
	type?: string;
	/** The visible label text (undefined for hidden and HTML fields). */
	label?: string;
	/** The field is marked required (class form-required): the page script refuses to submit it empty. */
	required: boolean;
	/** The value the page starts with: the default value, a hidden field's value, an HTML field's markup. */
	value: string;
	placeholder?: string;
	/** Dropdown options (without the disabled "Select an option ..." entry) or checkbox/radio labels. */
	options: string[];
	/** Options selected when the page loads. */
	selected: string[];
	/** A radio group (one choice) rather than checkboxes. */
	radio: boolean;
	/** An HTML field's rendered markup (the sanitized `html`), for kind 'html'. */
	html?: string;
}

/** A page n8n served for a form, parsed. */
export interface FormPage {
	/** 'form': a page with fields; 'completion': a Form Ending page; 'submitted': no page followed (the
	 * execution ended without a completion page: the browser shows "Form Submitted" on the old page). */
	kind: 'form' | 'completion' | 'submitted';
	/** Where a browser POSTs this page: the Form Trigger URL (with its query) or the waiting URL with `?signature=`. */
	url: string;
	/** HTTP status of the GET that served the page. */
	status: number;
	/** The form's `<h1>` title, or the completion page's title. */
	title: string;
	/** Form description / completion message as rendered (inner HTML, after n8n's sanitizer). */
	descriptionHtml: string;
	/** Every visible text of the page body, whitespace collapsed (scripts and styles left out). */
	text: string;
	controls: FormControl[];
	/** The page as served. */
	html: string;
	/** The execution behind a waiting page (from its /form-waiting/<id> URL). */
	executionId?: string;
	/** The execution's status once the page was reached (for completion pages: after the acknowledging POST). */
	executionStatus?: string;
	/** n8n's answer to the POST that led here (set by {@link submitForm}). */
	submission?: { status: number; body: string };
}

/** The page script refused to submit (what a browser would show next to the field instead of posting). */
export class FormValidationError extends Error {}

/** The execution behind the form ended badly: the browser shows "Problem submitting response". */
export class FormExecutionError extends Error {
	constructor(
		message: string,
		readonly executionStatus: string,
		readonly executionId: string | undefined,
	) {
		super(message);
	}
}

export interface FormOptions {
	/** Longest wait for the execution to reach the next page, ms (default 60 000). */
	timeoutMs?: number;
	/** Apply the page script's checks before posting (default true). */
	asBrowser?: boolean;
}

/** A value for a control: text, a dropdown option, checkbox labels (string[]), or true/false for a one-option checkbox. */
export type FormAnswer = string | number | boolean | string[];

interface CheerioSelection {
	length: number;
	attr(name: string): string | undefined;
	text(): string;
	html(): string | null;
	hasClass(name: string): boolean;
	is(selector: string): boolean;
	find(selector: string): CheerioSelection;
	parent(): CheerioSelection;
	first(): CheerioSelection;
	remove(): CheerioSelection;
	before(content: string): CheerioSelection;
	after(content: string): CheerioSelection;
	toArray(): unknown[];
	prop(name: string): unknown;
}
type CheerioRoot = ((selector: unknown) => CheerioSelection) & { root(): CheerioSelection };

let cheerioLoad: ((html: string) => CheerioRoot) | undefined;

/** cheerio from the pinned n8n host (n8n's own dependency; not one of this project). */
function load(html: string): CheerioRoot {
	if (!cheerioLoad) {
		cheerioLoad = (require(path.join(ensureN8nHost().hostDir, 'node_modules', 'cheerio')) as { load: (html: string) => CheerioRoot }).load;
	}
	return cheerioLoad(html);
}

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Elements a browser lays out as their own block or cell: their text never runs into the next one's. */
const BLOCKS = 'address, article, aside, blockquote, br, button, dd, div, dl, dt, fieldset, figcaption, figure, footer, form, h1, h2, h3, h4, h5, h6, header, hr, label, li, main, nav, ol, option, p, pre, section, select, table, tbody, td, tfoot, th, thead, tr, ul';

/** Parses a page n8n rendered for a form (form-trigger or form-trigger-completion template). */
export function parseFormPage(html: string, url: string, status = 200): FormPage {
	const $ = load(html);
	const executionId = /\/form-waiting\/([^/?#]+)/.exec(url)?.[1];
	const form = $('form#n8n-form');
	const bodyText = (): string => {
		const body = load(html);
		body('script, style, svg, noscript, template').remove();
		// Hidden parts (the "Form Submitted" card of a form page) are not on screen.
		body('[style*="display: none"], [style*="display:none"]').remove();
		// Blocks are separated on screen (as innerText separates them): "answered" and "two weeks" are two words.
		body(BLOCKS).before(' ').after(' ');
		return collapse(body('body').text());
	};
	if (!form.length) {
		const title = collapse($('.form-header h1').first().text() || $('h1').first().text());
		return {
			kind: 'completion',
			url,
			status,
			title,
			descriptionHtml: ($('.form-header p').first().html() ?? '').trim(),
			text: bodyText(),
			controls: [],
			html,
			executionId,
		};
	}
	const controls: FormControl[] = [];
	for (const element of form.find('.inputs-wrapper [id^="field-"]').toArray()) {
		const el = $(element);
		const name = el.attr('id')!;
		const labelFor = form.find(`label[for="${name}"]`).first();
		const base = { name, required: el.hasClass('form-required'), options: [] as string[], selected: [] as string[], radio: false };
		if (el.is('div.multiselect')) {
			const boxes = el.find('input.multiselect-checkbox').toArray().map((b) => $(b));
			controls.push({
				...base,
				kind: 'multiselect',
				label: collapse(el.parent().find('label.form-label').first().text()),
				value: '',
				options: boxes.map((b) => b.attr('value') ?? ''),
				selected: boxes.filter((b) => b.attr('checked') !== undefined).map((b) => b.attr('value') ?? ''),
				radio: el.attr('data-radio-select') === 'radio',
			});
		} else if (el.is('select')) {
			const options = el.find('option').toArray().map((o) => $(o));
			const real = options.filter((o) => o.attr('disabled') === undefined);
			const selected = real.filter((o) => o.attr('selected') !== undefined).map((o) => o.attr('value') ?? o.text());
			controls.push({
				...base,
				kind: 'select',
				label: collapse(labelFor.text()),
				value: selected[0] ?? '',
				options: real.map((o) => o.attr('value') ?? o.text()),
				selected,
			});
		} else if (el.is('textarea')) {
			controls.push({ ...base, kind: 'textarea', label: collapse(labelFor.text()), value: el.text(), placeholder: el.attr('placeholder') });
		} else if (el.is('input[type="hidden"]')) {
			const isHtml = el.parent().hasClass('html');
			let htmlBlock: string | undefined;
			if (isHtml) {
				const block = load(el.parent().html() ?? '');
				block(`#${name}`).remove();
				htmlBlock = (block('body').html() ?? '').trim();
			}
			controls.push({ ...base, kind: isHtml ? 'html' : 'hidden', value: el.attr('value') ?? '', html: htmlBlock });
		} else if (el.is('input[type="file"]')) {
			controls.push({ ...base, kind: 'file', label: collapse(labelFor.text()), value: '' });
		} else if (el.is('input')) {
			controls.push({
				...base,
				kind: 'input',
				type: el.attr('type') ?? 'text',
				label: collapse(labelFor.text()),
				value: el.attr('value') ?? '',
				placeholder: el.attr('placeholder'),
			});
		}
	}
	return {
		kind: 'form',
		url,
		status,
		title: collapse(form.find('.form-header h1').first().text()),
		descriptionHtml: (form.find('.form-header p').first().html() ?? '').trim(),
		text: bodyText(),
		controls,
		html,
		executionId,
	};
}

/** Finds a control by its label (exact, whitespace collapsed) or its name (`field-3`); throws listing what the page has. */
export function control(page: FormPage, key: string): FormControl {
	const found = page.controls.find((c) => c.name === key) ?? page.controls.filter((c) => c.label === key);
	if (Array.isArray(found)) {
		if (found.length === 1) return found[0];
		const have = page.controls.map((c) => `${c.name} (${c.kind}${c.label ? `: "${c.label}"` : ''})`).join(', ');
		throw new Error(`${found.length ? 'several controls are' : 'no control is'} labelled "${key}" on "${page.title}"; the page has ${have}`);
	}
	return found;
}

async function fetchText(url: string, init: RequestInit = {}, timeoutMs = 30_000): Promise<{ status: number; text: string; contentType: string }> {
	const res = await fetch(url, { redirect: 'follow', ...init, signal: AbortSignal.timeout(timeoutMs) });
	return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

/** GETs a form page (a Form Trigger's `/form/<path>` URL, or a waiting page's URL) and parses it. */
export async function openForm(url: string, opts: FormOptions = {}): Promise<FormPage> {
	const res = await fetchText(url, {}, opts.timeoutMs ?? 30_000);
	if (res.status >= 400) throw new Error(`GET ${url} answered ${res.status}: ${res.text.slice(0, 1000)}`);
	return parseFormPage(res.text, url, res.status);
}

function answerText(c: FormControl, answer: FormAnswer): string | string[] {
	if (c.kind === 'multiselect') {
		if (typeof answer === 'boolean') {
			if (c.options.length !== 1) throw new Error(`"${c.label}" has ${c.options.length} options: answer with their labels, not ${answer}`);
			return answer ? [...c.options] : [];
		}
		return Array.isArray(answer) ? answer : [String(answer)];
	}
	if (Array.isArray(answer)) throw new Error(`"${c.label ?? c.name}" is a ${c.kind}: answer with one value, not a list`);
	return String(answer);
}

function browserCheck(c: FormControl, value: string | string[]): void {
	const what = `"${c.label ?? c.name}"`;
	if (Array.isArray(value)) {
		for (const v of value) if (!c.options.includes(v)) throw new FormValidationError(`${what} has no option "${v}" (options: ${c.options.join(', ')})`);
		if (c.required && value.length === 0) throw new FormValidationError(`${what}: This field is required`);
		if (c.radio && value.length > 1) throw new FormValidationError(`${what} takes one choice`);
		return;
	}
	if (c.required && value.trim() === '') throw new FormValidationError(`${what}: This field is required`);
	if (c.kind === 'select' && value !== '' && !c.options.includes(value)) {
		throw new FormValidationError(`${what} has no option "${value}" (options: ${c.options.join(', ')})`);
	}
	if (c.kind === 'input' && c.type === 'number' && value !== '' && !Number.isFinite(Number(value))) {
		throw new FormValidationError(`${what} is a number input: a browser cannot send "${value}"`);
	}
	if (c.kind === 'input' && c.type === 'date' && value !== '' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
		throw new FormValidationError(`${what} is a date input: a browser sends yyyy-mm-dd, not "${value}"`);
	}
}

/**
 * The multipart body a browser posts for this page: every named control (hidden and HTML fields with
 * their rendered value, the others with the answer or the value they show), checkbox groups as a JSON
 * array of the checked labels. `answers` are keyed by label or field name; unknown keys throw.
 */
export function formBody(page: FormPage, answers: Record<string, FormAnswer>, asBrowser = true): FormData {
	const values = new Map<string, string | string[]>();
	for (const [key, answer] of Object.entries(answers)) {
		const c = control(page, key);
		values.set(c.name, answerText(c, answer));
	}
	const body = new FormData();
	const groups: Array<[string, string[]]> = [];
	for (const c of page.controls) {
		if (c.kind === 'file') continue;
		const value = values.get(c.name) ?? (c.kind === 'multiselect' ? c.selected : c.value);
		if (asBrowser && c.kind !== 'hidden' && c.kind !== 'html') browserCheck(c, value);
		if (c.kind === 'multiselect') groups.push([c.name, value as string[]]);
		else body.append(c.name, Array.isArray(value) ? JSON.stringify(value) : value);
	}
	for (const [name, checked] of groups) body.append(name, JSON.stringify(checked));
	return body;
}

const FINAL = new Set(['success', 'error', 'canceled', 'crashed', 'null']);

/** `<waiting url>/n8n-execution-status?signature=…` as the page script builds it. */
function statusUrl(waitingUrl: string): string {
	const u = new URL(waitingUrl);
	u.pathname = `${u.pathname}/n8n-execution-status`;
	return u.toString();
}

/**
 * Polls the execution status of a waiting URL until it is `form-waiting` or final; returns it.
 * Throws when neither happens within `timeoutMs`.
 */
export async function waitForFormStatus(waitingUrl: string, timeoutMs = 60_000): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	let delay = 100;
	let last = '';
	for (;;) {
		last = (await fetchText(statusUrl(waitingUrl))).text.trim();
		if (last === 'form-waiting' || FINAL.has(last)) return last;
		if (Date.now() > deadline) throw new Error(`${waitingUrl}: the execution is still "${last}" after ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, delay));
		delay = Math.min(1000, Math.round(delay * 1.5));
	}
}

/**
 * Follows a waiting URL to the page it leads to, as the page script does: waits for `form-waiting`,
 * GETs and parses the page; a completion page is acknowledged (its on-load POST), which ends the
 * execution, and `executionStatus` says how it ended. A failed execution throws {@link FormExecutionError}.
 */
export async function followWaitingUrl(waitingUrl: string, opts: FormOptions = {}): Promise<FormPage> {
	const timeoutMs = opts.timeoutMs ?? 60_000;
	const executionId = /\/form-waiting\/([^/?#]+)/.exec(waitingUrl)?.[1];
	const status = await waitForFormStatus(waitingUrl, timeoutMs);
	if (status !== 'form-waiting' && status !== 'success') {
		throw new FormExecutionError(`execution ${executionId} ended "${status}": the browser shows "Problem submitting response"`, status, executionId);
	}
	if (status === 'success') {
		return { kind: 'submitted', url: waitingUrl, status: 200, title: 'Form Submitted', descriptionHtml: '', text: 'Form Submitted', controls: [], html: '', executionId, executionStatus: status };
	}
	const page = await openForm(waitingUrl, opts);
	if (page.kind === 'completion') {
		// form-trigger-completion.handlebars: `fetch(postUrl, { method: 'POST', body: {} })` on load.
		const ack = await fetchText(waitingUrl, { method: 'POST', body: String({}), headers: { 'content-type': 'text/plain;charset=UTF-8' } });
		if (ack.status >= 400) throw new Error(`POST ${waitingUrl} (completion page) answered ${ack.status}: ${ack.text.slice(0, 1000)}`);
		page.executionStatus = await waitForFormStatus(waitingUrl, timeoutMs);
	} else {
		page.executionStatus = status;
	}
	return page;
}

/**
 * Submits a form page as a browser does (see the file comment) and returns the page that follows.
 * Throws {@link FormValidationError} when the page script would refuse the answers, an Error naming the
 * status when n8n refuses the POST, {@link FormExecutionError} when the execution fails before a next page.
 */
export async function submitForm(page: FormPage, answers: Record<string, FormAnswer> = {}, opts: FormOptions = {}): Promise<FormPage> {
	if (page.kind !== 'form') throw new Error(`"${page.title}" is a ${page.kind} page: there is nothing to submit`);
	const body = formBody(page, answers, opts.asBrowser ?? true);
	const res = await fetchText(page.url, { method: 'POST', body }, opts.timeoutMs ?? 60_000);
	if (res.status >= 400) throw new Error(`POST ${page.url} answered ${res.status}: ${res.text.slice(0, 1000)}`);
	let json: { formWaitingUrl?: string; redirectURL?: string } | undefined;
	try {
		json = JSON.parse(res.text) as typeof json;
	} catch {
		/* not JSON: a waiting page answers with an empty body or a page */
	}
	const submission = { status: res.status, body: res.text };
	let next: FormPage;
	if (json?.formWaitingUrl) next = await followWaitingUrl(json.formWaitingUrl, opts);
	else if (json?.redirectURL?.includes('/form-waiting/')) next = await followWaitingUrl(json.redirectURL, opts);
	else if (page.executionId) next = await followWaitingUrl(page.url, opts);
	// A Form Trigger without a next page: the browser shows the "Form Submitted" card.
	else next = { kind: 'submitted', url: page.url, status: res.status, title: 'Form Submitted', descriptionHtml: '', text: collapse(res.text), controls: [], html: res.text };
	return { ...next, submission };
}

/**
 * Polls a Form Trigger's URL until n8n serves it (n8n activates published workflows shortly after it
 * reports ready; until then the form answers 404). Throws after `timeoutMs` (default 90 s) with the server log.
 */
export async function waitForForm(url: string, server: { logs(): string }, timeoutMs = 90_000): Promise<void> {
	const until = Date.now() + timeoutMs;
	for (;;) {
		const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
		await res.text();
		if (res.status === 200) return;
		if (Date.now() > until) throw new Error(`${url} still answers ${res.status} after ${timeoutMs} ms\n${server.logs().slice(-6000)}`);
		await new Promise((r) => setTimeout(r, 300));
	}
}
