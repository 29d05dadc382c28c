/** The test registry: supplier-email prompts with fixtures that pass against the test model rules. */
import type { Fixture } from '../../../lib/types';
import { sharedReleaseCache } from '../../../lib/release-cache';
import { startModelServer, type ModelServer } from '../../../lib/testing/model-server';
import { testRules } from './model-rules';
import { emails } from './workflow';
import { addPrompt, commitAndRelease, openaiModel, promptSpec, tempRegistry, type TempRegistry } from './registry';

function fixture(id: string, email: string, expected: Fixture['expected']): Fixture {
	return { id, inputs: { email_body: email }, expected, source: 'manual' };
}

/**
 * price-change (boolean), new-unit-price (number|null), delivery-delay-days (integer|null, optional input
 * `supplier`), claude-price-change (anthropic): each committed and released to production as v1.
 */
export async function supplierRegistry(server: ModelServer): Promise<TempRegistry> {
	const registry = await tempRegistry();
	const { store } = registry;
	await addPrompt(store, promptSpec('price-change', { description: 'Does the email announce a price change?' }), [
		fixture('increase', emails.increase, true),
		fixture('shipped', emails.noChange, false),
	]);
	await addPrompt(
		store,
		promptSpec('new-unit-price', { description: 'The new unit price, if stated', output: { type: 'number', minimum: 0, nullable: true } }),
		[fixture('increase', emails.increase, 12.5), fixture('shipped', emails.noChange, null)],
	);
	await addPrompt(
		store,
		promptSpec('delivery-delay-days', {
			description: 'Delivery delay in days',
			inputs: { email_body: { type: 'string', required: true }, supplier: { type: 'string', required: false } },
			template: 'Supplier: {{supplier}}\nEmail:\n{{email_body}}',
			output: { type: 'integer', minimum: 0, nullable: true },
		}),
		[fixture('delay', emails.delay, 14)],
	);
	await addPrompt(
		store,
		promptSpec('claude-price-change', { description: 'Price change, answered by Claude', model: openaiModel({ provider: 'anthropic', name: 'claude-test' }) }),
		[fixture('increase', emails.increase, true)],
	);
	await addPrompt(
		store,
		promptSpec('order-quantity', {
			description: 'Ordered quantity check',
			inputs: { email_body: { type: 'string', required: true }, minimum: { type: 'number', required: true }, urgent: { type: 'boolean', required: false } },
			template: 'Minimum {{minimum}}, urgent {{urgent}}:\n{{email_body}}',
			output: { type: 'integer', nullable: true },
		}),
		[{ id: 'quantity', inputs: { email_body: 'Please ship quantity 40 of item 7.', minimum: 10 }, expected: 40, source: 'manual' }],
	);
	for (const id of ['price-change', 'new-unit-price', 'delivery-delay-days', 'claude-price-change', 'order-quantity']) {
		await commitAndRelease(store, server, id);
	}
	return registry;
}

/** What a node test file shares: the loopback model server and the supplier registry built against it. */
export interface SupplierWorld {
	server: ModelServer;
	registry: TempRegistry;
}

/**
 * Registers the hooks every node test file needs: start the model server and build the registry once,
 * clean both up at the end, and start each test with no recorded requests and an empty release cache.
 */
export function useSupplierWorld(): SupplierWorld {
	const world = {} as SupplierWorld;
	beforeAll(async () => {
		world.server = await startModelServer({ rules: testRules });
		world.registry = await supplierRegistry(world.server);
	});
	afterAll(async () => {
		await world.server?.close();
		await world.registry?.cleanup();
	});
	beforeEach(() => {
		world.server.reset();
		sharedReleaseCache.clear();
	});
	return world;
}
