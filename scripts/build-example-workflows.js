#!/usr/bin/env node
// Writes examples/workflows/*.json from examples/emails.json (the emails are embedded in a Code node,
// so the workflows run anywhere). Run after editing the emails: node scripts/build-example-workflows.js
// test/e2e checks that the committed workflows match what this script writes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const emails = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'emails.json'), 'utf8'));

const CREDENTIALS = {
	promptRegistryApi: { id: 'promptRegDemo001', name: 'Prompt Registry (demo copy)' },
	openAiApi: { id: 'openAiDemo000001', name: 'OpenAI (demo)' },
};

const SIGNALS = [
	['priceChange', 'price-change'],
	['newUnitPrice', 'new-unit-price'],
	['delayDays', 'delivery-delay-days'],
	['currency', 'currency'],
	['effectiveDate', 'effective-date'],
];

/** The analyst's answers, standing in for a form: email id → corrected value of the invalid signal. */
const ANALYST_CORRECTIONS = { 'acme-maintenance-delay-two-weeks': 14 };

const VARIABLES = {
	variable: [
		{ name: 'subject', value: '={{ $json.subject }}' },
		{ name: 'body', value: '={{ $json.body }}' },
	],
};

function codeNode(name, items, position) {
	return {
		id: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
		name,
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		position,
		parameters: {
			jsCode: `// Sample data from examples/emails.json (regenerate with: node scripts/build-example-workflows.js)\nreturn ${JSON.stringify(items, null, 2)}.map((json) => ({ json }));`,
		},
	};
}

const trigger = {
	id: 'manual-trigger',
	name: 'When clicking ‘Execute workflow’',
	type: 'n8n-nodes-base.manualTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

const signalsWorkflow = {
	id: 'supplierSignals1',
	name: 'Supplier email signals (Prompt Release example)',
	active: false,
	settings: { executionOrder: 'v1' },
	nodes: [
		trigger,
		codeNode('Supplier emails', emails, [220, 0]),
		{
			id: 'extract-signal',
			name: 'Extract Signal',
			type: 'n8n-nodes-prompt-release.extractSignal',
			typeVersion: 1,
			position: [440, 0],
			parameters: {
				signals: { signal: SIGNALS.map(([field, prompt]) => ({ field, prompt, release: 'production' })) },
				variableSource: 'mapping',
				variables: VARIABLES,
				options: {},
			},
			credentials: CREDENTIALS,
		},
		{
			id: 'to-erp',
			name: 'To ERP (valid signals)',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [680, -100],
			parameters: {},
		},
		{
			id: 'record-correction',
			name: 'Record Correction',
			type: 'n8n-nodes-prompt-release.recordCorrection',
			typeVersion: 1,
			position: [680, 100],
			parameters: {
				source: 'extractSignal',
				signalField: '',
				correctedValue: `={{ ${JSON.stringify(ANALYST_CORRECTIONS)}[$json.id] }}`,
				segment: '={{ $json.supplier }}',
				note: "={{ 'Analyst correction for email ' + $json.id }}",
				options: {},
			},
			credentials: { promptRegistryApi: CREDENTIALS.promptRegistryApi },
		},
	],
	connections: {
		[trigger.name]: { main: [[{ node: 'Supplier emails', type: 'main', index: 0 }]] },
		'Supplier emails': { main: [[{ node: 'Extract Signal', type: 'main', index: 0 }]] },
		'Extract Signal': {
			main: [
				[{ node: 'To ERP (valid signals)', type: 'main', index: 0 }],
				[{ node: 'Record Correction', type: 'main', index: 0 }],
			],
		},
	},
	pinData: {},
};

const runWorkflow = {
	id: 'runPromptRelease',
	name: 'Run one prompt release (Prompt Release example)',
	active: false,
	settings: { executionOrder: 'v1' },
	nodes: [
		trigger,
		codeNode('One supplier email', emails.slice(0, 1), [220, 0]),
		{
			id: 'run-prompt-release',
			name: 'Run Prompt Release',
			type: 'n8n-nodes-prompt-release.runPromptRelease',
			typeVersion: 1,
			position: [440, 0],
			parameters: {
				prompt: { __rl: true, mode: 'list', value: 'new-unit-price' },
				release: 'channel',
				channel: 'production',
				variableSource: 'itemJson',
				options: { includeInputFields: true },
			},
			credentials: CREDENTIALS,
		},
	],
	connections: {
		[trigger.name]: { main: [[{ node: 'One supplier email', type: 'main', index: 0 }]] },
		'One supplier email': { main: [[{ node: 'Run Prompt Release', type: 'main', index: 0 }]] },
	},
	pinData: {},
};

const out = {
	'supplier-email-signals.json': signalsWorkflow,
	'run-prompt-release.json': runWorkflow,
};

if (require.main === module) {
	const dir = path.join(root, 'examples', 'workflows');
	fs.mkdirSync(dir, { recursive: true });
	for (const [name, wf] of Object.entries(out)) fs.writeFileSync(path.join(dir, name), `${JSON.stringify(wf, null, '\t')}\n`);
	console.log(`wrote ${Object.keys(out).map((n) => `examples/workflows/${n}`).join(', ')}`);
}

module.exports = { workflows: out, CREDENTIALS, ANALYST_CORRECTIONS };
