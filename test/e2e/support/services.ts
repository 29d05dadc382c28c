/**
 * PostgreSQL and Redis for queue-mode tests: the local servers (PostgreSQL 15 on 127.0.0.1:5432, trust
 * auth, user postgres; Redis 7 on 127.0.0.1:6379; override with PROMPT_RELEASE_TEST_PG /
 * PROMPT_RELEASE_TEST_REDIS). Each run gets a database of its own and a Redis key prefix of its own,
 * and removes both afterwards, so parallel runs never meet.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';

import { ensureN8nHost } from './process';

/** Connection URL of the server's maintenance database (CREATE/DROP DATABASE run there). */
export const PG_ADMIN_URL = process.env.PROMPT_RELEASE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = new URL(process.env.PROMPT_RELEASE_TEST_REDIS ?? 'redis://127.0.0.1:6379');
export const REDIS_HOST = REDIS.hostname;
export const REDIS_PORT = Number(REDIS.port || 6379);

/** A lower-case name no other run uses: `<prefix>_<pid>_<6 hex>`. */
export function uniqueName(prefix: string): string {
	return `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`.toLowerCase();
}

async function reachable(host: string, port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const socket = net.connect({ host, port });
		socket.setTimeout(2000);
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('timeout', () => {
			socket.destroy();
			resolve(false);
		});
		socket.once('error', () => resolve(false));
	});
}

/** Throws a message saying what to start when PostgreSQL or Redis does not answer. */
export async function requireServices(): Promise<void> {
	const pg = new URL(PG_ADMIN_URL);
	const missing: string[] = [];
	if (!(await reachable(pg.hostname, Number(pg.port || 5432)))) missing.push(`PostgreSQL at ${pg.hostname}:${pg.port || 5432} (PROMPT_RELEASE_TEST_PG)`);
	if (!(await reachable(REDIS_HOST, REDIS_PORT))) missing.push(`Redis at ${REDIS_HOST}:${REDIS_PORT} (PROMPT_RELEASE_TEST_REDIS)`);
	if (missing.length) throw new Error(`queue-mode tests need ${missing.join(' and ')}; start them (CI provides both)`);
}

/** Runs SQL on a database of the test server with a short-lived client. */
export async function pgQuery<R = Record<string, unknown>>(database: string | undefined, text: string, params: unknown[] = []): Promise<R[]> {
	const url = new URL(PG_ADMIN_URL);
	if (database) url.pathname = `/${database}`;
	const client = new Client({ connectionString: url.toString() });
	await client.connect();
	try {
		return (await client.query(text, params)).rows as R[];
	} finally {
		await client.end();
	}
}

/** A fresh, empty database; its name. */
export async function createDatabase(prefix: string): Promise<string> {
	const name = uniqueName(prefix);
	await pgQuery(undefined, `CREATE DATABASE "${name}"`);
	return name;
}

/** Drops a database, disconnecting whoever still uses it. */
export async function dropDatabase(name: string): Promise<void> {
	await pgQuery(undefined, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** Deletes every Redis key containing `marker` (n8n's queue, pub/sub and cache keys of one run). */
export async function deleteRedisKeys(marker: string): Promise<number> {
	// The Redis client n8n itself uses, from the pinned host (not a dependency of this project).
	const Redis = require(path.join(ensureN8nHost().hostDir, 'node_modules', 'ioredis')) as new (opts: object) => {
		scan(cursor: string, ...args: Array<string | number>): Promise<[string, string[]]>;
		del(...keys: string[]): Promise<number>;
		quit(): Promise<unknown>;
	};
	const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: false, maxRetriesPerRequest: 2 });
	let deleted = 0;
	try {
		let cursor = '0';
		do {
			const [next, keys] = await redis.scan(cursor, 'MATCH', `*${marker}*`, 'COUNT', 500);
			cursor = next;
			if (keys.length) deleted += await redis.del(...keys);
		} while (cursor !== '0');
	} finally {
		await redis.quit();
	}
	return deleted;
}
