/**
 * Fixture expected values follow the same reading as model answers: what an answer saying that text is read
 * as (lib/answer/unwrap.ts) is what imports, corrections and validate take or refuse.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expectedProblem } from '../../lib/answer/unwrap';
import { coerceToSchema } from '../../lib/coerce';
import { recordCorrection } from '../../lib/corrections';
import { ConfigError } from '../../lib/errors';
import { importFixtures } from '../../lib/fixtures-import';
import { validateRegistry } from '../../lib/validate-registry';
import type { OutputSchema } from '../../lib/types';
import { makeSpec, tempRegistry } from './helpers';

const ORDER: OutputSchema = { type: 'string', maxLength: 40, nullable: true };

async function registry(output: OutputSchema) {
	const { store, root } = await tempRegistry();
	await store.writeDraft(makeSpec({ id: 'order', output }));
	return { store, root };
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
	return promise.then(
		() => {
			throw new Error('expected a rejection');
		},
		(e: Error) => e,
	);
}

describe('expected values read like answers', () => {
	test('people\'s placeholders become null for a nullable output, as answers do', () => {
		for (const word of ['N/A', 'None', 'not stated', 'TBD', '', 'null']) expect(coerceToSchema(ORDER, word)).toBeNull();
		expect(coerceToSchema(ORDER, 'PO-4711')).toBe('PO-4711');
	});

	test('texts an answer can never be read as are named, with what to write instead', () => {
		expect(expectedProblem(ORDER, '{"value":"PO-1"}')).toBe('expected "{\\"value\\":\\"PO-1\\"}" can never be matched: an answer saying that is read as "PO-1"; write "PO-1"');
		expect(expectedProblem({ type: 'string' }, 'N/A')).toMatch(/^expected "N\/A", which stands for "not stated", but the output is not nullable/);
		expect(expectedProblem(ORDER, 'PO-4711')).toBeUndefined();
		expect(expectedProblem({ type: 'object', properties: { po: ORDER } }, { po: '"PO-1"' })).toMatch(/^expected\.po "\\"PO-1\\"" can never be matched/);
	});

	test('import: N/A becomes null; a wire-object text and a not-nullable placeholder are refused; nothing written', async () => {
		const { store, root } = await registry(ORDER);
		const file = path.join(root, 'rows.jsonl');
		await fs.writeFile(file, `${JSON.stringify({ inputs: { subject: 'a', body: 'b' }, expected: 'N/A' })}\n`);
		const ok = await importFixtures(store, 'order', file);
		expect((await store.readFixture('order', ok.created[0]))?.expected).toBeNull();

		await fs.writeFile(file, `${JSON.stringify({ inputs: { subject: 'c', body: 'd' }, expected: '{"value":"PO-1"}' })}\n`);
		const err = await errorOf(importFixtures(store, 'order', file));
		expect(err).toBeInstanceOf(ConfigError);
		expect(err.message).toMatch(/rows\.jsonl:1 field "expected": expected "\{\\"value\\":\\"PO-1\\"\}" can never be matched/);
		expect((await store.listFixtures('order')).length).toBe(1);
	});

	test('import: a row with the inputs of an existing fixture is refused, naming it', async () => {
		const { store, root } = await registry({ type: 'boolean' });
		await store.writeFixture('order', { id: 'by-hand', inputs: { subject: 'a', body: 'b' }, expected: true, source: 'manual' });
		const file = path.join(root, 'rows.jsonl');
		await fs.writeFile(file, `${JSON.stringify({ inputs: { subject: 'a', body: 'b' }, expected: false })}\n`);
		const err = await errorOf(importFixtures(store, 'order', file));
		expect(err.message).toMatch(/rows\.jsonl:1: the row has the same inputs as fixture "by-hand" \(expected true\): edit that fixture instead, or give this row "id": "by-hand" to update it/);
		expect((await store.listFixtures('order')).map((f) => f.id)).toEqual(['by-hand']);
	});

	test('import: a decimal comma or a foreign yes/no word gets a hint', async () => {
		const { store, root } = await registry({ type: 'number' });
		const file = path.join(root, 'rows.csv');
		await fs.writeFile(file, 'subject;body;expected\na;b;968,5\n');
		const err = await errorOf(importFixtures(store, 'order', file));
		expect(err.message).toMatch(/rows\.csv:2 field "expected": expected "968,5" is not a number: write numbers with a decimal point and no thousands separators/);
	});

	test('a correction whose value an answer can never match is refused', async () => {
		const { store } = await registry({ type: 'string' });
		const { commitDraft } = await import('../../lib/registry/commit');
		await commitDraft(store, 'order');
		const err = await errorOf(recordCorrection(store, { promptId: 'order', version: 1, variables: { subject: 'a', body: 'b' }, corrected: 'N/A', modelOutput: null }));
		expect(err.message).toMatch(/correction for "order": the corrected value "N\/A", which stands for "not stated", but the output is not nullable/);
	});

	test('validate names fixtures that can never pass: an unmatchable expected value, two fixtures with the same inputs', async () => {
		const { store } = await registry(ORDER);
		await store.writeFixture('order', { id: 'literal', inputs: { subject: 'x', body: 'y' }, expected: 'N/A', source: 'manual' });
		await store.writeFixture('order', { id: 'one', inputs: { subject: 'a', body: 'b' }, expected: 'PO-1', source: 'manual' });
		await store.writeFixture('order', { id: 'two', inputs: { subject: 'a', body: 'b' }, expected: 'PO-2', source: 'manual' });
		const report = await validateRegistry(store);
		const messages = report.errors.map((e) => e.message).join('\n');
		expect(messages).toMatch(/literal\.yaml field "expected": expected "N\/A" can never be matched: an answer saying that is read as null; write null/);
		expect(messages).toMatch(/two\.yaml field "inputs": same inputs as fixture "one" but expected "PO-2" instead of "PO-1": the prompt can never pass both; keep one/);
	});
});
