import { parseModelOutput } from '../../lib/answer/read';
import {
	describeSchema,
	parseOutputSchema,
	toWireJsonSchema,
	validateValue,
	valuesEqual,
	type SchemaIssue,
} from '../../lib/schema';
import type { OutputSchema } from '../../lib/types';

function ok(schema: OutputSchema, value: unknown) {
	return validateValue(schema, value).ok;
}

function parse(raw: unknown, at: Array<string | number> = ['output']) {
	const issues: SchemaIssue[] = [];
	const schema = parseOutputSchema(raw, at, issues);
	return { schema, issues };
}

describe('validateValue: scalar types and bounds', () => {
	test('boolean accepts only booleans', () => {
		const s: OutputSchema = { type: 'boolean' };
		expect(ok(s, true)).toBe(true);
		expect(ok(s, false)).toBe(true);
		expect(ok(s, 'true')).toBe(false);
		expect(ok(s, 1)).toBe(false);
		expect(ok(s, null)).toBe(false);
		expect(ok(s, undefined)).toBe(false);
	});

	test('integer: whole numbers only, never coerced', () => {
		const s: OutputSchema = { type: 'integer' };
		expect(ok(s, 12)).toBe(true);
		expect(ok(s, -3)).toBe(true);
		expect(ok(s, 0)).toBe(true);
		expect(ok(s, '12')).toBe(false);
		expect(ok(s, 1.5)).toBe(false);
		expect(ok(s, Number.NaN)).toBe(false);
		expect(ok(s, Infinity)).toBe(false);
		expect(ok(s, true)).toBe(false);
	});

	test('integer minimum and maximum are inclusive', () => {
		const s: OutputSchema = { type: 'integer', minimum: 0, maximum: 10 };
		expect(ok(s, 0)).toBe(true);
		expect(ok(s, 10)).toBe(true);
		expect(ok(s, -1)).toBe(false);
		expect(ok(s, 11)).toBe(false);
		const r = validateValue(s, 11);
		expect(r.ok).toBe(false);
		if (!r.ok) expect(r.reason).toMatch(/declared schema/);
	});

	test('number: finite numbers, decimals allowed, bounds', () => {
		const s: OutputSchema = { type: 'number', minimum: 0.5, maximum: 2.5 };
		expect(ok(s, 1.25)).toBe(true);
		expect(ok(s, 0.5)).toBe(true);
		expect(ok(s, 2.5)).toBe(true);
		expect(ok(s, 0.49)).toBe(false);
		expect(ok(s, 2.51)).toBe(false);
		expect(ok(s, '1.25')).toBe(false);
		expect(ok({ type: 'number' }, Infinity)).toBe(false);
		expect(ok({ type: 'number' }, Number.NaN)).toBe(false);
	});

	test('string enum: only listed values', () => {
		const s: OutputSchema = { type: 'string', enum: ['low', 'medium', 'high'] };
		expect(ok(s, 'low')).toBe(true);
		expect(ok(s, 'LOW')).toBe(false);
		expect(ok(s, 'urgent')).toBe(false);
		expect(ok(s, 1)).toBe(false);
		expect(ok(s, null)).toBe(false);
	});

	test('string date: YYYY-MM-DD and a real calendar day', () => {
		const s: OutputSchema = { type: 'string', format: 'date' };
		expect(ok(s, '2026-03-05')).toBe(true);
		expect(ok(s, '2024-02-29')).toBe(true); // leap year
		expect(ok(s, '2026-02-30')).toBe(false);
		expect(ok(s, '2025-02-29')).toBe(false); // not a leap year
		expect(ok(s, '2026-13-01')).toBe(false);
		expect(ok(s, '2026-00-10')).toBe(false);
		expect(ok(s, '2026-04-31')).toBe(false);
		expect(ok(s, '2026-3-5')).toBe(false);
		expect(ok(s, '05/03/2026')).toBe(false);
		expect(ok(s, '2026-03-05T00:00:00Z')).toBe(false);
		expect(ok(s, ' 2026-03-05')).toBe(false);
		expect(ok(s, 20260305)).toBe(false);
		const r = validateValue(s, '2026-02-30');
		expect(r.ok).toBe(false);
		if (!r.ok) expect(r.reason).toMatch(/calendar date written YYYY-MM-DD/);
	});

	test('string date: years below 100 are real years too', () => {
		const s: OutputSchema = { type: 'string', format: 'date' };
		expect(ok(s, '0099-12-31')).toBe(true);
		expect(ok(s, '0004-02-29')).toBe(true);
		expect(ok(s, '0099-02-29')).toBe(false);
	});

	test('string maxLength and plain string', () => {
		expect(ok({ type: 'string', maxLength: 3 }, 'abc')).toBe(true);
		expect(ok({ type: 'string', maxLength: 3 }, 'abcd')).toBe(false);
		expect(ok({ type: 'string' }, '')).toBe(true);
		expect(ok({ type: 'string' }, 5)).toBe(false);
	});

	test('nullable allows null for every scalar type, and only when declared', () => {
		const schemas: OutputSchema[] = [
			{ type: 'boolean' },
			{ type: 'integer', minimum: 1 },
			{ type: 'number' },
			{ type: 'string', enum: ['a'] },
			{ type: 'string', format: 'date' },
			{ type: 'string', maxLength: 2 },
		];
		for (const s of schemas) {
			expect(ok(s, null)).toBe(false);
			expect(ok({ ...s, nullable: true } as OutputSchema, null)).toBe(true);
		}
		// nullable does not loosen the type
		expect(ok({ type: 'integer', nullable: true }, '3')).toBe(false);
		expect(ok({ type: 'integer', nullable: true }, undefined)).toBe(false);
	});
});

describe('validateValue: validators reused for equal schemas', () => {
	test('a fresh copy of a schema (a draft read again) checks the same; a schema that differs in any bound is checked by its own', () => {
		const short: OutputSchema = { type: 'string', maxLength: 3 };
		expect(ok(short, 'abcd')).toBe(false);
		expect(ok(structuredClone(short), 'abcd')).toBe(false);
		expect(ok({ type: 'string', maxLength: 10 }, 'abcd')).toBe(true);
		expect(ok({ type: 'string' }, 'abcd')).toBe(true);
		const people: OutputSchema = { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } };
		expect(ok(structuredClone(people), { n: 0 })).toBe(false);
		expect(ok({ type: 'object', properties: { n: { type: 'integer', minimum: 0 } } }, { n: 0 })).toBe(true);
		expect(ok({ type: 'object', properties: { n: { type: 'integer', minimum: 1, nullable: true } } }, { n: null })).toBe(true);
		expect(ok(structuredClone(people), { n: null })).toBe(false);
	});
});

describe('validateValue: objects', () => {
	const s: OutputSchema = {
		type: 'object',
		properties: {
			price: { type: 'number', minimum: 0 },
			currency: { type: 'string', enum: ['EUR', 'USD'] },
			effective: { type: 'string', format: 'date', nullable: true },
		},
	};

	test('all properties present and valid', () => {
		expect(validateValue(s, { price: 12.5, currency: 'EUR', effective: null })).toEqual({ ok: true, value: { price: 12.5, currency: 'EUR', effective: null } });
	});

	test('strict: an extra key is rejected and named', () => {
		const r = validateValue(s, { price: 1, currency: 'EUR', effective: null, extra: 1 });
		expect(r.ok).toBe(false);
		if (!r.ok) expect(r.reason).toMatch(/extra/);
	});

	test('a missing nullable property is optional and becomes null; a missing non-nullable one is rejected', () => {
		expect(validateValue(s, { price: 1, currency: 'EUR' })).toEqual({ ok: true, value: { price: 1, currency: 'EUR', effective: null } });
		const r = validateValue(s, { currency: 'EUR', effective: null });
		expect(r.ok).toBe(false);
		if (!r.ok) expect(r.reason).toMatch(/"price": Required/);
		expect(parseModelOutput(s, '{"price": 2, "currency": "USD"}')).toEqual({ ok: true, value: { price: 2, currency: 'USD', effective: null } });
		// Nullable still means the value may be null, not any type.
		expect(ok(s, { price: 1, currency: 'EUR', effective: 5 })).toBe(false);
		// On the wire every property stays required (OpenAI strict mode), the nullable one typed [t, "null"].
		expect(toWireJsonSchema(s)).toMatchObject({ required: ['price', 'currency', 'effective'], properties: { effective: { type: ['string', 'null'] } } });
	});

	test('a wrong-typed property is named', () => {
		const r = validateValue(s, { price: '1', currency: 'EUR', effective: null });
		expect(r.ok).toBe(false);
		if (!r.ok) expect(r.reason).toMatch(/"price"/);
	});

	test('non-objects are rejected', () => {
		expect(ok(s, null)).toBe(false);
		expect(ok(s, [1, 'EUR', null])).toBe(false);
		expect(ok(s, 'x')).toBe(false);
	});
});

describe('parseModelOutput', () => {
	const bool: OutputSchema = { type: 'boolean' };
	const int: OutputSchema = { type: 'integer', minimum: 0 };

	test('unwraps {"value": …} for scalar outputs', () => {
		expect(parseModelOutput(bool, '{"value": true}')).toEqual({ ok: true, value: true });
		expect(parseModelOutput(int, '{"value": 14}')).toEqual({ ok: true, value: 14 });
		expect(parseModelOutput({ type: 'integer', nullable: true }, '{"value": null}')).toEqual({ ok: true, value: null });
	});

	test('accepts a bare JSON scalar', () => {
		expect(parseModelOutput(bool, 'false')).toEqual({ ok: true, value: false });
		expect(parseModelOutput(int, ' 3 ')).toEqual({ ok: true, value: 3 });
	});

	test('tolerates a Markdown code fence, with or without a language', () => {
		expect(parseModelOutput(bool, '```json\n{"value": true}\n```')).toEqual({ ok: true, value: true });
		expect(parseModelOutput(bool, '```\n{"value": false}\n```\n')).toEqual({ ok: true, value: false });
		expect(parseModelOutput(bool, '  ```json {"value": true}```')).toEqual({ ok: true, value: true });
	});

	test('never coerces: "12" is not an integer, 1.5 is not an integer', () => {
		const a = parseModelOutput(int, '{"value": "12"}');
		expect(a.ok).toBe(false);
		const b = parseModelOutput(int, '{"value": 1.5}');
		expect(b.ok).toBe(false);
		const c = parseModelOutput(bool, '{"value": "true"}');
		expect(c.ok).toBe(false);
	});

	test('wrong keys in the wrapper are rejected and listed', () => {
		const r = parseModelOutput(bool, '{"answer": true}');
		expect(r).toEqual({ ok: false, reason: expect.stringContaining('["answer"]') });
		const r2 = parseModelOutput(bool, '{"value": true, "why": "x"}');
		expect(r2.ok).toBe(false);
		if (!r2.ok) expect(r2.reason).toMatch(/"value","why"/);
	});

	test('not JSON and empty answers are reasons, not exceptions', () => {
		const r = parseModelOutput(bool, 'Yes, it does.');
		expect(r.ok).toBe(false);
		if (!r.ok) expect(r.reason).toMatch(/not JSON: "Yes, it does\."/);
		const e = parseModelOutput(bool, '   ');
		expect(e).toEqual({ ok: false, reason: 'the model returned an empty answer' });
		const long = parseModelOutput(bool, 'x'.repeat(500));
		if (!long.ok) expect(long.reason.length).toBeLessThan(200);
	});

	test('object outputs: must be an object with exactly the properties', () => {
		const s: OutputSchema = { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'string' } } };
		expect(parseModelOutput(s, '{"a": 1, "b": "x"}')).toEqual({ ok: true, value: { a: 1, b: 'x' } });
		const notObj = parseModelOutput(s, '[1, "x"]');
		expect(notObj.ok).toBe(false);
		if (!notObj.ok) expect(notObj.reason).toMatch(/a, b/);
		// The object wrapped as {"value": {…}} is the same object (lib/answer/unwrap.ts).
		expect(parseModelOutput(s, '{"value": {"a": 1, "b": "x"}}')).toEqual({ ok: true, value: { a: 1, b: 'x' } });
		expect(parseModelOutput(s, '{"a": "1", "b": "x"}').ok).toBe(false);
	});

	test('bounds and enums are enforced on model output', () => {
		expect(parseModelOutput(int, '{"value": -1}').ok).toBe(false);
		expect(parseModelOutput({ type: 'string', enum: ['a', 'b'] }, '{"value": "c"}').ok).toBe(false);
		expect(parseModelOutput({ type: 'string', format: 'date' }, '{"value": "2026-02-30"}').ok).toBe(false);
	});
});

describe('toWireJsonSchema', () => {
	test('a scalar travels as {"value": …}, required, no additional properties', () => {
		expect(toWireJsonSchema({ type: 'boolean' })).toEqual({
			type: 'object',
			properties: { value: { type: 'boolean' } },
			required: ['value'],
			additionalProperties: false,
		});
	});

	test('bounds, enum and date format carried; nullable as [type, "null"]', () => {
		const w = toWireJsonSchema({ type: 'integer', minimum: 0, maximum: 60, nullable: true }) as { properties: { value: Record<string, unknown> } };
		expect(w.properties.value).toMatchObject({ type: ['integer', 'null'], minimum: 0, maximum: 60 });
		const e = toWireJsonSchema({ type: 'string', enum: ['a', 'b'], nullable: true }) as { properties: { value: Record<string, unknown> } };
		expect(e.properties.value).toMatchObject({ type: ['string', 'null'], enum: ['a', 'b', null] });
		const d = toWireJsonSchema({ type: 'string', format: 'date' }) as { properties: { value: Record<string, unknown> } };
		expect(d.properties.value).toMatchObject({ type: 'string', format: 'date' });
		expect(String(d.properties.value.description)).toMatch(/YYYY-MM-DD/);
	});

	test('an object: every property required, additionalProperties false', () => {
		const w = toWireJsonSchema({
			type: 'object',
			description: 'price update',
			properties: { price: { type: 'number' }, note: { type: 'string', nullable: true } },
		});
		expect(w).toMatchObject({
			type: 'object',
			description: 'price update',
			required: ['price', 'note'],
			additionalProperties: false,
			properties: { price: { type: 'number' }, note: { type: ['string', 'null'] } },
		});
	});

	test('describeSchema is the wire schema as JSON', () => {
		expect(JSON.parse(describeSchema({ type: 'boolean' }))).toEqual(toWireJsonSchema({ type: 'boolean' }));
	});
});

describe('parseOutputSchema', () => {
	test('parses every supported shape', () => {
		expect(parse({ type: 'boolean' }).schema).toEqual({ type: 'boolean' });
		expect(parse({ type: 'integer', minimum: 0, maximum: 5, nullable: true }).schema).toEqual({ type: 'integer', minimum: 0, maximum: 5, nullable: true });
		expect(parse({ type: 'string', enum: ['a', 'b'] }).schema).toEqual({ type: 'string', enum: ['a', 'b'] });
		expect(parse({ type: 'string', format: 'date' }).schema).toEqual({ type: 'string', format: 'date' });
		expect(parse({ type: 'string', maxLength: 20 }).schema).toEqual({ type: 'string', maxLength: 20 });
		const obj = parse({ type: 'object', properties: { a: { type: 'boolean' }, b: { type: 'number' } } });
		expect(obj.issues).toEqual([]);
		expect(obj.schema).toEqual({ type: 'object', properties: { a: { type: 'boolean' }, b: { type: 'number' } } });
	});

	test('unknown type: error at <path>.type listing the types', () => {
		const { schema, issues } = parse({ type: 'float' });
		expect(schema).toBeUndefined();
		expect(issues).toEqual([{ path: ['output', 'type'], message: expect.stringMatching(/unknown schema type "float".*boolean, integer, number, string or object/) }]);
	});

	test('the top-level hint offers "object" also inside a frozen version (prompt.output)', () => {
		const { issues } = parse({ type: 'float' }, ['prompt', 'output']);
		expect(issues[0].path).toEqual(['prompt', 'output', 'type']);
		expect(issues[0].message).toMatch(/or object/);
	});

	test('nested objects are refused at the property path', () => {
		const { schema, issues } = parse({ type: 'object', properties: { inner: { type: 'object', properties: { x: { type: 'boolean' } } } } });
		expect(schema).toBeUndefined();
		expect(issues).toEqual([{ path: ['output', 'properties', 'inner', 'type'], message: expect.stringMatching(/only appear at the top level/) }]);
		expect(issues[0].message).not.toMatch(/or object/);
	});

	test('bad enums: empty, non-strings, duplicates', () => {
		expect(parse({ type: 'string', enum: [] }).issues).toEqual([{ path: ['output', 'enum'], message: expect.stringMatching(/non-empty list/) }]);
		expect(parse({ type: 'string', enum: ['a', 2] }).issues[0].path).toEqual(['output', 'enum']);
		expect(parse({ type: 'string', enum: 'a' }).issues[0].path).toEqual(['output', 'enum']);
		expect(parse({ type: 'string', enum: ['a', 'a'] }).issues).toEqual([{ path: ['output', 'enum'], message: 'has duplicate values' }]);
	});

	test('unknown keys are named with their path and the allowed keys', () => {
		const { issues } = parse({ type: 'boolean', minimum: 1 });
		expect(issues).toEqual([{ path: ['output', 'minimum'], message: expect.stringMatching(/unknown key "minimum".*allowed are type, nullable, description/) }]);
		const obj = parse({ type: 'object', properties: { a: { type: 'integer', maxLength: 3 } }, required: ['a'] });
		expect(obj.schema).toBeUndefined();
		expect(obj.issues.map((i) => i.path)).toEqual(
			expect.arrayContaining([
				['output', 'required'],
				['output', 'properties', 'a', 'maxLength'],
			]),
		);
		expect(parse({ type: 'string', enum: ['a'], maxLength: 3 }).issues[0].path).toEqual(['output', 'maxLength']);
	});

	test('bound and option errors', () => {
		expect(parse({ type: 'number', minimum: 'one' }).issues).toEqual([{ path: ['output', 'minimum'], message: 'must be a number' }]);
		expect(parse({ type: 'integer', minimum: 5, maximum: 1 }).issues[0]).toEqual({ path: ['output', 'minimum'], message: expect.stringMatching(/greater than maximum/) });
		expect(parse({ type: 'string', maxLength: 0 }).issues[0].path).toEqual(['output', 'maxLength']);
		expect(parse({ type: 'string', maxLength: 2.5 }).issues[0].path).toEqual(['output', 'maxLength']);
		expect(parse({ type: 'string', format: 'email' }).issues[0]).toEqual({ path: ['output', 'format'], message: expect.stringMatching(/only format is "date"/) });
		expect(parse({ type: 'boolean', nullable: 'yes' }).issues[0].path).toEqual(['output', 'nullable']);
	});

	test('object needs properties with valid names; scalar must be a mapping', () => {
		expect(parse({ type: 'object', properties: {} }).issues[0].path).toEqual(['output', 'properties']);
		expect(parse({ type: 'object' }).issues[0].path).toEqual(['output', 'properties']);
		expect(parse({ type: 'object', properties: { 'bad-name': { type: 'boolean' } } }).issues[0].path).toEqual(['output', 'properties', 'bad-name']);
		expect(parse('boolean').issues).toEqual([{ path: ['output'], message: expect.stringMatching(/mapping/) }]);
		expect(parse(undefined).schema).toBeUndefined();
	});

	test('property names __proto__, constructor and prototype are refused, not dropped', () => {
		const props = JSON.parse('{"__proto__": {"type": "string"}, "constructor": {"type": "number"}, "prototype": {"type": "boolean"}, "ok": {"type": "boolean"}}') as Record<string, unknown>;
		expect(Object.keys(props)).toContain('__proto__'); // as a YAML or JSON parser hands it over
		const { schema, issues } = parse({ type: 'object', properties: props });
		expect(schema).toBeUndefined();
		expect(issues).toEqual(
			['__proto__', 'constructor', 'prototype'].map((name) => ({
				path: ['output', 'properties', name],
				message: expect.stringMatching(new RegExp(`property name "${name}" is reserved.*choose another name`)),
			})),
		);
		// Other names that exist on Object.prototype are ordinary property names.
		expect(parse({ type: 'object', properties: { toString: { type: 'string' } } }).issues).toEqual([]);
	});

	test('collects several issues at once', () => {
		const { issues } = parse({ type: 'object', properties: { a: { type: 'nope' }, b: { type: 'string', enum: [] } } });
		expect(issues.map((i) => i.path)).toEqual([
			['output', 'properties', 'a', 'type'],
			['output', 'properties', 'b', 'enum'],
		]);
	});
});

describe('valuesEqual', () => {
	test('scalars, null, numbers by value', () => {
		expect(valuesEqual(true, true)).toBe(true);
		expect(valuesEqual(true, false)).toBe(false);
		expect(valuesEqual(1, 1.0)).toBe(true);
		expect(valuesEqual(0, -0)).toBe(true);
		expect(valuesEqual(null, null)).toBe(true);
		expect(valuesEqual(null, false)).toBe(false);
		expect(valuesEqual('14', 14)).toBe(false);
	});

	test('objects key by key, order-insensitive', () => {
		expect(valuesEqual({ a: 1, b: 'x' }, { b: 'x', a: 1 })).toBe(true);
		expect(valuesEqual({ a: 1, b: 'x' }, { a: 1, b: 'y' })).toBe(false);
		expect(valuesEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
	});
});
