/**
 * The review loop end to end, in a REAL n8n 2.41.1 with this package installed the way n8n installs
 * community packages, driven over HTTP as a browser drives n8n's forms (./support/forms.ts):
 *
 *   examples/workflows/review-queue.json
 *   supplier emails → Extract Signal (Queue for Review: Invalid Items) → four invalid signals become cases
 *   analyst: /form/prompt-release-review → Review Queue "Get Next Case" → Form page (fields for the declared
 *   type) → Record Correction (Source "Review Form") → "Recorded" / "Not recorded" / "Nothing to review"
 *
 * The deterministic test model answers four emails wrongly, one per output type: a boolean ("maybe"), a
 * nullable enum ("€"), a nullable date ("April 2025") and an integer ≥ 0 ("two weeks"); none of the four
 * emails is a fixture of that prompt yet, so each correction adds one.
 *
 * The case page is also rendered in headless Chromium (skipped when /usr/bin/chromium is absent, unless
 * PROMPT_RELEASE_REQUIRE_BROWSER=1). PROMPT_RELEASE_WRITE_SCREENSHOT=1 saves its screenshot as docs/review-form.png.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

import { FileRegistryStore } from '../../lib/registry/file-store';
import { NOT_STATED } from '../../lib/review/form';
import type { ReviewCase } from '../../lib/review/types';
import { loadRules, startModelServer, type ModelServer } from '../../lib/testing/model-server';
import { browserChecks, decodePng, differingPixels, dumpDom, screenshot } from './support/chromium';
import { openForm, parseFormPage, submitForm, waitForForm, type FormControl, type FormPage } from './support/forms';
import { REPO_ROOT, createN8n, type ExecuteResult, type N8nInstance, type N8nServer } from './support/n8n';

const MINUTE = 60_000;
const { workflows, CREDENTIALS, REVIEW_FORM_PATH } = require(path.join(REPO_ROOT, 'scripts', 'build-example-workflows.js')) as {
	workflows: Record<string, { id: string }>;
	CREDENTIALS: Record<string, { id: string; name: string }>;
	REVIEW_FORM_PATH: string;
};
const WORKFLOW_ID = workflows['review-queue.json'].id;
const emails = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'emails.json'), 'utf8')) as Array<{ id: string; subject: string; body: string }>;
const email = (id: string) => emails.find((e) => e.id === id)!;

type Json = Record<string, any>;

if (!browserChecks) console.warn('SKIPPED: the Chromium check of the review form needs /usr/bin/chromium, which is absent');

/** One wrong answer per output type: the email, what the model says, the input the form must offer, the right answer. */
interface Expectation {
	email: string;
	field: string;
	raw: string;
	/** The answer control: kind, input type, options (dropdowns), a label pattern. */
	input: Partial<FormControl> & { labelMatch?: RegExp };
	/** Nullable free input: a "not stated" checkbox follows the answer field. */
	notStatedBox: boolean;
	answer: string | number;
	expected: unknown;
}

const CASES: Record<string, Expectation> = {
	'price-change': {
		email: 'nordic-tanker-late-reply',
		field: 'priceChange',
		raw: 'maybe',
		input: { kind: 'select', options: ['true', 'false'], required: true },
		notStatedBox: false,
		answer: 'false',
		expected: false,
	},
	currency: {
		email: 'nordic-price-list-euro-sign',
		field: 'currency',
		raw: '{"value": "€"}',
		input: { kind: 'select', options: ['EUR', 'USD', 'GBP', 'CHF', 'JPY', NOT_STATED], required: true },
		notStatedBox: false,
		answer: 'EUR',
		expected: 'EUR',
	},
	'effective-date': {
		email: 'kyoto-bearing-price-revision',
		field: 'effectiveDate',
		raw: '{"value": "April 2025"}',
		input: { kind: 'input', type: 'date', required: false },
		notStatedBox: true,
		answer: '2025-04-01',
		expected: '2025-04-01',
	},
	'delivery-delay-days': {
		email: 'acme-maintenance-delay-two-weeks',
		field: 'delayDays',
		raw: 'two weeks',
		input: { kind: 'input', type: 'number', required: true, labelMatch: /\(a whole number 0 or more\)/ },
		notStatedBox: false,
		answer: 14,
		expected: 14,
	},
};

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `prompt-release <args>` (the built CLI) against the test registry; resolves with its exit code and output. */
async function cli(registry: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	return await new Promise((resolve) => {
		execFile(process.execPath, [path.join(REPO_ROOT, 'dist', 'bin', 'prompt-release.js'), '--registry', registry, ...args], { encoding: 'utf8' }, (error, stdout, stderr) =>
			resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
		);
	});
}

function writeJson(file: string, value: unknown): string {
	fs.writeFileSync(file, JSON.stringify(value, null, 2));
	return file;
}

/** Items (json) of every output of a node in the last run, from `n8n execute --rawOutput`. */
function outputs(run: ExecuteResult, node: string): Json[][] {
	const runData = (run.output as any)?.data?.resultData?.runData;
	if (!runData?.[node]) throw new Error(`node "${node}" did not run; output: ${JSON.stringify(run.output)?.slice(0, 3000)}\n${run.logs.slice(-4000)}`);
	return (runData[node].at(-1).data.main as Array<Array<{ json: Json }> | null>).map((items) => (items ?? []).map((i) => i.json));
}

/** The case page's hidden fields: which case and prompt it shows. */
function caseOf(page: FormPage): { caseId: string; prompt: string } {
	const hidden = page.controls.filter((c) => c.kind === 'hidden');
	expect(hidden).toHaveLength(2);
	return { caseId: hidden[0].value, prompt: hidden[1].value };
}

/** The first answer control of a case page (the one after the hidden fields). */
function answerControl(page: FormPage): FormControl {
	return page.controls.find((c) => c.kind !== 'hidden')!;
}

describe('the review loop in a real n8n: queue invalid answers, correct them in the form', () => {
	let tmp: string;
	let registry: string;
	let store: FileRegistryStore;
	let model: ModelServer;
	let n8n: N8nInstance;
	let server: N8nServer;
	let formUrl: string;
	/** The cases the supplier flow queued, by prompt. */
	const queued: Record<string, ReviewCase> = {};

	beforeAll(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-review-e2e-'));
		registry = path.join(tmp, 'registry');
		fs.cpSync(path.join(REPO_ROOT, 'examples', 'registry'), registry, { recursive: true });
		store = new FileRegistryStore(registry);
		const rules = loadRules(path.join(REPO_ROOT, 'examples', 'scripted-model.yaml'));
		for (const [prompt, c] of Object.entries(CASES)) {
			if (prompt !== 'delivery-delay-days') rules.rules.unshift({ prompt, when: escapeRegExp(email(c.email).subject), raw: c.raw }); // that one's rule is in the file
		}
		model = await startModelServer({ rules });

		n8n = await createN8n({ withPackage: true });
		await n8n.importCredentials(
			writeJson(path.join(tmp, 'credentials.json'), [
				{ ...CREDENTIALS.promptRegistryApi, type: 'promptRegistryApi', data: { registryPath: registry } },
				{ ...CREDENTIALS.openAiApi, type: 'openAiApi', data: { apiKey: 'sk-e2e-review', url: model.openaiBaseUrl } },
			]),
		);
		await n8n.importWorkflow(path.join(REPO_ROOT, 'examples', 'workflows', 'review-queue.json'));
		await n8n.publishWorkflow(WORKFLOW_ID);
	}, 25 * MINUTE);

	afterAll(async () => {
		await n8n?.dispose();
		await model?.close();
		if (tmp && process.env.PROMPT_RELEASE_E2E_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
	});

	test(
		'the supplier flow queues every invalid signal as a pending case, and the items say so',
		async () => {
			// `n8n execute` starts at the Manual Trigger: the supplier-email flow of the workflow.
			const run = await n8n.executeWorkflow(WORKFLOW_ID);
			expect({ status: run.status, ok: run.ok }).toEqual({ status: 'success', ok: true });
			const [valid, invalid] = outputs(run, 'Extract Signal');
			expect(valid.length + invalid.length).toBe(emails.length);
			expect(invalid.map((i) => i.id).sort()).toEqual(Object.values(CASES).map((c) => c.email).sort());
			expect(outputs(run, 'Queued for review (invalid signals)')[0]).toHaveLength(4);

			for (const [prompt, c] of Object.entries(CASES)) {
				const item = invalid.find((i) => i.id === c.email)!;
				expect(item._invalid).toHaveLength(1);
				const [entry] = item._invalid;
				expect(entry).toMatchObject({ field: c.field, prompt, rawOutput: c.raw, review: { kind: 'invalid', caseId: expect.stringMatching(/^review-[0-9a-f]{16}$/) } });
				expect(entry.review.queued).toBeUndefined();

				const pending = await store.listReviews(prompt, 'pending');
				expect(pending).toHaveLength(1);
				const [kase] = pending;
				expect(kase).toMatchObject({
					id: entry.review.caseId,
					promptId: prompt,
					kind: 'invalid',
					version: 1,
					channel: 'production',
					modelOutput: c.raw,
					inputs: { subject: email(c.email).subject, body: email(c.email).body },
					occurrences: 1,
					status: 'pending',
					source: { workflowId: WORKFLOW_ID, node: 'Extract Signal', field: c.field },
				});
				expect(kase.reason).toMatch(/invalid model output after one repair attempt/);
				queued[prompt] = kase;
			}
			expect(Object.keys(queued)).toHaveLength(4);
			// The CLI sees the same queue.
			const listed = await cli(registry, ['review', '--json']);
			expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
			expect((JSON.parse(listed.stdout) as ReviewCase[]).map((k) => [k.promptId, k.id]).sort()).toEqual(Object.values(queued).map((k) => [k.promptId, k.id]).sort());

			server = await n8n.startServer();
			formUrl = `${server.url}/form/${REVIEW_FORM_PATH}`;
			await waitForForm(formUrl, server);
		},
		10 * MINUTE,
	);

	/** Opens the review form and asks for the next case, as the analyst does. */
	const nextCase = async (): Promise<FormPage> => {
		const start = await openForm(formUrl);
		expect(start).toMatchObject({ kind: 'form', title: 'Review queue' });
		return await submitForm(start);
	};

	(browserChecks ? test : test.skip)(
		'Chromium shows the case: the model answer is on screen and the input fits the declared type',
		async () => {
			expect(server).toBeDefined();
			const page = await nextCase();
			expect(page.kind).toBe('form');
			const { prompt } = caseOf(page);
			const kase = queued[prompt];

			// The live page from n8n, after its scripts ran.
			const dom = parseFormPage(await dumpDom(page.url), page.url);
			expect(dom.text).toContain(`What the model answered ${kase.modelOutput as string}`);
			expect(dom.controls.map((c) => [c.kind, c.type, c.label, c.options])).toEqual(page.controls.map((c) => [c.kind, c.type, c.label, c.options]));
			expect(answerControl(dom)).toMatchObject({ kind: CASES[prompt].input.kind, ...(CASES[prompt].input.type ? { type: CASES[prompt].input.type } : {}) });

			// The same HTML with the model's answer blanked out (same length, one line, so the layout stays): the answer is visible.
			const dir = path.join(tmp, 'screens');
			fs.mkdirSync(dir, { recursive: true });
			const shown = path.join(dir, 'case.html');
			const blank = path.join(dir, 'case-blank.html');
			fs.writeFileSync(shown, page.html);
			const answerBlock = /(<b>What the model answered<\/b><\/p><div>)([^<]*)(<\/div>)/;
			expect(page.html).toMatch(answerBlock);
			// No-break spaces: a block of plain spaces would collapse to nothing and move everything below it.
			fs.writeFileSync(blank, page.html.replace(answerBlock, (_m, a: string, text: string, b: string) => `${a}${text.replace(/[^\s]/g, '\u00a0')}${b}`));
			const first = decodePng(await screenshot(`file://${shown}`, path.join(dir, 'case-1.png'), 900, 1100));
			const again = decodePng(await screenshot(`file://${shown}`, path.join(dir, 'case-2.png'), 900, 1100));
			const blanked = decodePng(await screenshot(`file://${blank}`, path.join(dir, 'case-blank.png'), 900, 1100));
			expect(differingPixels(first, again)).toBe(0); // control: the same page renders the same
			const changed = differingPixels(first, blanked);
			expect(changed).toBeGreaterThan(20); // the answer's glyphs
			expect(changed).toBeLessThan(first.width * first.height * 0.02); // and nothing else moved
			if (process.env.PROMPT_RELEASE_WRITE_SCREENSHOT === '1') fs.copyFileSync(path.join(dir, 'case-1.png'), path.join(REPO_ROOT, 'docs', 'review-form.png'));
			// The analyst closes the tab: the case stays pending (the next test gets it again).
			expect((await store.listReviews(prompt, 'pending')).map((c) => c.id)).toEqual([kase.id]);
		},
		5 * MINUTE,
	);

	test(
		'each case shows the email, the answer, the reason and a typed input; an out-of-range value is refused and the case stays pending; answers become typed fixtures and resolve their cases; then "Nothing to review"',
		async () => {
			expect(server).toBeDefined();
			const seen: string[] = [];
			for (let round = 0; round < 4; round++) {
				let page = await nextCase();
				expect(page.kind).toBe('form');
				const { caseId, prompt } = caseOf(page);
				const c = CASES[prompt];
				const kase = queued[prompt];
				expect(caseId).toBe(kase.id);
				expect(seen).not.toContain(prompt);
				seen.push(prompt);

				// What the analyst reads: the email, what the model answered, why it was doubted.
				expect(page.title).toBe(`Review: ${prompt}`);
				expect(page.text).toContain(`Input: subject ${email(c.email).subject}`);
				expect(page.text).toContain(email(c.email).body.split('\n')[2].trim());
				expect(page.text).toContain(`What the model answered ${c.raw}`);
				expect(page.text).toContain(`Why this case is here: The answer was not valid: ${kase.reason}`);
				// An input that fits the declared type.
				const { labelMatch, ...input } = c.input;
				const answer = answerControl(page);
				expect(answer).toMatchObject(input);
				if (labelMatch) expect(answer.label).toMatch(labelMatch);
				const notStated = page.controls.filter((x) => x.kind === 'multiselect');
				expect(notStated.map((x) => x.options)).toEqual(c.notStatedBox ? [[NOT_STATED]] : []);

				const fixturesDir = path.join(registry, prompt, 'fixtures');
				const fixtureFiles = () => fs.readdirSync(fixturesDir).filter((f) => f.endsWith('.yaml')).sort();
				const before = fixtureFiles();
				if (prompt === 'delivery-delay-days') {
					// Out of range: a clear message, no fixture, the case still pending.
					const refused = await submitForm(page, { [answer.label!]: -3 });
					expect(refused).toMatchObject({ kind: 'completion', title: 'Not recorded', executionStatus: 'success' });
					expect(refused.text).toContain(`review case "${caseId}" of prompt "delivery-delay-days": form field "value": -3 is out of range: enter a whole number 0 or more`);
					expect(refused.text).toContain('Nothing was written. Open the review form again');
					expect(fixtureFiles()).toEqual(before);
					expect((await store.listReviews(prompt, 'pending')).map((k) => k.id)).toEqual([kase.id]);
					// Opening the form again shows the same case.
					page = await nextCase();
					expect(caseOf(page)).toEqual({ caseId, prompt });
				}

				const done = await submitForm(page, { [answer.label!]: c.answer });
				expect(done).toMatchObject({ kind: 'completion', title: 'Recorded', executionStatus: 'success' });
				const fixtureId = `correction-${caseId.slice('review-'.length)}`;
				expect(done.text).toContain(`Fixture ${fixtureId} was added for prompt ${prompt} (expected ${JSON.stringify(c.expected)})`);

				// (a) The fixture file, as a user reads it in git: the typed value, from a correction of the case's answer.
				expect(fixtureFiles()).toEqual([...before, `${fixtureId}.yaml`].sort());
				const fixture = parseYaml(fs.readFileSync(path.join(fixturesDir, `${fixtureId}.yaml`), 'utf8'));
				expect(fixture).toMatchObject({
					id: fixtureId,
					expected: c.expected,
					source: 'correction',
					inputs: { subject: email(c.email).subject, body: email(c.email).body },
					recorded: { version: 1, modelOutput: c.raw },
				});
				// (b) The case is resolved by that fixture.
				expect(await store.listReviews(prompt, 'pending')).toEqual([]);
				const [resolved] = await store.listReviews(prompt, 'resolved');
				expect(resolved).toMatchObject({ id: caseId, status: 'resolved', closed: { status: 'resolved', fixtureId } });
			}
			expect(seen.sort()).toEqual(Object.keys(CASES).sort());

			// (d) An empty queue.
			const empty = await nextCase();
			expect(empty).toMatchObject({ kind: 'completion', title: 'Nothing to review', executionStatus: 'success' });
			expect(empty.text).toContain('Every queued answer has been reviewed.');
			const pending = await cli(registry, ['review', '--json']);
			expect({ code: pending.code, cases: JSON.parse(pending.stdout) }).toEqual({ code: 0, cases: [] });
			const resolved = JSON.parse((await cli(registry, ['review', '--status', 'resolved', '--json'])).stdout) as ReviewCase[];
			expect(resolved.map((k) => [k.id, k.closed?.fixtureId]).sort()).toEqual(Object.values(queued).map((k) => [k.id, `correction-${k.id.slice('review-'.length)}`]).sort());
		},
		8 * MINUTE,
	);
});
