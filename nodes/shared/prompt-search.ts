/** Registry look-ups for the editor: the prompt picker (listSearch), prompt options (loadOptions), and the credential test. */
import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	ILoadOptionsFunctions,
	INodeCredentialTestResult,
	INodeListSearchItems,
	INodeListSearchResult,
	INodePropertyOptions,
} from 'n8n-workflow';
import type { RegistryStore } from '../../lib/registry/store';
import { schemaVersion, versionProblem } from '../../lib/registry/postgres/migrations';
import { PostgresRegistryStore } from '../../lib/registry/postgres/store';
import { getRegistryStore, registryStoreFromCredential } from './registry';

interface PromptEntry {
	id: string;
	description: string;
	production?: number;
}

async function listEntries(store: RegistryStore): Promise<PromptEntry[]> {
	const ids = await store.listPrompts();
	return await Promise.all(
		ids.map(async (id): Promise<PromptEntry> => {
			const [description, production] = await Promise.all([
				store.readDraft(id).then((spec) => spec.description.trim(), () => ''),
				store.readReleases(id).then((r) => r.channels.production?.version, () => undefined),
			]);
			return { id, description, production };
		}),
	);
}

function matches(entry: PromptEntry, filter: string | undefined): boolean {
	const f = filter?.trim().toLowerCase();
	return !f || entry.id.toLowerCase().includes(f) || entry.description.toLowerCase().includes(f);
}

function label(entry: PromptEntry): string {
	return entry.production !== undefined ? `${entry.id} (production: v${entry.production})` : `${entry.id} (not released)`;
}

/** listSearch `searchPrompts`: registry prompts whose id or description contains the filter. */
export async function searchPrompts(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const store = await getRegistryStore(this);
	const results: INodeListSearchItems[] = (await listEntries(store))
		.filter((entry) => matches(entry, filter))
		.map((entry) => ({ name: label(entry), value: entry.id, ...(entry.description ? { description: entry.description } : {}) }));
	return { results };
}

/** loadOptions `getPrompts`: every prompt of the registry, for option lists. */
export async function getPrompts(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const store = await getRegistryStore(this);
	return (await listEntries(store)).map((entry) => ({ name: label(entry), value: entry.id, ...(entry.description ? { description: entry.description } : {}) }));
}

/** PostgreSQL: connect and check the schema is at the version this package expects (no migration here). */
async function testPostgres(store: PostgresRegistryStore): Promise<INodeCredentialTestResult> {
	let current: number;
	try {
		current = await schemaVersion(store.pool, store.schema);
	} catch (error) {
		return { status: 'Error', message: `cannot connect to ${store.location}: ${(error as Error).message}` };
	}
	const problem = versionProblem(store.schema, current);
	if (problem) return { status: 'Error', message: problem };
	const prompts = await store.listPrompts();
	return { status: 'OK', message: `Connected to ${store.location} (schema version ${current}): ${prompts.length} prompt(s)${prompts.length ? `: ${prompts.slice(0, 5).join(', ')}${prompts.length > 5 ? ', …' : ''}` : ''}` };
}

/** credentialTest `promptRegistryTest`: the folder exists and holds readable prompts, or the database answers at the expected schema version. */
export async function promptRegistryTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	try {
		const store = registryStoreFromCredential(credential.data);
		if (store instanceof PostgresRegistryStore) return await testPostgres(store);
		const prompts = await store.listPrompts();
		return { status: 'OK', message: prompts.length ? `Found ${prompts.length} prompt(s): ${prompts.slice(0, 5).join(', ')}${prompts.length > 5 ? ', …' : ''}` : 'The folder exists but holds no prompts yet' };
	} catch (error) {
		return { status: 'Error', message: error instanceof Error ? error.message : String(error) };
	}
}

/** The editor-side methods all three nodes offer: the prompt list (search and options) and the registry credential test. */
export const promptMethods = {
	listSearch: { searchPrompts },
	loadOptions: { getPrompts },
	credentialTest: { promptRegistryTest },
};
