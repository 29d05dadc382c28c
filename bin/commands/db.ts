/** `prompt-release db migrate|status`: create or upgrade the PostgreSQL registry schema, or show its version. */
import type { Command } from 'commander';
import { migrateSchema, SCHEMA_VERSION, schemaVersion, versionProblem } from '../../lib';
import { action, EXIT_FAILED, EXIT_OK } from '../shared/exit';
import { out } from '../shared/output';
import { postgresStore } from '../shared/postgres';
import { registryDir, registryOption } from '../shared/registry';

async function migrateCmd(_opts: unknown, cmd: Command): Promise<number> {
	const store = postgresStore(registryDir(cmd), '--registry');
	const result = await migrateSchema(store.pool, store.schema);
	if (!result.applied.length) out(`${store.location}: schema version ${result.to}, up to date`);
	for (const m of result.applied) out(`applied migration ${m.version}: ${m.description}`);
	if (result.applied.length) out(`${store.location}: schema version ${result.from} → ${result.to}`);
	return EXIT_OK;
}

async function statusCmd(_opts: unknown, cmd: Command): Promise<number> {
	const store = postgresStore(registryDir(cmd), '--registry');
	const current = await schemaVersion(store.pool, store.schema).catch((error: Error) => {
		throw new Error(`cannot reach ${store.location}: ${error.message}`);
	});
	const problem = versionProblem(store.schema, current);
	out(`${store.location}: schema version ${current}, expected ${SCHEMA_VERSION}${problem ? '' : ' (up to date)'}`);
	if (problem) out(problem);
	return problem ? EXIT_FAILED : EXIT_OK;
}

export function register(program: Command): void {
	const db = program.command('db').description('the PostgreSQL registry schema (--registry postgres://…)');
	db.command('migrate')
		.description('create the schema or apply pending migrations (safe to run from several places at once)')
		.addOption(registryOption())
		.action(action(migrateCmd));
	db.command('status')
		.description('show the schema version (exit 1 when it is not the one this version expects)')
		.addOption(registryOption())
		.action(action(statusCmd));
}
