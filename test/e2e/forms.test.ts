/**
 * The form driver (./support/forms.ts) against n8n's own form nodes in a real n8n 2.41.1: a Form Trigger,
 * a Code node building a JSON field list, a Form page whose fields come from an expression, a completion page.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FormValidationError, control, openForm, submitForm, waitForForm } from './support/forms';
import { createN8n, type N8nInstance, type N8nServer } from './support/n8n';

const MINUTE = 60_000;
const FORM_PATH = 'prompt-release-forms-e2e';

const FIELDS = [
	{ fieldType: 'hiddenField', fieldName: 'caseId', fieldValue: 'case-42 <b>&' },
	{ fieldType: 'html', html: '<p>The model said <b>two weeks</b></p><script>alert(1)</script>', elementName: 'shown' },
	{ fieldLabel: 'Price change?', fieldName: 'value', fieldType: 'dropdown', fieldOptions: { values: [{ option: 'true' }, { option: 'false' }, { option: 'not stated' }] }, requiredField: true },
	{ fieldLabel: 'Effective date', fieldName: 'date', fieldType: 'date' },
	{ fieldLabel: 'Delay in days (0 to 365)', fieldName: 'days', fieldType: 'number', placeholder: '0 to 365' },
	{ fieldLabel: 'Empty number', fieldName: 'emptyNumber', fieldType: 'number' },
	{ fieldLabel: 'Not stated', fieldName: 'notStated', fieldType: 'checkbox', fieldOptions: { values: [{ option: 'not stated' }] } },
	{ fieldLabel: 'Unchecked', fieldName: 'unchecked', fieldType: 'checkbox', fieldOptions: { values: [{ option: 'x' }] } },
	{ fieldLabel: 'Note <i>', fieldName: 'note', fieldType: 'text' },
	{ fieldLabel: 'Long note', fieldName: 'longNote', fieldType: 'textarea' },
	{ fieldLabel: 'Label only', fieldType: 'text' },
];

function workflow() {
	const node = (name: string, type: string, typeVersion: number, parameters: object, x: number, extra: object = {}) => ({
		id: `forms-${name.toLowerCase().replace(/\W+/g, '-')}`,
		name,
		type,
		typeVersion,
		position: [x, 0],
		parameters,
		...extra,
	});
	return {
		id: 'formsE2eWorkflow',
		name: 'e2e forms',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			node(
				'Start',
				'n8n-nodes-base.formTrigger',
				2.6,
				{
					formTitle: 'Forms e2e',
					formDescription: 'Start <b>here</b>',
					formFields: { values: [{ fieldLabel: 'Reviewer', requiredField: true }] },
					options: { path: FORM_PATH },
				},
				0,
				{ webhookId: '5e0d7c0e-0000-4000-8000-0000000f0001' },
			),
			node(
				'Build fields',
				'n8n-nodes-base.code',
				2,
				{
					jsCode: `if ($json.Reviewer === 'fail') throw new Error('No case for ' + $json.Reviewer + ': out of range');\nreturn [{ json: { fields: ${JSON.stringify(FIELDS)}, description: '<b>Email</b> from ' + $json.Reviewer + ' <script>x()</script> &amp; more' } }];`,
				},
				220,
				{ onError: 'continueErrorOutput' },
			),
			node(
				'Answer',
				'n8n-nodes-base.form',
				2.5,
				{ operation: 'page', defineForm: 'json', jsonOutput: '={{ $json.fields }}', options: { formTitle: 'Case', formDescription: '={{ $json.description }}', buttonLabel: 'Record' } },
				440,
				{ webhookId: '5e0d7c0e-0000-4000-8000-0000000f0002' },
			),
			node(
				'Done',
				'n8n-nodes-base.form',
				2.5,
				{ operation: 'completion', respondWith: 'text', completionTitle: 'Recorded', completionMessage: '=output:{{ encodeURIComponent(JSON.stringify($json)) }}', options: {} },
				660,
				{ webhookId: '5e0d7c0e-0000-4000-8000-0000000f0003' },
			),
			node(
				'Failed',
				'n8n-nodes-base.form',
				2.5,
				{ operation: 'completion', respondWith: 'text', completionTitle: 'Not recorded', completionMessage: '={{ $json.error }}', options: {} },
				441,
				{ webhookId: '5e0d7c0e-0000-4000-8000-0000000f0004' },
			),
		],
		connections: {
			Start: { main: [[{ node: 'Build fields', type: 'main', index: 0 }]] },
			'Build fields': { main: [[{ node: 'Answer', type: 'main', index: 0 }], [{ node: 'Failed', type: 'main', index: 0 }]] },
			Answer: { main: [[{ node: 'Done', type: 'main', index: 0 }]] },
		},
	};
}

/** The JSON the "Done" page carries (URI-encoded, so n8n's HTML sanitizer leaves it whole). */
function doneOutput(text: string): Record<string, unknown> {
	const m = /output:(\S+)/.exec(text);
	if (!m) throw new Error(`no output on the completion page: ${text}`);
	return JSON.parse(decodeURIComponent(m[1])) as Record<string, unknown>;
}

describe('n8n forms over HTTP, as a browser submits them (test/e2e/support/forms.ts)', () => {
	let tmp: string;
	let n8n: N8nInstance;
	let server: N8nServer;
	let formUrl: string;

	beforeAll(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-forms-'));
		n8n = await createN8n();
		const file = path.join(tmp, 'workflow.json');
		fs.writeFileSync(file, JSON.stringify(workflow()));
		await n8n.importWorkflow(file);
		await n8n.publishWorkflow('formsE2eWorkflow');
		server = await n8n.startServer();
		formUrl = `${server.url}/form/${FORM_PATH}`;
		await waitForForm(formUrl, server);
	}, 10 * MINUTE);

	afterAll(async () => {
		await n8n?.dispose();
		if (tmp && process.env.PROMPT_RELEASE_E2E_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
	});

	test(
		'Form Trigger → JSON-defined Form page → completion: fields render by type, the answers arrive keyed by fieldName',
		async () => {
			const start = await openForm(formUrl);
			expect(start).toMatchObject({ kind: 'form', title: 'Forms e2e', descriptionHtml: 'Start <b>here</b>' });
			expect(start.controls).toEqual([expect.objectContaining({ name: 'field-0', kind: 'input', type: 'text', label: 'Reviewer', required: true })]);
			// The page script refuses an empty required field: nothing is posted.
			await expect(submitForm(start, {})).rejects.toThrow(FormValidationError);

			const page = await submitForm(start, { Reviewer: 'Ada' });
			// A Form Trigger followed by a Form page answers the POST with the waiting URL, not a redirect.
			expect(page.submission?.status).toBe(200);
			const waiting = (JSON.parse(page.submission!.body) as { formWaitingUrl: string }).formWaitingUrl;
			expect(waiting).toMatch(new RegExp(`^${server.url}/form-waiting/\\d+\\?signature=[0-9a-f]{64}$`));
			expect(page).toMatchObject({ kind: 'form', url: waiting, title: 'Case', executionStatus: 'form-waiting' });
			// The description (an expression) is sanitized: markup kept, script dropped.
			expect(page.descriptionHtml).toBe('<b>Email</b> from Ada  &amp; more');
			const kinds = page.controls.map((c) => [c.name, c.kind, c.type ?? '', c.label ?? '']);
			expect(kinds).toEqual([
				['field-0', 'hidden', '', ''],
				['field-1', 'html', '', ''],
				['field-2', 'select', '', 'Price change?'],
				['field-3', 'input', 'date', 'Effective date'],
				['field-4', 'input', 'number', 'Delay in days (0 to 365)'],
				['field-5', 'input', 'number', 'Empty number'],
				['field-6', 'multiselect', '', 'Not stated'],
				['field-7', 'multiselect', '', 'Unchecked'],
				// JSON mode escapes < and > in every string but `html`, and the template escapes again: users see the entities.
				['field-8', 'input', 'text', 'Note &lt;i&gt;'],
				['field-9', 'textarea', '', 'Long note'],
				['field-10', 'input', 'text', 'Label only'],
			]);
			expect(control(page, 'field-0').value).toBe('case-42 &lt;b&gt;&');
			expect(control(page, 'field-1').html).toBe('<p>The model said <b>two weeks</b></p>');
			expect(control(page, 'Price change?')).toMatchObject({ required: true, options: ['true', 'false', 'not stated'], selected: [] });
			expect(control(page, 'Delay in days (0 to 365)').placeholder).toBe('0 to 365');
			expect(control(page, 'Not stated')).toMatchObject({ options: ['not stated'], radio: false });
			// What a browser cannot send.
			await expect(submitForm(page, { 'Price change?': 'perhaps' })).rejects.toThrow(/has no option "perhaps"/);
			await expect(submitForm(page, { 'Price change?': 'true', 'Delay in days (0 to 365)': 'two weeks' })).rejects.toThrow(/number input/);
			await expect(submitForm(page, { 'Price change?': 'true', 'Effective date': '1 April 2025' })).rejects.toThrow(/yyyy-mm-dd/);

			const done = await submitForm(page, {
				'Price change?': 'not stated',
				'Effective date': '2025-04-01',
				'Delay in days (0 to 365)': 400,
				'Not stated': true,
				'Note &lt;i&gt;': '  hi  ',
				'Long note': 'a\nb',
				'Label only': 'x',
			});
			expect(done).toMatchObject({ kind: 'completion', title: 'Recorded', executionStatus: 'success', executionId: page.executionId });
			expect(JSON.parse(done.submission!.body)).toEqual({ formWaitingUrl: waiting });
			const { submittedAt, ...answers } = doneOutput(done.text);
			expect(typeof submittedAt).toBe('string');
			expect(answers).toEqual({
				caseId: 'case-42 &lt;b&gt;&', // a hidden field posts back what JSON mode made of it
				shown: '<p>The model said <b>two weeks</b></p>', // an html field's elementName gets its (sanitized) markup
				value: 'not stated',
				date: '2025-04-01', // the date input's yyyy-mm-dd text
				days: 400, // Number(): no range check in n8n
				emptyNumber: 0, // an empty number field arrives as 0
				notStated: ['not stated'], // checkboxes: the checked labels
				unchecked: [],
				note: 'hi', // text is trimmed
				longNote: 'a\r\nb', // multipart line breaks
				'Label only': 'x', // no fieldName: the label is the key
				formMode: 'production',
			});
		},
		3 * MINUTE,
	);

	test(
		"a node failing into its error output reaches a completion page that shows the error, and the execution succeeds",
		async () => {
			const done = await submitForm(await openForm(formUrl), { Reviewer: 'fail' });
			expect(done).toMatchObject({ kind: 'completion', title: 'Not recorded', executionStatus: 'success' });
			expect(done.text).toContain('No case for fail: out of range');
		},
		2 * MINUTE,
	);
});
