/**
 * `validate` finds the same problems whichever store holds the registry: an expected value an answer can
 * never match, two fixtures with the same inputs (contradicting or duplicate), and per-class gate rules —
 * the prompt's own or the registry-wide ones it inherits — naming a class its output does not declare.
 */
import { closeRegistryConnections } from '../../lib/registry/open';
import type { FileRegistryStore } from '../../lib/registry/file-store';
import { validateStore } from '../../lib/registry/validate-store';
import { validateRegistry } from '../../lib/validate-registry';
import type { RegistryStore } from '../../lib/registry/store';
import { makeSpec, runReport } from '../unit/helpers';
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

	it('checks the registry-wide per-class rules against every prompt that inherits them', async () => {
		const { store } = await factory.create();
		await store.writeDraft(makeSpec()); // boolean: classes true, false
		await store.writeDraft(makeSpec({ id: 'priority', output: { type: 'string', enum: ['low', 'high'] } }));
		await store.writeDraft(makeSpec({ id: 'order-number', output: { type: 'string', maxLength: 40 } })); // no classes: the gate skips the rules
		await store.writePolicy({ minRecall: { maybe: 1 }, minF1: { true: 0.8 } });
		await store.writePolicy({ minF1: { high: 0.9 } }, 'priority'); // its own minF1 overrides the registry-wide one

		const messages = (await validate(factory, store)).errors.map((e) => e.message);
		const place = factory.name === 'file store' ? /(^|[/\\])policy\.yaml field "minRecall": / : /registry-wide policy field "minRecall": /;
		expect(messages).toHaveLength(2);
		const boolean = messages.find((m) => m.includes('"price-change"'));
		expect(boolean).toMatch(place);
		expect(boolean).toContain('applies to prompt "price-change", which does not fit it: minRecall.maybe: "maybe" is not a class of the output (classes: true, false)');
		expect(boolean).toContain('or set minRecall in');
		const priority = messages.find((m) => m.includes('"priority"'));
		expect(priority).toMatch(place);
		expect(priority).toContain('minRecall.maybe: "maybe" is not a class of the output (classes: low, high)');
		expect(messages.some((m) => m.includes('minF1') || m.includes('order-number'))).toBe(false);

		// A prompt's own rule is checked against its output and named at its own policy.
		await store.writePolicy({ minRecall: { urgent: 1 } }, 'priority');
		await store.writePolicy({ minRecall: { true: 1 } }); // fits price-change; priority overrides it
		const own = (await validate(factory, store)).errors.map((e) => e.message);
		expect(own).toHaveLength(1);
		expect(own[0]).toMatch(factory.name === 'file store' ? /priority[/\\]policy\.yaml field "minRecall": minRecall\.urgent: "urgent" is not a class/ : /prompt "priority" policy field "minRecall": minRecall\.urgent: "urgent" is not a class/);
	});
});

describe.each(factories)('validate reads runs one result at a time: $name', (factory) => {
	it('checks every result of a stored run without reading the whole run into memory', async () => {
		const { store } = await factory.create();
		await store.writeDraft(makeSpec());
		const results = Array.from({ length: 1200 }, (_, i) => ({ fixtureId: `f${i}`, passed: i % 2 === 0, expected: true }));
		await store.writeRun(runReport({ runId: 'big-run', results }));
		const whole = jest.spyOn(store, 'readRun');
		expect((await validate(factory, store)).errors).toEqual([]);

		// A damaged result far into the run is still found, and named.
		const damaged = runReport({ runId: 'damaged-run', results });
		(damaged.results[1100] as unknown as Record<string, unknown>).passed = 'yes';
		await store.writeRun(damaged);
		const messages = (await validate(factory, store)).errors.map((e) => e.message);
		expect(messages).toHaveLength(1);
		expect(messages[0]).toMatch(factory.name === 'file store' ? /damaged-run\.results\.jsonl:1101/ : /run "damaged-run" result 1100: needs fixtureId \(text\) and passed \(boolean\)/);
		// `readRun` collects every result in a list: 100,000 of them made validate's peak memory grow with the run.
		expect(whole).not.toHaveBeenCalled();
	});
});
