/**
 * The Prompt Registry credential with Storage = PostgreSQL: fields as n8n's Postgres credential, the
 * credential test connects and checks the schema version, and folder credentials saved before Storage existed still work.
 */
import { PromptRegistryApi } from '../../credentials/PromptRegistryApi.credentials';
import { RunPromptRelease } from '../../nodes/RunPromptRelease/RunPromptRelease.node';
import { postgresSettingsFromCredential, registryStoreFromCredential } from '../../nodes/shared/registry';
import { FileRegistryStore } from '../../lib/registry/file-store';
import { closeRegistryConnections } from '../../lib/registry/open';
import { migrate, LATEST_VERSION } from '../../lib/registry/postgres/migrations';
import { PostgresRegistryStore } from '../../lib/registry/postgres/store';
import { clientConfig } from '../../lib/registry/postgres/settings';
import { dropSchemas, uniqueSchema } from '../support/postgres';
import { credentialTestContext } from './support/load-options';

const schemas: string[] = [];
afterAll(async () => {
	await closeRegistryConnections();
	await dropSchemas(schemas);
});

const pgData = (schema: string, over: Record<string, unknown> = {}) => ({ storage: 'postgres', host: '127.0.0.1', port: 5432, database: 'postgres', user: 'postgres', password: '', ssl: 'disable', allowUnauthorizedCerts: false, schema, ...over });
const credential = (data: Record<string, unknown>) => ({ id: '1', name: 'registry', type: 'promptRegistryApi', data: data as never });
const test_ = () => new RunPromptRelease().methods.credentialTest.promptRegistryTest;

it('offers Storage (Folder by default) and the PostgreSQL fields of n8n\'s own Postgres credential', () => {
	const props = new PromptRegistryApi().properties;
	expect(props[0]).toMatchObject({ name: 'storage', default: 'folder' });
	expect(props.map((p) => p.name)).toEqual(['storage', 'registryPath', 'host', 'database', 'user', 'password', 'allowUnauthorizedCerts', 'ssl', 'port', 'schema']);
	expect(props.find((p) => p.name === 'ssl')?.options?.map((o) => (o as { value: string }).value)).toEqual(['allow', 'disable', 'prefer', 'require', 'verify-ca', 'verify-full']);
});

it('maps the SSL option with libpq meanings: only Verify CA / Verify Full check the certificate', () => {
	const ssl = (mode: string, over: Record<string, unknown> = {}) => clientConfig(postgresSettingsFromCredential(pgData('s', { ssl: mode, ...over }) as never)).ssl;
	expect(ssl('disable')).toBe(false);
	expect(ssl('require')).toEqual({ rejectUnauthorized: false });
	expect(ssl('prefer')).toEqual({ rejectUnauthorized: false });
	expect(ssl('verify-full')).toEqual({ rejectUnauthorized: true });
	expect(ssl('verify-full', { allowUnauthorizedCerts: true })).toEqual({ rejectUnauthorized: false });
	expect(() => ssl('sometimes')).toThrow(/choose Disable, Allow, Prefer, Require, Verify CA or Verify Full/);
});

it('keeps folder credentials saved before Storage existed working', () => {
	expect(registryStoreFromCredential({ registryPath: '/data/prompts' })).toBeInstanceOf(FileRegistryStore);
	expect(registryStoreFromCredential(pgData('prompts'))).toBeInstanceOf(PostgresRegistryStore);
});

it('names the field to fix', () => {
	expect(() => postgresSettingsFromCredential(pgData('Bad Schema'))).toThrow(/Schema "Bad Schema" is invalid/);
	expect(() => postgresSettingsFromCredential(pgData('ok', { port: 99999 }))).toThrow(/Port "99999" is invalid/);
	expect(postgresSettingsFromCredential(pgData('ok', { allowUnauthorizedCerts: true }))).toMatchObject({ ssl: 'require', allowUnauthorizedCerts: true });
	expect(() => registryStoreFromCredential({ storage: 'ftp' })).toThrow(/Storage "ftp" is invalid/);
});

it('the credential test connects and checks the schema version', async () => {
	const schema = uniqueSchema('cred');
	schemas.push(schema);
	const fresh = await test_().call(credentialTestContext(), credential(pgData(schema)));
	expect(fresh).toEqual({ status: 'Error', message: `registry schema "${schema}" is at schema version 0, expected ${LATEST_VERSION}: run prompt-release db migrate --registry <postgres-url>` });
	await migrate((registryStoreFromCredential(pgData(schema)) as PostgresRegistryStore).pool, schema);
	expect(await test_().call(credentialTestContext(), credential(pgData(schema)))).toEqual({
		status: 'OK',
		message: `Connected to postgres://postgres@127.0.0.1:5432/postgres?schema=${schema} (schema version ${LATEST_VERSION}): 0 prompt(s)`,
	});
	const down = await test_().call(credentialTestContext(), credential(pgData(schema, { port: 1 })));
	expect(down).toMatchObject({ status: 'Error', message: expect.stringMatching(/^cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/postgres/) });
});
