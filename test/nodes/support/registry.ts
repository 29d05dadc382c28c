/**
 * Temp prompt registries for node tests, built only through the core (no hand-written YAML):
 * drafts, commits, fixtures, a stored passing run per version, releases and rollbacks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { commitDraft } from '../../../lib/registry/commit';
import { FileRegistryStore } from '../../../lib/registry/file-store';
import { resolvePrompt } from '../../../lib/registry/resolve';
import { releaseVersion, rollbackChannel } from '../../../lib/release';
import { runFixtures } from '../../../lib/runner';
import { createProvider } from '../../../lib/providers';
import type { Fixture, ModelSpec, PromptSpec } from '../../../lib/types';
import type { ModelServer } from '../../../lib/testing/model-server';
import { needsRouting, RoutingProvider } from '../../../lib/accuracy/routing-provider';
import type { Provider } from '../../../lib/providers/types';

export interface TempRegistry {
	root: string;
	store: FileRegistryStore;
	cleanup(): Promise<void>;
}

export async function tempRegistry(): Promise<TempRegistry> {
	const root = await mkdtemp(path.join(tmpdir(), 'prompt-release-nodes-'));
	return { root, store: new FileRegistryStore(root), cleanup: () => rm(root, { recursive: true, force: true }) };
}

export function openaiModel(over: Partial<ModelSpec> = {}): ModelSpec {
	return { provider: 'openai', name: 'test-model', temperature: 0, maxTokens: 100, ...over };
}

export function promptSpec(id: string, over: Partial<PromptSpec> = {}): PromptSpec {
	return {
		id,
		description: `Test prompt ${id}`,
		model: openaiModel(),
		inputs: { email_body: { type: 'string', required: true } },
		instructions: 'Read the supplier email and answer with the requested signal only.',
		template: 'Supplier email:\n{{email_body}}',
		output: { type: 'boolean' },
		limitations: 'Test prompt.',
		...over,
	};
}

/** The provider the release gate's test runs use: the loopback server, whatever the prompt's provider. */
function gateProvider(server: ModelServer, model: ModelSpec, spec?: PromptSpec): Provider {
	// A consensus across providers: each voter goes to its own provider on the model server.
	if (spec && needsRouting(spec)) return new RoutingProvider(gateProvider(server, model), (m) => gateProvider(server, m));
	return model.provider === 'anthropic'
		? createProvider(model, { apiKey: 'sk-ant-gate', baseUrl: server.anthropicBaseUrl, maxRetries: 0 })
		: createProvider(model, { apiKey: 'sk-gate', baseUrl: server.openaiBaseUrl, maxRetries: 0 });
}

/**
 * Commit the current draft as a new version, run the fixtures against the model server, store the run,
 * and release it on `channel`. Returns the version number.
 */
export async function commitAndRelease(store: FileRegistryStore, server: ModelServer, promptId: string, channel = 'production'): Promise<number> {
	const frozen = await commitDraft(store, promptId, { message: `test version for ${channel}` });
	const resolved = await resolvePrompt(store, promptId, { version: frozen.version });
	const fixtures = await store.listFixtures(promptId, resolved.spec);
	const report = await runFixtures({ resolved, fixtures, provider: gateProvider(server, resolved.spec.model, resolved.spec) });
	if (report.summary.failed > 0) throw new Error(`test setup: fixtures of ${promptId} v${frozen.version} failed: ${JSON.stringify(report.results)}`);
	await store.writeRun(report);
	await releaseVersion(store, promptId, frozen.version, { channel, by: 'node-tests' });
	return frozen.version;
}

export async function addPrompt(store: FileRegistryStore, spec: PromptSpec, fixtures: Fixture[] = []): Promise<void> {
	await store.writeDraft(spec);
	for (const fixture of fixtures) await store.writeFixture(spec.id, fixture);
}

export async function rollback(store: FileRegistryStore, promptId: string, channel = 'production'): Promise<void> {
	await rollbackChannel(store, promptId, { channel, by: 'node-tests', reason: 'test rollback' });
}
