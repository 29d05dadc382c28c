/**
 * `validate` finds the same fixture-set problems whichever store holds the registry: an expected value an
 * answer can never match, and two fixtures with the same inputs (contradicting or duplicate).
 */
import { closeRegistryConnections } from '../../lib/registry/open';
import type { FileRegistryStore } from '../../lib/registry/file-store';
import { validateStore } from '../../lib/registry/validate-store';
import { validateRegistry } from '../../lib/validate-registry';
import type { RegistryStore } from '../../lib/registry/store';
import { makeSpec } from '../unit/helpers';
import { fileStoreFactory, postgresStoreFactory, type StoreFactory } from './stores';

const factories: StoreFactory[] = [fileStoreFactory(), postgresStoreFactory()];

afterAll(async () => {
	for (const f of factories) await f.cleanup();
	await closeRegistryConnections();
});

/** The validator `prompt-release validate` runs for that store. */
async function validate(factory: StoreFactory, store: RegistryStore) {
	return factory.name === 'file store' ? await validateRegistry(store as FileRegistryStore) : await validateStore(store);
}

describe.each(factories)('validate: $name', (factory) => {
	it('names expected values an answer can never match and fixtures that share inputs', async () => {
		const { store } = await factory.create();
		const spec = makeSpec({ id: 'order-number', output: { type: 'string', maxLength: 40 } });
		await store.writeDraft(spec);
		const inputs = (subject: string) => ({ subject, body: 'b' });
		await store.writeFixture(spec.id, { id: 'a-first', inputs: inputs('one'), expected: 'PO-1', source: 'manual' });
		await store.writeFixture(spec.id, { id: 'b-contradicts', inputs: inputs('one'), expected: 'PO-2', source: 'manual' });
		await store.writeFixture(spec.id, { id: 'c-duplicate', inputs: inputs('one'), expected: 'PO-1', source: 'manual' });
		await store.writeFixture(spec.id, { id: 'd-wrapped', inputs: inputs('two'), expected: '{"value":"PO-3"}', source: 'manual' });
		await store.writeFixture(spec.id, { id: 'e-fine', inputs: inputs('three'), expected: 'PO-4', source: 'manual' });

		const report = await validate(factory, store);
		const messages = report.errors.map((e) => e.message);
		expect(report.fixtures).toBe(5);
		expect(messages).toHaveLength(3);
		expect(messages.find((m) => m.includes('b-contradicts'))).toMatch(/field "inputs": same inputs as fixture "a-first" but expected "PO-2" instead of "PO-1": the prompt can never pass both; keep one/);
		expect(messages.find((m) => m.includes('c-duplicate'))).toMatch(/field "inputs": same inputs and expected value as fixture "a-first": remove the duplicate/);
		expect(messages.find((m) => m.includes('d-wrapped'))).toMatch(/field "expected": expected "\{\\"value\\":\\"PO-3\\"\}" can never be matched: an answer saying that is read as "PO-3"; write "PO-3"/);
		expect(messages.some((m) => m.includes('e-fine'))).toBe(false);
	});
});
