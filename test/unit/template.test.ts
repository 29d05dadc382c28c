import { InputError } from '../../lib/errors';
import { checkVariables, isVariableName, placeholders, renderPrompt, templateIssues } from '../../lib/template';
import type { InputSpec } from '../../lib/types';
import { makeSpec } from './helpers';

describe('placeholders', () => {
	test('names in order of first use, whitespace inside braces allowed, duplicates once', () => {
		expect(placeholders('Hi {{name}}, {{ when }} and {{name}} again {{  x_1 }}')).toEqual(['name', 'when', 'x_1']);
		expect(placeholders('no variables here { single } {{}}')).toEqual(['']);
		expect(placeholders('plain')).toEqual([]);
	});

	test('isVariableName', () => {
		expect(isVariableName('subject')).toBe(true);
		expect(isVariableName('_x9')).toBe(true);
		expect(isVariableName('9x')).toBe(false);
		expect(isVariableName('a-b')).toBe(false);
		expect(isVariableName('a.b')).toBe(false);
	});
});

describe('templateIssues', () => {
	test('a placeholder without a declared input is reported for its field', () => {
		const issues = templateIssues(makeSpec({ template: '{{subject}} {{body}} {{sender}}', instructions: 'Use {{tone}}.' }));
		expect(issues).toEqual([
			{ field: 'instructions', message: expect.stringContaining('{{tone}} has no declared input: add inputs.tone') },
			{ field: 'template', message: expect.stringContaining('{{sender}} has no declared input') },
		]);
	});

	test('a placeholder that is not a variable name is reported', () => {
		const issues = templateIssues(makeSpec({ template: '{{subject}} {{body}} {{a-b}}' }));
		expect(issues).toEqual([{ field: 'template', message: expect.stringContaining('{{a-b}} is not a variable name') }]);
	});

	test('names on Object.prototype are not declared inputs: {{toString}}, {{constructor}}, {{hasOwnProperty}}', () => {
		const issues = templateIssues(makeSpec({ template: '{{subject}} {{toString}} {{constructor}}', instructions: '{{hasOwnProperty}}' }));
		expect(issues).toEqual([
			{ field: 'instructions', message: expect.stringContaining('{{hasOwnProperty}} has no declared input') },
			{ field: 'template', message: expect.stringContaining('{{toString}} has no declared input') },
			{ field: 'template', message: expect.stringContaining('{{constructor}} has no declared input') },
		]);
		// A declared input of such a name is fine.
		expect(templateIssues(makeSpec({ template: '{{constructor}}', inputs: { constructor: { type: 'string' as const, required: true } } }))).toEqual([]);
	});

	test('no issues when every placeholder is declared (unused inputs are fine)', () => {
		expect(templateIssues(makeSpec({ template: '{{subject}}' }))).toEqual([]);
	});
});

describe('checkVariables / renderPrompt', () => {
	const spec = makeSpec({
		inputs: {
			subject: { type: 'string', required: true },
			body: { type: 'string', required: true },
			count: { type: 'number', required: false },
			urgent: { type: 'boolean', required: false },
		},
		instructions: 'System for {{subject}}.',
		template: 'S={{subject}} B={{ body }} C={{count}} U={{urgent}}',
	});

	test('renders instructions and template with the variables', () => {
		const r = renderPrompt(spec, { subject: 'Prices', body: 'up 5%', count: 3, urgent: false });
		expect(r.system).toBe('System for Prices.');
		expect(r.user).toBe('S=Prices B=up 5% C=3 U=false');
		expect(r.variables).toEqual({ subject: 'Prices', body: 'up 5%', count: 3, urgent: false });
	});

	test('a missing required variable is named', () => {
		expect(() => renderPrompt(spec, { subject: 'x' })).toThrow(InputError);
		expect(() => renderPrompt(spec, { subject: 'x' })).toThrow(/prompt "price-change": required variable "body" is missing/);
		expect(() => renderPrompt(spec, { subject: 'x', body: null })).toThrow(/"body" is missing/);
	});

	test('an empty required string counts as missing', () => {
		expect(() => renderPrompt(spec, { subject: 'x', body: '' })).toThrow(/"body" is missing \(empty\)/);
	});

	test('a wrong-typed variable is named with its type and value', () => {
		expect(() => renderPrompt(spec, { subject: 'x', body: 'y', count: '3' })).toThrow(/variable "count" must be a number, got string "3"/);
		expect(() => renderPrompt(spec, { subject: 'x', body: 'y', urgent: 'yes' })).toThrow(/variable "urgent" must be a boolean/);
		expect(() => renderPrompt(spec, { subject: 42, body: 'y' })).toThrow(/variable "subject" must be a string, got number 42/);
		expect(() => renderPrompt(spec, { subject: ['a'], body: 'y' })).toThrow(/got array/);
		expect(() => renderPrompt(spec, { subject: 'x', body: 'y', count: Number.NaN })).toThrow(/"count" must be a number/);
	});

	test('a missing optional variable renders empty', () => {
		const r = renderPrompt(spec, { subject: 'a', body: 'b' });
		expect(r.user).toBe('S=a B=b C= U=');
		expect(r.variables).toEqual({ subject: 'a', body: 'b' });
	});

	test('extra variables are ignored and not rendered', () => {
		const r = renderPrompt(makeSpec({ template: '{{subject}}|{{body}}' }), { subject: 'a', body: 'b', extra: 'zzz', other: 1 });
		expect(r.user).toBe('a|b');
		expect(r.variables).toEqual({ subject: 'a', body: 'b' });
	});

	test('values are inserted verbatim (no re-expansion of braces)', () => {
		const r = renderPrompt(makeSpec({ template: '{{subject}}|{{body}}' }), { subject: '{{body}}', body: '$& $1' });
		expect(r.user).toBe('{{body}}|$& $1');
	});

	test('input names that are also Object.prototype members are plain variables', () => {
		const inputs: Record<string, InputSpec> = {};
		inputs['constructor'] = { type: 'string', required: false };
		inputs['toString'] = { type: 'string', required: false };
		const proto = makeSpec({
			inputs,
			instructions: 'x',
			template: '[{{constructor}}][{{toString}}]',
		});
		const r = renderPrompt(proto, {});
		expect(r.user).toBe('[][]');
		expect(r.variables).toEqual({});
		expect(renderPrompt(proto, { toString: 'T' }).user).toBe('[][T]');
	});

	test('checkVariables returns only declared, present variables', () => {
		expect(checkVariables('p', { a: { type: 'number', required: true } }, { a: 0, b: 'x' })).toEqual({ a: 0 });
		expect(checkVariables('p', { a: { type: 'string', required: false } }, { a: '' })).toEqual({ a: '' });
	});
});
