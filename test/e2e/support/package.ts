/**
 * This package as a user's n8n has it: packed with `npm pack`, installed the way n8n's community-package
 * installer does (scripts/pack-extension.sh, cached by tarball hash), and placed into an n8n user folder
 * at `<N8N_USER_FOLDER>/.n8n/nodes/node_modules/n8n-nodes-prompt-release`, where Settings → Community
 * Nodes puts it. n8n then names the node types `n8n-nodes-prompt-release.<node>`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MINUTE, REPO_ROOT, runScript } from './process';

export interface PackedPackage {
	/** `n8n-nodes-prompt-release`: also the prefix of every node type n8n registers from it. */
	name: string;
	version: string;
	/** The installed package in the cache (package.json, dist/, node_modules/ with production dependencies). */
	packageDir: string;
	/** The `npm pack` tarball it was installed from. */
	tarball: string;
}

let packed: PackedPackage | undefined;

/**
 * Packs this project's dist/ and installs it as n8n installs a community package, once per jest worker
 * (scripts/pack-extension.sh --no-prepare: never reinstalls or rebuilds the repo from inside a test run;
 * scripts/test.sh and the jest global setup build dist/ beforehand).
 */
export function packPackage(): PackedPackage {
	if (packed) return packed;
	if (!fs.existsSync(path.join(REPO_ROOT, 'dist'))) throw new Error('dist/ is missing: build first (npm run build)');
	const kv = runScript('pack-extension.sh', ['--no-prepare'], 15 * MINUTE);
	if (!kv.PROMPT_RELEASE_PACKAGE_DIR || !kv.PROMPT_RELEASE_PACKAGE_NAME || !kv.PROMPT_RELEASE_PACKAGE_TARBALL) {
		throw new Error(`scripts/pack-extension.sh printed ${JSON.stringify(kv)}`);
	}
	packed = {
		name: kv.PROMPT_RELEASE_PACKAGE_NAME,
		version: kv.PROMPT_RELEASE_PACKAGE_VERSION,
		packageDir: kv.PROMPT_RELEASE_PACKAGE_DIR,
		tarball: kv.PROMPT_RELEASE_PACKAGE_TARBALL,
	};
	return packed;
}

/** The node type name n8n gives a node of this package: `n8n-nodes-prompt-release.<description.name>`. */
export function nodeType(name: string): string {
	return `n8n-nodes-prompt-release.${name}`;
}

/**
 * Places an installed package folder into an n8n user folder where n8n's installer leaves it:
 * `<userFolder>/.n8n/nodes/node_modules/<name>` (a hard-linked copy when the file system allows it,
 * else a copy) plus the `<userFolder>/.n8n/nodes/package.json` n8n keeps listing installed packages.
 * Returns the installed folder.
 */
export function installPackageFolder(userFolder: string, packageDir: string): string {
	const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { name: string; version: string };
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const dest = path.join(nodesDir, 'node_modules', pkg.name);
	fs.mkdirSync(path.dirname(dest), { recursive: true });
	fs.rmSync(dest, { recursive: true, force: true });
	try {
		execFileSync('cp', ['-al', packageDir, dest], { stdio: 'ignore' });
	} catch {
		fs.rmSync(dest, { recursive: true, force: true });
		fs.cpSync(packageDir, dest, { recursive: true });
	}
	const listFile = path.join(nodesDir, 'package.json');
	const list = fs.existsSync(listFile)
		? (JSON.parse(fs.readFileSync(listFile, 'utf8')) as { dependencies?: Record<string, string> })
		: { name: 'installed-nodes', private: true, dependencies: {} };
	list.dependencies = { ...list.dependencies, [pkg.name]: pkg.version };
	fs.writeFileSync(listFile, JSON.stringify(list, null, 2));
	return dest;
}

/** Installs this package (see {@link packPackage}) into an n8n user folder; returns the installed folder. */
export function installPackage(userFolder: string): string {
	return installPackageFolder(userFolder, packPackage().packageDir);
}
