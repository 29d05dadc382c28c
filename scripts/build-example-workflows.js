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

/** A Code node emitting `items`, its first line saying what they are (`about`) and where the file comes from. */
function codeNode(name, about, items, position) {
	return {
		id: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
		name,
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		position,
		parameters: {
			jsCode: `// ${about} (regenerate with: node scripts/build-example-workflows.js)\nreturn ${JSON.stringify(items, null, 2)}.map((json) => ({ json }));`,
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

/** The Extract Signal node of the supplier-email flow (every signal on production), with its node options. */
function extractSignalNode(options) {
	return {
		id: 'extract-signal',
		name: 'Extract Signal',
		type: 'n8n-nodes-prompt-release.extractSignal',
		typeVersion: 1,
		position: [440, 0],
		parameters: {
			signals: { signal: SIGNALS.map(([field, prompt]) => ({ field, prompt, release: 'production' })) },
			variableSource: 'mapping',
			variables: VARIABLES,
			options,
		},
		credentials: CREDENTIALS,
	};
}

const signalsWorkflow = {
	id: 'supplierSignals1',
	name: 'Supplier email signals (Prompt Release example)',
	active: false,
	settings: { executionOrder: 'v1' },
	nodes: [
		trigger,
		codeNode('Supplier emails', 'Sample data from examples/emails.json', emails, [220, 0]),
		extractSignalNode({}),
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
		codeNode('One supplier email', 'Sample data from examples/emails.json', emails.slice(0, 1), [220, 0]),
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

/** The released prompts the daily drift check covers (one item each). */
const DRIFT_PROMPTS = SIGNALS.map(([, prompt]) => prompt);

const driftWorkflow = {
	id: 'modelDriftCheck1',
	name: 'Daily model drift check (Prompt Release example)',
	active: false,
	settings: { executionOrder: 'v1' },
	nodes: [
		{
			id: 'every-day',
			name: 'Every day at 06:00',
			type: 'n8n-nodes-base.scheduleTrigger',
			typeVersion: 1.2,
			position: [0, 0],
			parameters: { rule: { interval: [{ field: 'days', daysInterval: 1, triggerAtHour: 6 }] } },
		},
		codeNode('Prompts to check', 'Prompts to check for drift, one item per released prompt id (the five example prompts; list your own)', DRIFT_PROMPTS.map((prompt) => ({ prompt })), [220, 0]),
		{
			id: 'check-drift',
			name: 'Check Drift',
			type: 'n8n-nodes-prompt-release.runPromptRelease',
			typeVersion: 1,
			position: [440, 0],
			parameters: {
				operation: 'checkDrift',
				prompt: { __rl: true, mode: 'id', value: '={{ $json.prompt }}' },
				driftChannel: 'production',
				options: { concurrency: 4 },
			},
			credentials: CREDENTIALS,
		},
		{
			id: 'answers-changed',
			name: 'Answers changed?',
			type: 'n8n-nodes-base.if',
			typeVersion: 2.2,
			position: [660, 0],
			parameters: {
				conditions: {
					options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
					conditions: [
						{
							id: 'drift-changed',
							leftValue: '={{ $json.changed }}',
							rightValue: '',
							operator: { type: 'boolean', operation: 'true', singleValue: true },
						},
					],
					combinator: 'and',
				},
				options: {},
			},
		},
		{
			id: 'alert',
			name: 'Alert the prompt owners (replace with Send Email or Slack)',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [880, -100],
			parameters: {},
		},
		{
			id: 'fail-visibly',
			name: 'Fail the execution: model drift',
			type: 'n8n-nodes-base.stopAndError',
			typeVersion: 1,
			position: [1100, -100],
			parameters: {
				errorMessage: "={{ 'Model drift on ' + $json.prompt + ' v' + $json.version + ' (' + $json.channel + '): ' + $json.changedCount + ' of ' + $json.compared + ' answers changed since run ' + $json.releasedRunId + ': ' + $json.changedFixtures.map(f => f.fixtureId).join(', ') }}",
			},
		},
		{
			id: 'no-drift',
			name: 'No drift',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [880, 100],
			parameters: {},
		},
	],
	connections: {
		'Every day at 06:00': { main: [[{ node: 'Prompts to check', type: 'main', index: 0 }]] },
		'Prompts to check': { main: [[{ node: 'Check Drift', type: 'main', index: 0 }]] },
		'Check Drift': { main: [[{ node: 'Answers changed?', type: 'main', index: 0 }]] },
		'Answers changed?': {
			main: [
				[{ node: 'Alert the prompt owners (replace with Send Email or Slack)', type: 'main', index: 0 }],
				[{ node: 'No drift', type: 'main', index: 0 }],
			],
		},
		'Alert the prompt owners (replace with Send Email or Slack)': { main: [[{ node: 'Fail the execution: model drift', type: 'main', index: 0 }]] },
	},
	pinData: {},
};

/** Where the review form is served: `<n8n base URL>/form/prompt-release-review` once the workflow is published. */
const REVIEW_FORM_PATH = 'prompt-release-review';

/** The case page's styling: the email and the model's answer left-aligned and wrapped, each in a light box. */
const REVIEW_CASE_CSS = [
	'.form-header p, .form-header div { text-align: left; }',
	'.form-header div { overflow-wrap: anywhere; margin: 4px 0 10px; padding: 8px 10px; background: #f5f5f7; border-radius: 4px; font-size: 13px; line-height: 1.4; color: #1f1f1f; }',
].join('\n');

/** A Form node (n8n-nodes-base.form, latest version) page or ending; a fixed webhookId keeps re-imports stable. */
function formNode(id, webhookNumber, name, position, parameters) {
	return { id, name, type: 'n8n-nodes-base.form', typeVersion: 2.5, position, webhookId: `5e0d7c0e-0000-4000-8000-00000000e00${webhookNumber}`, parameters };
}

const reviewWorkflow = {
	id: 'reviewQueueLoop1',
	name: 'Review loop: queue invalid answers, correct them in a form (Prompt Release example)',
	active: false,
	settings: { executionOrder: 'v1' },
	nodes: [
		// 1. The supplier-email flow, queueing every invalid signal as a pending review case.
		trigger,
		codeNode('Supplier emails', 'Sample data from examples/emails.json', emails, [220, 0]),
		extractSignalNode({ reviewQueue: 'invalid' }),
		{
			id: 'to-erp',
			name: 'To ERP (valid signals)',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [680, -100],
			parameters: {},
		},
		{
			id: 'queued-for-review',
			name: 'Queued for review (invalid signals)',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [680, 100],
			parameters: {},
		},
		// 2. The analyst's form: one URL, the oldest pending case each time it is opened.
		{
			id: 'review-form-trigger',
			name: 'Review form',
			type: 'n8n-nodes-base.formTrigger',
			typeVersion: 2.6,
			position: [0, 400],
			webhookId: '5e0d7c0e-0000-4000-8000-00000000e001',
			parameters: {
				formTitle: 'Review queue',
				formDescription: 'Answers the model got wrong, oldest first. Open this page, enter the right answer, and it becomes a regression fixture of the prompt.',
				formFields: { values: [] },
				options: { path: REVIEW_FORM_PATH, buttonLabel: 'Review the next case', appendAttribution: false },
			},
		},
		{
			id: 'get-next-case',
			name: 'Get Next Case',
			type: 'n8n-nodes-prompt-release.reviewQueue',
			typeVersion: 1,
			position: [220, 400],
			parameters: { operation: 'getNext' },
			credentials: { promptRegistryApi: CREDENTIALS.promptRegistryApi },
		},
		formNode('review-case', 2, 'Case', [440, 300], {
			operation: 'page',
			defineForm: 'json',
			jsonOutput: '={{ $json.form.fields }}',
			options: {
				formTitle: '={{ $json.form.title }}',
				formDescription: '={{ $json.form.description }}',
				buttonLabel: 'Record the correction',
				// n8n centres the description: the case's blocks read better left-aligned, and a long unbroken token (a URL) wraps.
				customCss: REVIEW_CASE_CSS,
			},
		}),
		{
			id: 'record-correction',
			name: 'Record Correction',
			type: 'n8n-nodes-prompt-release.recordCorrection',
			typeVersion: 1,
			position: [660, 300],
			// A value that does not fit the declared type comes out as an item with `error` (the case stays pending).
			onError: 'continueRegularOutput',
			parameters: { source: 'reviewForm', options: {} },
			credentials: { promptRegistryApi: CREDENTIALS.promptRegistryApi },
		},
		{
			id: 'recorded-check',
			name: 'Recorded?',
			type: 'n8n-nodes-base.if',
			typeVersion: 2.2,
			position: [880, 300],
			parameters: {
				conditions: {
					options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
					conditions: [
						{
							id: 'no-error',
							leftValue: '={{ !$json.error }}',
							rightValue: '',
							operator: { type: 'boolean', operation: 'true', singleValue: true },
						},
					],
					combinator: 'and',
				},
				options: {},
			},
		},
		formNode('recorded', 3, 'Recorded', [1100, 200], {
			operation: 'completion',
			respondWith: 'text',
			completionTitle: 'Recorded',
			completionMessage: "={{ 'Fixture ' + $json.fixtureId + ($json.created ? ' was added' : ' was updated') + ' for prompt ' + $json.fixture.promptId + ' (expected ' + JSON.stringify($json.fixture.expected) + '). Open the review form again for the next case.' }}",
			options: {},
		}),
		formNode('not-recorded', 4, 'Not recorded', [1100, 400], {
			operation: 'completion',
			respondWith: 'text',
			completionTitle: 'Not recorded',
			completionMessage: "={{ $json.error + '\\n\\nNothing was written. Open the review form again: it shows the oldest pending case (this one, if it is still pending).' }}",
			options: {},
		}),
		formNode('nothing-to-review', 5, 'Nothing to review', [440, 500], {
			operation: 'completion',
			respondWith: 'text',
			completionTitle: 'Nothing to review',
			completionMessage: 'Every queued answer has been reviewed.',
			options: {},
		}),
	],
	connections: {
		[trigger.name]: { main: [[{ node: 'Supplier emails', type: 'main', index: 0 }]] },
		'Supplier emails': { main: [[{ node: 'Extract Signal', type: 'main', index: 0 }]] },
		'Extract Signal': {
			main: [
				[{ node: 'To ERP (valid signals)', type: 'main', index: 0 }],
				[{ node: 'Queued for review (invalid signals)', type: 'main', index: 0 }],
			],
		},
		'Review form': { main: [[{ node: 'Get Next Case', type: 'main', index: 0 }]] },
		'Get Next Case': {
			main: [
				[{ node: 'Case', type: 'main', index: 0 }],
				[{ node: 'Nothing to review', type: 'main', index: 0 }],
			],
		},
		Case: { main: [[{ node: 'Record Correction', type: 'main', index: 0 }]] },
		'Record Correction': { main: [[{ node: 'Recorded?', type: 'main', index: 0 }]] },
		'Recorded?': {
			main: [
				[{ node: 'Recorded', type: 'main', index: 0 }],
				[{ node: 'Not recorded', type: 'main', index: 0 }],
			],
		},
	},
	pinData: {},
};

const out = {
	'supplier-email-signals.json': signalsWorkflow,
	'run-prompt-release.json': runWorkflow,
	'model-drift-check.json': driftWorkflow,
	'review-queue.json': reviewWorkflow,
};

if (require.main === module) {
	const dir = path.join(root, 'examples', 'workflows');
	fs.mkdirSync(dir, { recursive: true });
	for (const [name, wf] of Object.entries(out)) fs.writeFileSync(path.join(dir, name), `${JSON.stringify(wf, null, '\t')}\n`);
	console.log(`wrote ${Object.keys(out).map((n) => `examples/workflows/${n}`).join(', ')}`);
}

module.exports = { workflows: out, CREDENTIALS, ANALYST_CORRECTIONS, REVIEW_FORM_PATH };
