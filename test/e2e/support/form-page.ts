/**
 * A page n8n 2.41.1 rendered for a form (templates/form-trigger.handlebars, form-trigger-completion.handlebars),
 * parsed as a person reads it: title, description, visible text, and the controls in field order with their
 * labels, types, options and hidden values. Parsed with cheerio from the pinned n8n host. Used by ./forms.ts.
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
