/**
 * Property-based tests of the answer reading (fast-check): for every kind of declared schema and arbitrary
 * model answers, a result marked valid always satisfies the declared schema and equals what the answer said.
 */
import fc from 'fast-check';
import { readAnswer } from '../../lib/answer/read';
import type { FinishReason } from '../../lib/providers/types';
import { validateValue, valuesEqual } from '../../lib/schema';
import type { OutputSchema, ScalarSchema } from '../../lib/types';

/** A fixed seed keeps CI repeatable; change it (or drop it locally) to explore other cases. */
const RUNS = { numRuns: 400, seed: 20261129 };

const scalarSchema: fc.Arbitrary<ScalarSchema> = fc.oneof(
	fc.record({ type: fc.constant('boolean' as const), nullable: fc.boolean() }),
	fc.record({ type: fc.constantFrom('integer' as const, 'number' as const), nullable: fc.boolean(), minimum: fc.option(fc.integer({ min: -50, max: 0 }), { nil: undefined }), maximum: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }) }),
	fc.record({ type: fc.constant('string' as const), nullable: fc.boolean(), enum: fc.uniqueArray(fc.constantFrom('EUR', 'USD', 'unknown', 'none', 'yes', '14'), { minLength: 1, maxLength: 4 }) }),
	fc.record({ type: fc.constant('string' as const), nullable: fc.boolean(), format: fc.constant('date' as const) }),
	fc.record({ type: fc.constant('string' as const), nullable: fc.boolean(), maxLength: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }) }),
).map((s) => JSON.parse(JSON.stringify(s)) as ScalarSchema); // drop undefined keys

const outputSchema: fc.Arbitrary<OutputSchema> = fc.oneof(
	scalarSchema,
	fc.dictionary(fc.constantFrom('price', 'currency', 'days', 'orderNumber', 'effective'), scalarSchema, { minKeys: 1, maxKeys: 4 }).map((properties) => ({ type: 'object' as const, properties })),
);

/** Values a model might put where a scalar belongs: right and wrong types, strings of numbers, placeholders, JSON texts. */
const scalarish: fc.Arbitrary<unknown> = fc.oneof(
	fc.boolean(),
	fc.integer({ min: -100, max: 6000 }),
	fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
	fc.constantFrom('EUR', 'USD', 'unknown', 'none', 'None', 'null', 'N/A', '', ' ', '14', '2026-03-01', '2026-02-30', 'true', 'PO-4711', '{"value": "PO-4711"}', '{"value": 3}', '"PO-1"', '[1,2]', '{"value": "x'),
	fc.string({ maxLength: 20 }),
	fc.constant(null),
	fc.jsonValue({ maxDepth: 2 }),
);

function answerFor(schema: OutputSchema): fc.Arbitrary<unknown> {
	if (schema.type !== 'object') {
		return fc.oneof(
			scalarish.map((value) => ({ value })),
			scalarish,
			fc.tuple(scalarish, scalarish).map(([value, extra]) => ({ value, extra })),
			fc.jsonValue({ maxDepth: 3 }),
		);
	}
	const names = Object.keys(schema.properties);
	return fc.oneof(
		fc.dictionary(fc.constantFrom(...names, 'extra', 'value'), scalarish, { maxKeys: names.length + 1 }),
		fc.jsonValue({ maxDepth: 3 }),
	);
}

/** How the answer reaches the reading: plain JSON, fenced, after a <think> block, in prose, or cut. */
const wrapping = fc.constantFrom<(json: string) => string>(
	(j) => j,
	(j) => '```json\n' + j + '\n```',
	(j) => `<think>reasoning</think>\n${j}`,
	(j) => `Here you go: ${j} Thanks.`,
);

const STOP = { reason: 'stop' as FinishReason, providerReason: 'stop' };

/** The scalars a valid value may have come from: the value said, or the forms the documented unwrapping reads. */
function saidBy(valid: unknown, answered: unknown): boolean {
	if (valuesEqual(valid, answered)) return true;
	if (typeof answered !== 'string') return false;
	if (valid === null) return true; // a placeholder word, checked by the schema-level property below
	// A JSON text (wire object or quoted string) that holds the value.
	return answered.includes(JSON.stringify(valid).slice(1, -1)) || answered.includes(String(valid));
}

describe('answer reading: properties', () => {
	it('a valid result always satisfies the declared schema and equals what the answer said', () => {
		fc.assert(
			fc.property(outputSchema.chain((schema) => fc.tuple(fc.constant(schema), answerFor(schema), wrapping)), ([schema, answer, wrap]) => {
				const verdict = readAnswer(schema, { text: wrap(JSON.stringify(answer)), end: STOP }, 50);
				if (!verdict.ok) return;
				expect(validateValue(schema, verdict.value)).toEqual({ ok: true, value: verdict.value });
				if (schema.type === 'object') {
					const said = (answer !== null && typeof answer === 'object' && !Array.isArray(answer) ? answer : {}) as Record<string, unknown>;
					const inner = Object.keys(said).length === 1 && 'value' in said && typeof said.value === 'object' ? (said.value as Record<string, unknown>) : said;
					for (const [k, v] of Object.entries(verdict.value as Record<string, unknown>)) {
						expect(k in schema.properties).toBe(true);
						if (k in inner) expect(saidBy(v, inner[k])).toBe(true);
						else expect(v).toBeNull(); // only a nullable property may be left out
					}
				} else {
					const said = answer !== null && typeof answer === 'object' && !Array.isArray(answer) && 'value' in answer ? (answer as { value: unknown }).value : answer;
					expect(saidBy(verdict.value, said)).toBe(true);
				}
			}),
			RUNS,
		);
	});

	it('null comes only from a nullable schema, and never from a value that was not null or a placeholder', () => {
		fc.assert(
			fc.property(scalarSchema, scalarish, (schema, value) => {
				const verdict = readAnswer(schema, { text: JSON.stringify({ value }), end: STOP }, 50);
				if (!verdict.ok || verdict.value !== null) return;
				expect(schema.nullable).toBe(true);
				const placeholder = typeof value === 'string' && /^(\s*|null|none|nil|undefined|n\/a|n\.a\.?|unknown|not stated|not specified|not mentioned|not given|-|—|\{"value":\s*null\})$/i.test(value.trim());
				expect(value === null || placeholder).toBe(true);
			}),
			RUNS,
		);
	});

	it('an answer that did not finish is never valid, whatever its text', () => {
		const unfinished = fc.constantFrom<FinishReason>('length', 'content_filter', 'refusal', 'paused');
		fc.assert(
			fc.property(outputSchema, fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify({ value: v }))), unfinished, (schema, text, reason) => {
				expect(readAnswer(schema, { text, end: { reason, providerReason: reason } }, 50).ok).toBe(false);
			}),
			RUNS,
		);
	});

	it('a cut answer is invalid or still says the same value', () => {
		fc.assert(
			fc.property(scalarSchema, scalarish, fc.nat(), (schema, value, at) => {
				const full = JSON.stringify({ value });
				const cut = full.slice(0, at % full.length);
				const verdict = readAnswer(schema, { text: cut, end: STOP }, 50);
				// A cut text can only be valid through a complete JSON value still inside it, saying that value.
				if (verdict.ok) expect(cut).toContain(JSON.stringify(verdict.value));
			}),
			RUNS,
		);
	});

	it('extra keys next to "value" are never valid for a scalar output', () => {
		fc.assert(
			fc.property(scalarSchema, scalarish, scalarish, (schema, value, extra) => {
				expect(readAnswer(schema, { text: JSON.stringify({ value, extra }), end: STOP }, 50).ok).toBe(false);
			}),
			RUNS,
		);
	});
});
