/** Shared helpers of the core unit tests: temp registries, prompt specs and a scripted provider. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { contentHash } from '../../lib/hash';
import { toYaml } from '../../lib/yaml-io';
import type { Provider, ProviderRequest, ProviderResponse } from '../../lib/providers/types';
import type { Fixture, OutputSchema, PromptSpec, ProviderName, ResolvedPrompt, RunReport, FixtureResult } from '../../lib/types';

const created: string[] = [];

/** A fresh registry folder, removed after the test file. */
export async function tempRegistry(): Promise<{ root: string; store: FileRegistryStore }> {
	const root = await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-unit-'));
	created.push(root);
	return { root, store: new FileRegistryStore(root) };
}

export async function tempDir(): Promise<string> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-unit-'));
	created.push(dir);
	return dir;
}

afterAll(async () => {
	await Promise.all(created.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

export function makeSpec(over: Partial<PromptSpec> = {}): PromptSpec {
	return {
		id: 'price-change',
		description: 'Does the email announce a price change?',
		model: { provider: 'openai', name: 'gpt-4o-mini', temperature: 0, maxTokens: 50 },
		inputs: { subject: { type: 'string', required: true }, body: { type: 'string', required: true } },
		instructions: 'You read supplier emails. Answer only whether the email announces a price change.',
		template: 'Subject: {{subject}}\n\n{{body}}',
		output: { type: 'boolean' },
		limitations: 'English only.',
		...over,
	};
}

export function resolvedOf(spec: PromptSpec, version: number | 'draft' = 'draft'): ResolvedPrompt {
	return { promptId: spec.id, version, contentHash: contentHash(spec), spec };
}

export async function writeText(file: string, text: string): Promise<void> {
	await fs.mkdir(path.dirname(file), { recursive: true });
	await fs.writeFile(file, text, 'utf8');
}

/** Write a prompt draft as YAML text (the way a person would). */
export async function writeDraftFile(root: string, id: string, text: string): Promise<string> {
	const file = path.join(root, id, 'prompt.yaml');
	await writeText(file, text);
	return file;
}

export async function writeFixtureFile(root: string, promptId: string, fixture: Record<string, unknown>): Promise<string> {
	const file = path.join(root, promptId, 'fixtures', `${String(fixture.id)}.yaml`);
	await writeText(file, toYaml(fixture));
	return file;
}

export function fixture(id: string, inputs: Record<string, unknown>, expected: Fixture['expected'], over: Partial<Fixture> = {}): Fixture {
	return { id, inputs, expected, source: 'manual', ...over };
}

export type Step = string | Error | ((request: ProviderRequest) => string | Promise<string>);

/**
 * A provider that answers from a script (one step per call, the last step repeating),
 * or from a function of the request. Records every request.
 */
export class ScriptedProvider implements Provider {
	readonly requests: ProviderRequest[] = [];
	inFlight = 0;
	maxInFlight = 0;
	private index = 0;

	constructor(
		private readonly steps: Step[],
		readonly name: ProviderName = 'openai',
		private readonly usage = { inputTokens: 10, outputTokens: 2 },
		private readonly delayMs = 0,
	) {}

	async complete(request: ProviderRequest): Promise<ProviderResponse> {
		this.requests.push(request);
		this.inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
		try {
			if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
			const step = this.steps[Math.min(this.index++, this.steps.length - 1)];
			if (step instanceof Error) throw step;
			const text = typeof step === 'function' ? await step(request) : step;
			return { text, usage: { ...this.usage }, end: { reason: 'stop', providerReason: 'stop' } };
		} finally {
			this.inFlight--;
		}
	}
}

/** A provider answering `{"value": <answer(user message)>}`. */
export function answering(fn: (user: string) => unknown, delayMs = 0): ScriptedProvider {
	return new ScriptedProvider([(req) => JSON.stringify({ value: fn(req.messages[0].content) })], 'openai', { inputTokens: 10, outputTokens: 2 }, delayMs);
}

export function outputOf(schema: OutputSchema): Pick<PromptSpec, 'output'> {
	return { output: schema };
}

/** A minimal stored run report for gate tests. */
export function runReport(over: Omit<Partial<RunReport>, 'results'> & { results: Array<Partial<FixtureResult> & { fixtureId: string; passed: boolean; expected: FixtureResult['expected'] }> }): RunReport {
	const results: FixtureResult[] = over.results.map((r) => ({
		segment: 'default',
		actual: r.passed ? r.expected : null,
		valid: true,
		rawOutput: null,
		latencyMs: 1,
		inputTokens: 1,
		outputTokens: 1,
		costUsd: 0,
		repaired: false,
		...r,
	}));
	const passed = results.filter((r) => r.passed).length;
	return {
		runId: 'run-1',
		promptId: 'price-change',
		version: 1,
		contentHash: 'sha256:' + '0'.repeat(64),
		model: { provider: 'openai', name: 'gpt-4o-mini' },
		startedAt: '2026-01-01T00:00:00.000Z',
		finishedAt: '2026-01-01T00:00:01.000Z',
		summary: {
			total: results.length,
			passed,
			failed: results.length - passed,
			passRate: results.length ? passed / results.length : 0,
			segments: {},
			regressions: [],
			latencyMs: { p50: 1, p95: 1 },
			tokens: { input: 0, output: 0 },
			costUsd: 0,
			runId: over.runId ?? 'run-1',
		},
		...over,
		results,
	};
}
