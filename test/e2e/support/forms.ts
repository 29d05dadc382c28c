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
import { control, parseFormPage, type FormControl, type FormPage } from './form-page';

export { control, parseFormPage, type FormControl, type FormPage } from './form-page';

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

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

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
