/** `prompt-release init [dir]`: scaffold a registry with one example prompt and its fixtures. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../lib';
import { action } from '../shared/exit';
import { EXAMPLE_FIXTURES, EXAMPLE_ID, EXAMPLE_PROMPT, EXAMPLE_README } from '../shared/example';
import { out } from '../shared/output';
import { refuseUrlAsFolder } from '../shared/postgres';
import { registryDir, registryOption, shownPath } from '../shared/registry';

async function entries(dir: string): Promise<string[] | undefined> {
	try {
		const stat = await fs.stat(dir);
		if (!stat.isDirectory()) throw new ConfigError('exists and is not a folder: choose another path for the registry', { file: shownPath(dir) });
		return await fs.readdir(dir);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

async function promptFolders(dir: string, names: string[]): Promise<string[]> {
	const found: string[] = [];
	for (const name of names) {
		try {
			await fs.access(path.join(dir, name, 'prompt.yaml'));
			found.push(name);
		} catch {
			// not a prompt folder
		}
	}
	return found;
}

/** Write the example prompt folder (and the README when `withReadme`) into `dir`, which must not exist. */
async function writeScaffold(dir: string, withReadme: boolean): Promise<void> {
	const promptDir = path.join(dir, EXAMPLE_ID);
	await fs.mkdir(path.join(promptDir, 'fixtures'), { recursive: true });
	await fs.writeFile(path.join(promptDir, 'prompt.yaml'), EXAMPLE_PROMPT, { flag: 'wx' });
	for (const [id, text] of Object.entries(EXAMPLE_FIXTURES)) {
		await fs.writeFile(path.join(promptDir, 'fixtures', `${id}.yaml`), text, { flag: 'wx' });
	}
	if (withReadme) await fs.writeFile(path.join(dir, 'README.md'), EXAMPLE_README, { flag: 'wx' });
}

async function init(dirArg: string | undefined, _opts: unknown, cmd: Command): Promise<number> {
	refuseUrlAsFolder(
		dirArg ?? registryDir(cmd),
		'init',
		'init scaffolds a registry folder to keep in git (prompt-release init ./prompts); put it in a database with "prompt-release publish ./prompts --to <postgres-url>"',
	);
	const target = path.resolve(dirArg ?? registryDir(cmd));
	const existing = await entries(target);
	if (existing) {
		const prompts = await promptFolders(target, existing);
		if (prompts.length) {
			throw new ConfigError(`already a registry with prompt folders (${prompts.join(', ')}): init only scaffolds a new one; nothing was written`, { file: shownPath(target) });
		}
		if (existing.includes(EXAMPLE_ID)) {
			throw new ConfigError(`already has an entry named "${EXAMPLE_ID}": move it away or init another folder; nothing was written`, { file: shownPath(target) });
		}
	}
	// Build everything in a temporary folder next to its destination, then move it in with one rename:
	// either the whole scaffold appears or nothing does.
	const staging = path.join(existing ? target : path.dirname(target), `.prompt-release-init-${process.pid}-${randomBytes(4).toString('hex')}`);
	await fs.mkdir(path.dirname(staging), { recursive: true });
	try {
		if (existing) {
			const withReadme = !existing.includes('README.md');
			await writeScaffold(staging, false);
			await fs.rename(path.join(staging, EXAMPLE_ID), path.join(target, EXAMPLE_ID));
			if (withReadme) await fs.writeFile(path.join(target, 'README.md'), EXAMPLE_README, { flag: 'wx' }).catch(() => undefined);
		} else {
			await writeScaffold(staging, true);
			await fs.rename(staging, target);
		}
	} finally {
		await fs.rm(staging, { recursive: true, force: true });
	}
	const shown = shownPath(target);
	out(`created registry ${shown} with the example prompt "${EXAMPLE_ID}" (${Object.keys(EXAMPLE_FIXTURES).length} fixtures)`);
	out('next:');
	const flag = path.resolve(registryDir(cmd)) === target ? '' : ` --registry ${shown}`;
	out(`  prompt-release validate${flag}`);
	out(`  prompt-release commit ${EXAMPLE_ID}${flag} -m "first version"`);
	out(`  prompt-release test ${EXAMPLE_ID}${flag}      (needs OPENAI_API_KEY, or OPENAI_BASE_URL of a compatible server such as "prompt-release model-server")`);
	return 0;
}

export function register(program: Command): void {
	program
		.command('init')
		.description('scaffold a registry (default ./prompts) with an example prompt and fixtures')
		.argument('[dir]', 'folder to create (default: --registry, $PROMPT_RELEASE_REGISTRY or ./prompts)')
		.addOption(registryOption())
		.action(action(init));
}
