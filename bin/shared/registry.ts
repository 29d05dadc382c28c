/** The global `--registry` option and the checks every prompt-taking command shares. */
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { assertPromptId, FileRegistryStore, InputError, openRegistryStore, type RegistryStore } from '../../lib';
import { UsageError } from './exit';

export const DEFAULT_REGISTRY = './prompts';
export const REGISTRY_ENV = 'PROMPT_RELEASE_REGISTRY';

/** Accepted on the program and on every command, so it may come before or after the command name. */
export function registryOption(): Option {
	return new Option('--registry <dir|url>', `registry folder or postgres://user@host:5432/db?schema=prompts URL (default: $${REGISTRY_ENV} or ${DEFAULT_REGISTRY})`);
}

/** The registry location (folder or postgres:// URL): the nearest `--registry`, else $PROMPT_RELEASE_REGISTRY, else ./prompts. */
export function registryDir(cmd: Command): string {
	for (let c: Command | null = cmd; c; c = c.parent) {
		const value = c.opts<{ registry?: string }>().registry;
		if (value) return value;
	}
	const env = process.env[REGISTRY_ENV]?.trim();
	return env || DEFAULT_REGISTRY;
}

/** The registry the command works on: a folder, or PostgreSQL for a `postgres://` URL (connections close when the CLI exits). */
export function openStore(cmd: Command): RegistryStore {
	return openRegistryStore(registryDir(cmd));
}

/** The registry as messages show it: a folder relative to the current directory, or the URL without password. */
export function storeLabel(store: RegistryStore): string {
	return store instanceof FileRegistryStore ? shownPath(store.root) : store.location;
}

/**
 * Where an item of a prompt lives, for messages: a path in a folder registry; in a database, what the item is and
 * where (`run <id> of "<prompt>" in postgres://…`), never a file path that does not exist.
 */
export function storeItem(store: RegistryStore, promptId: string, ...item: string[]): string {
	if (store instanceof FileRegistryStore) return path.join(shownPath(store.root), promptId, ...item);
	const [kind, name] = item;
	const id = name?.replace(/\.(json|yaml)$/, '');
	const what =
		kind === 'runs' && id ? `run ${id}` : kind === 'versions' && id ? `version ${id}` : kind === 'fixtures' && id ? `fixture ${id}` : kind === 'fixtures' ? 'the fixtures' : kind === 'prompt.yaml' ? 'the draft' : item.join('/');
	return `${what} of "${promptId}" in ${store.location}`;
}

/** A path as users read it: relative to the current directory when inside it. */
export function shownPath(p: string): string {
	const rel = path.relative(process.cwd(), path.resolve(p));
	return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(p);
}

/** Check the id (no "/", "..") and that the registry holds that prompt. */
export async function requirePrompt(store: RegistryStore, promptId: string): Promise<void> {
	assertPromptId(promptId);
	const prompts = await store.listPrompts();
	if (!prompts.includes(promptId)) {
		throw new InputError(
			`prompt "${promptId}" not found in registry ${storeLabel(store)} (${prompts.length ? `prompts: ${prompts.join(', ')}` : 'it has no prompts yet'})`,
		);
	}
}

const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function parseChannel(value: string): string {
	if (!CHANNEL.test(value)) {
		throw new UsageError(`channel "${value}" is invalid: use letters, digits, "-" and "_" (e.g. production, staging)`);
	}
	return value;
}

/** `3` or `v3` → 3; with `allowDraft`, `draft` → 'draft'. */
export function parseVersion(value: string, allowDraft: boolean): number | 'draft' {
	const t = value.trim();
	if (allowDraft && t === 'draft') return 'draft';
	if (/^v?[1-9][0-9]*$/.test(t)) return Number(t.replace(/^v/, ''));
	throw new UsageError(`--version "${value}" is invalid: give a version number such as 3${allowDraft ? ' or "draft"' : ''}`);
}

/** A whole number of at least 1, or a UsageError naming the option. */
export function parsePositiveInt(value: string, option: string): number {
	if (!/^[1-9][0-9]*$/.test(value.trim())) throw new UsageError(`${option} "${value}" is invalid: give a whole number of at least 1`);
	return Number(value);
}

/** A number above 0 (`0.5`, `20`), or a UsageError naming the option. */
export function parsePositiveNumber(value: string, option: string): number {
	const t = value.trim();
	const n = Number(t);
	if (!/^[0-9]*\.?[0-9]+$/.test(t) || !Number.isFinite(n) || n <= 0) throw new UsageError(`${option} "${value}" is invalid: give a number above 0, e.g. 20 or 0.5`);
	return n;
}
