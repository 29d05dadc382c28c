/**
 * The review form (lib/review/form.ts): fields for every declared output kind, accepted by n8n's own
 * form-field check; the description escapes hostile email text; a simulated browser submission through the
 * Form node's conversions comes back as a value of the declared type, and bad entries get errors naming the
 * field and what to enter.
 */
import { validateFieldType } from 'n8n-workflow';
import { answerFields, escapeHtml, NOT_STATED, ReviewFormError, reviewForm, valueFromSubmission, type FormFieldJson } from '../../lib/review/form';
import { reviewCaseId, type ReviewCase } from '../../lib/review/types';
import type { OutputSchema } from '../../lib/types';
import { submitForm } from '../support/form-submission';

function reviewCase(over: Partial<ReviewCase> = {}): ReviewCase {
	const inputs = over.inputs ?? { email_body: 'The new unit price is 12.50 EUR.' };
	return {
		id: reviewCaseId(inputs),
		promptId: 'new-unit-price',
		kind: 'invalid',
		version: 2,
		inputs,
		modelOutput: 'twelve fifty',
		reason: 'invalid model output: not a number',
		firstSeen: '2026-03-01T10:00:00.000Z',
		lastSeen: '2026-03-02T10:00:00.000Z',
		occurrences: 2,
		status: 'pending',
		...over,
	};
}

/** The round trip: fields for the schema → what the analyst enters → the Form node's item → the value. */
function roundTrip(schema: OutputSchema, entered: Record<string, string | string[]>): unknown {
	const { fields } = reviewForm(reviewCase(), schema);
	return valueFromSubmission(schema, submitForm(fields, entered));
}

function errorOf(schema: OutputSchema, entered: Record<string, string | string[]>): string {
	try {
		roundTrip(schema, entered);
	} catch (error) {
		expect(error).toBeInstanceOf(ReviewFormError);
		return (error as Error).message;
	}
	throw new Error('expected a ReviewFormError');
}

const byName = (fields: FormFieldJson[]) => Object.fromEntries(fields.map((f) => [f.fieldName, f]));

/** n8n's own check of JSON-defined Form fields (what the Form node runs on `jsonOutput`). */
function n8nAccepts(fields: FormFieldJson[]): void {
	const check = validateFieldType('jsonOutput', JSON.stringify(fields), 'form-fields');
	expect(check).toMatchObject({ valid: true });
}

const SCHEMAS: Record<string, OutputSchema> = {
	boolean: { type: 'boolean' },
	nullableBoolean: { type: 'boolean', nullable: true },
	enum: { type: 'string', enum: ['low', 'high'], nullable: true },
	integer: { type: 'integer', minimum: 0, maximum: 100 },
	nullableNumber: { type: 'number', minimum: 0, nullable: true },
	date: { type: 'string', format: 'date', nullable: true },
	shortText: { type: 'string', maxLength: 80 },
	longText: { type: 'string', maxLength: 500, nullable: true },
	freeText: { type: 'string' },
	object: {
		type: 'object',
		properties: {
			price: { type: 'number', minimum: 0, description: 'the new unit price' },
			currency: { type: 'string', enum: ['EUR', 'USD'] },
			validFrom: { type: 'string', format: 'date', nullable: true },
			increase: { type: 'boolean' },
		},
	},
};

describe('review form fields', () => {
	test.each(Object.entries(SCHEMAS))('%s: n8n accepts the fields; hidden caseId and prompt come first', (_, schema) => {
		const kase = reviewCase();
		const form = reviewForm(kase, schema, 3);
		n8nAccepts(form.fields);
		expect(form.fields.slice(0, 2)).toEqual([
			{ fieldLabel: 'caseId', fieldType: 'hiddenField', fieldName: 'caseId', fieldValue: kase.id },
			{ fieldLabel: 'prompt', fieldType: 'hiddenField', fieldName: 'prompt', fieldValue: 'new-unit-price' },
		]);
		expect(form.title).toBe('Review: new-unit-price');
	});

	test('boolean and enum: a required dropdown; nullable adds the not-stated option', () => {
		expect(answerFields(SCHEMAS.boolean)).toEqual([{ fieldLabel: 'Correct answer', fieldType: 'dropdown', fieldName: 'value', requiredField: true, fieldOptions: { values: [{ option: 'true' }, { option: 'false' }] } }]);
		expect(answerFields(SCHEMAS.nullableBoolean)[0].fieldOptions!.values.map((v) => v.option)).toEqual(['true', 'false', NOT_STATED]);
		expect(answerFields(SCHEMAS.enum)).toEqual([
			{ fieldLabel: 'Correct answer', fieldType: 'dropdown', fieldName: 'value', requiredField: true, fieldOptions: { values: [{ option: 'low' }, { option: 'high' }, { option: NOT_STATED }] } },
		]);
	});

	test('numbers: a number field with the range in label and placeholder; a nullable number is a text field (n8n posts an empty number field as 0) with a not-stated checkbox', () => {
		const [integer] = answerFields(SCHEMAS.integer);
		expect(integer).toMatchObject({ fieldType: 'number', fieldName: 'value', requiredField: true });
		expect(integer.fieldLabel).toContain('a whole number from 0 to 100');
		expect(integer.placeholder).toContain('from 0 to 100');
		const fields = answerFields(SCHEMAS.nullableNumber);
		expect(fields.map((f) => [f.fieldType, f.fieldName, f.requiredField])).toEqual([
			['text', 'value', false],
			['checkbox', 'notStated', false],
		]);
		expect(fields[0].fieldLabel).toContain('a number 0 or more');
		expect(fields[1].fieldOptions).toEqual({ values: [{ option: NOT_STATED }] });
	});

	test('dates get a date field; free text a text field up to 200 characters, else a textarea', () => {
		expect(answerFields(SCHEMAS.date).map((f) => f.fieldType)).toEqual(['date', 'checkbox']);
		expect(answerFields(SCHEMAS.shortText)).toEqual([{ fieldLabel: 'Correct answer (at most 80 characters)', fieldType: 'text', fieldName: 'value', requiredField: true }]);
		expect(answerFields(SCHEMAS.longText).map((f) => f.fieldType)).toEqual(['textarea', 'checkbox']);
		expect(answerFields(SCHEMAS.freeText).map((f) => f.fieldType)).toEqual(['textarea']);
	});

	test('objects: one field per property named value.<property>, its description in the label', () => {
		const fields = byName(answerFields(SCHEMAS.object));
		expect(Object.keys(fields)).toEqual(['value.price', 'value.currency', 'value.validFrom', 'notStated.validFrom', 'value.increase']);
		expect(fields['value.price']).toMatchObject({ fieldType: 'number', requiredField: true });
		expect(fields['value.price'].fieldLabel).toBe('price (a number 0 or more) — the new unit price');
		expect(fields['value.currency'].fieldOptions!.values.map((v) => v.option)).toEqual(['EUR', 'USD']);
		expect(fields['value.validFrom']).toMatchObject({ fieldType: 'date', requiredField: false });
		expect(fields['value.increase']).toMatchObject({ fieldType: 'dropdown', requiredField: true });
	});
});

describe('review form description', () => {
	const hostile = 'Hi <script>alert("pwned")</script> & <img src=x onerror=alert(1)> it\'s "urgent" & cheap';

	test('escapes the email, the model answer and the reason; keeps only its own tags', () => {
		const kase = reviewCase({ inputs: { email_body: hostile, subject: 'Re: <b>price</b>' }, modelOutput: '</div><script>x()</script>', reason: 'refused: <i>no</i>' });
		const { description } = reviewForm(kase, SCHEMAS.nullableNumber, 4);
		expect(description).not.toMatch(/<script|<img|<i>|<\/?div><script/i);
		expect(description).toContain(escapeHtml(hostile));
		expect(description).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt; it&#39;s');
		expect(description).toContain('&lt;/div&gt;&lt;script&gt;x()&lt;/script&gt;');
		expect(description).toContain('refused: &lt;i&gt;no&lt;/i&gt;');
		// Every tag left is one the description writes itself.
		expect([...new Set(description.match(/<\/?[a-z]+/g))].sort()).toEqual(['</b', '</div', '</p', '<b', '<div', '<p']);
		expect(description).toContain('Input: email_body');
		expect(description).toContain('Input: subject');
		expect(description).toContain('version 2');
		expect(description).toContain('4 cases waiting');
	});

	test('an audit case says so and shows the checked value as JSON', () => {
		const { description } = reviewForm(reviewCase({ kind: 'audit', reason: 'audit sample', modelOutput: { price: 12.5 } }), SCHEMAS.object);
		expect(description).toContain('Audit sample');
		expect(description).toContain(`<div>${escapeHtml(JSON.stringify({ price: 12.5 }))}</div>`);
	});

	test('line breaks of an email stay line breaks, and the text wraps (a <div>, not a <pre>)', () => {
		const { description } = reviewForm(reviewCase({ inputs: { email_body: 'Dear buyer,\r\nprices rise <5%>.\nRegards' } }), SCHEMAS.boolean);
		expect(description).toContain('<div>Dear buyer,<br>prices rise &lt;5%&gt;.<br>Regards</div>');
		expect(description).not.toContain('<pre');
	});

	test('a model answer of null shows as none; very long inputs are cut with a note', () => {
		const { description } = reviewForm(reviewCase({ modelOutput: null, inputs: { email_body: 'x'.repeat(25_000) } }), SCHEMAS.boolean);
		expect(description).toContain('<div>(none)</div>');
		expect(description).toContain('5000 more characters not shown');
	});
});

describe('form submission → value of the declared type', () => {
	test('boolean, enum and their not-stated option', () => {
		expect(roundTrip(SCHEMAS.boolean, { value: 'true' })).toBe(true);
		expect(roundTrip(SCHEMAS.boolean, { value: 'false' })).toBe(false);
		expect(roundTrip(SCHEMAS.nullableBoolean, { value: NOT_STATED })).toBeNull();
		expect(roundTrip(SCHEMAS.enum, { value: 'high' })).toBe('high');
		expect(roundTrip(SCHEMAS.enum, { value: 'HIGH' })).toBe('high');
		expect(roundTrip(SCHEMAS.enum, { value: NOT_STATED })).toBeNull();
	});

	test('numbers: the range is enforced, integers are whole, not stated is null', () => {
		expect(roundTrip(SCHEMAS.integer, { value: '14' })).toBe(14);
		expect(roundTrip(SCHEMAS.integer, { value: '0' })).toBe(0);
		expect(roundTrip(SCHEMAS.nullableNumber, { value: '12.5' })).toBe(12.5);
		expect(roundTrip(SCHEMAS.nullableNumber, { notStated: [NOT_STATED] })).toBeNull();
		// The Form node posts an empty number field as 0 (Number("")): with the box checked, that 0 is the empty field.
		expect(roundTrip(SCHEMAS.nullableNumber, { value: '', notStated: [NOT_STATED] })).toBeNull();
		expect(valueFromSubmission(SCHEMAS.integer, { value: ' 42 ' })).toBe(42);
	});

	test('dates, text and objects', () => {
		expect(roundTrip(SCHEMAS.date, { value: '2026-03-01' })).toBe('2026-03-01');
		expect(roundTrip(SCHEMAS.date, { notStated: [NOT_STATED] })).toBeNull();
		expect(roundTrip(SCHEMAS.shortText, { value: '  ACME Metals  ' })).toBe('ACME Metals');
		expect(roundTrip(SCHEMAS.longText, { value: 'line one\nline two' })).toBe('line one\nline two');
		expect(roundTrip(SCHEMAS.object, { 'value.price': '12.5', 'value.currency': 'EUR', 'value.validFrom': '2026-04-01', 'value.increase': 'true' })).toEqual({
			price: 12.5,
			currency: 'EUR',
			validFrom: '2026-04-01',
			increase: true,
		});
		expect(roundTrip(SCHEMAS.object, { 'value.price': '9', 'value.currency': 'USD', 'notStated.validFrom': [NOT_STATED], 'value.increase': 'false' })).toEqual({
			price: 9,
			currency: 'USD',
			validFrom: null,
			increase: false,
		});
		// An object mapped by hand (value: {…}) is read too.
		expect(valueFromSubmission(SCHEMAS.object, { value: { price: 1, currency: 'EUR', validFrom: null, increase: true }, notStated: { validFrom: ['x'] } })).toEqual({ price: 1, currency: 'EUR', validFrom: null, increase: true });
	});

	test('values out of range, not whole, not a number: the error names the field and the range', () => {
		expect(errorOf(SCHEMAS.integer, { value: '150' })).toBe('form field "value": 150 is out of range: enter a whole number from 0 to 100');
		expect(errorOf(SCHEMAS.integer, { value: '2.5' })).toContain('2.5 is not a whole number: enter a whole number from 0 to 100');
		expect(errorOf(SCHEMAS.nullableNumber, { value: '-1' })).toContain('-1 is out of range: enter a number 0 or more');
		expect(valueFromSubmissionError(SCHEMAS.integer, { value: '1.234,50' })).toContain('"1.234,50" is not a number: enter a whole number from 0 to 100 (with a decimal point');
	});

	test('a value that is not one of the enum values: the error lists them', () => {
		expect(errorOf(SCHEMAS.enum, { value: 'medium' })).toBe(`form field "value": "medium" is not one of the allowed values: choose one of: low, high, or ${NOT_STATED}`);
		expect(errorOf(SCHEMAS.boolean, { value: 'maybe' })).toContain('"maybe" is not true or false');
		expect(errorOf(SCHEMAS.boolean, { value: NOT_STATED })).toContain(`"${NOT_STATED}" is not allowed here: enter true or false`);
	});

	test('dates in another format, empty required fields, too long text, value and not stated both', () => {
		expect(errorOf(SCHEMAS.date, { value: '01.03.2026' })).toContain('"01.03.2026" is not a calendar date: enter a date written YYYY-MM-DD (e.g. 2026-03-01)');
		expect(errorOf(SCHEMAS.date, { value: '2026-02-30' })).toContain('is not a calendar date');
		expect(errorOf(SCHEMAS.date, {})).toBe(`form field "value" is empty: enter a date written YYYY-MM-DD (e.g. 2026-03-01), or check "${NOT_STATED}"`);
		expect(errorOf(SCHEMAS.freeText, { value: '   ' })).toBe('form field "value" is empty: enter text');
		expect(errorOf(SCHEMAS.boolean, {})).toBe('form field "value" is empty: choose true or false');
		expect(errorOf(SCHEMAS.nullableNumber, { value: "" })).toBe(`form field "value" is empty: enter a number 0 or more, or check "${NOT_STATED}"`);
		expect(errorOf(SCHEMAS.shortText, { value: 'x'.repeat(81) })).toBe('form field "value" has 81 characters: enter text of at most 80 characters');
		expect(errorOf(SCHEMAS.nullableNumber, { value: '5', notStated: [NOT_STATED] })).toContain(`both a value ("5") and "${NOT_STATED}" were given`);
		expect(errorOf(SCHEMAS.date, { value: '2026-03-01', notStated: [NOT_STATED] })).toContain('both a value');
	});

	test('an object lists every field that does not fit', () => {
		const message = errorOf(SCHEMAS.object, { 'value.price': '-3', 'value.currency': 'GBP', 'value.validFrom': '', 'value.increase': 'true' });
		expect(message).toContain('form field "value.price": -3 is out of range: enter a number 0 or more');
		expect(message).toContain('form field "value.currency": "GBP" is not one of the allowed values: choose one of: EUR, USD');
		expect(message).toContain('form field "value.validFrom" is empty');
		expect(message).not.toContain('value.increase');
	});
});

function valueFromSubmissionError(schema: OutputSchema, submission: Record<string, unknown>): string {
	try {
		valueFromSubmission(schema, submission);
	} catch (error) {
		return (error as Error).message;
	}
	throw new Error('expected an error');
}

describe('a case queued again after it was closed', () => {
	test('shows the earlier answer (the fixture value) or the dismissal, escaped', () => {
		const answered = reviewCase({ previous: { status: 'resolved', at: '2026-03-01T10:00:00.000Z', fixtureId: 'correction-1', by: 'ana' } });
		expect(reviewForm(answered, SCHEMAS.boolean, 1, { expected: true }).description).toContain('<p><b>Answered before</b> by ana at 2026-03-01T10:00:00.000Z: the fixture expects <b>true</b>.');
		expect(reviewForm(answered, SCHEMAS.boolean).description).toContain('(fixture correction-1)');
		const dismissed = reviewCase({ previous: { status: 'dismissed', at: '2026-03-01T10:00:00.000Z', reason: 'spam <b>' } });
		expect(reviewForm(dismissed, SCHEMAS.boolean).description).toContain('<p><b>Dismissed before</b> at 2026-03-01T10:00:00.000Z: spam &lt;b&gt;</p>');
		expect(reviewForm(reviewCase(), SCHEMAS.boolean).description).not.toContain('before</b>');
	});
});
