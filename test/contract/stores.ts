/**
 * The stores the contract suite runs against, each with the few test-only hooks that reach around the
 * store (to corrupt stored content the way a hand edit or a bad migration would).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { PostgresRegistryStore } from '../../lib/registry/postgres/store';
import { parsePostgresUrl } from '../../lib/registry/postgres/settings';
import { toYaml } from '../../lib/yaml-io';
import type { RegistryStore } from '../../lib/registry/store';
import { dropSchemas, pgUrl, sql, uniqueSchema } from '../support/postgres';

export interface StoreUnderTest {
	store: RegistryStore;
	/** Replace the stored content of a version (bypassing create-only). */
	overwriteVersion(promptId: string, version: number, body: Record<string, unknown>): Promise<void>;
	/** Replace the stored content of a fixture without validation. */
	overwriteFixture(promptId: string, fixtureId: string, body: Record<string, unknown>): Promise<void>;
}

export interface StoreFactory {
	name: string;
	create(): Promise<StoreUnderTest>;
	cleanup(): Promise<void>;
}

export function fileStoreFactory(): StoreFactory {
	const dirs: string[] = [];
	return {
		name: 'file store',
		async create() {
			const root = await fs.mkdtemp(path.join(os.tmpdir(), 'prompt-release-contract-'));
			dirs.push(root);
			const put = async (rel: string, body: unknown) => {
				await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
				await fs.writeFile(path.join(root, rel), toYaml(body));
			};
			return {
				store: new FileRegistryStore(root),
				overwriteVersion: (p, v, body) => put(`${p}/versions/${v}.yaml`, body),
				overwriteFixture: (p, f, body) => put(`${p}/fixtures/${f}.yaml`, body),
			};
		},
		async cleanup() {
			await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
		},
	};
}

export function postgresStoreFactory(): StoreFactory {
	const schemas: string[] = [];
	return {
		name: 'PostgreSQL store',
		async create() {
			const schema = uniqueSchema('contract');
			schemas.push(schema);
			return {
				store: new PostgresRegistryStore({ ...parsePostgresUrl(pgUrl(schema)), createSchema: true }),
				async overwriteVersion(p, v, body) {
					await sql(`UPDATE "${schema}".versions SET body = $3 WHERE prompt_id = $1 AND version = $2`, [p, v, body]);
				},
				async overwriteFixture(p, f, body) {
					await sql(`UPDATE "${schema}".fixtures SET body = $3 WHERE prompt_id = $1 AND fixture_id = $2`, [p, f, body]);
				},
			};
		},
		async cleanup() {
			await dropSchemas(schemas);
		},
	};
}
