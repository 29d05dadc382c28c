import type { RulesFile } from '../../../lib/testing/model-server';

/** What the loopback test model answers, by prompt id (the schema / tool name on the wire). */
export const testRules: RulesFile = {
	models: ['test-model', 'claude-test'],
	rules: [
		{ prompt: 'price-change', when: 'price (increase|change)', value: true },
		{ prompt: 'price-change', value: false },
		{ prompt: 'claude-price-change', when: 'price (increase|change)', value: true },
		{ prompt: 'claude-price-change', value: false },
		{ prompt: 'new-unit-price', capture: 'new (?:unit )?price[^0-9]*([0-9]+(?:\\.[0-9]+)?)', as: 'number' },
		{ prompt: 'delivery-delay-days', when: 'two weeks', raw: 'two weeks' },
		{ prompt: 'delivery-delay-days', capture: 'delayed by (\\d+) days', as: 'integer' },
		{ prompt: 'switch', value: true },
		{ prompt: 'rollme', value: true },
		{ prompt: 'local-price-change', when: 'price (increase|change)', value: true },
		{ prompt: 'order-quantity', capture: 'quantity (\\d+)', as: 'integer' },
	],
};
