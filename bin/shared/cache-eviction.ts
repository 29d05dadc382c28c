/**
 * The response cache is evicted in a background process (lib/cache/disk-store.ts, `startEviction`): deleting
 * tens of thousands of answers is disk-bound, and a command must not wait for it at its end. Run as a script
 * (`node cache-eviction.js <cache folder> <max bytes>`) this file is that process: it evicts at the lowest CPU
 * priority, under the folder's `.evicting` lock, and exits.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import * as path from 'node:path';
import { evictWithLock } from '../../lib/cache/disk-store';

/**
 * Start the eviction of `dir` down to 80 % of `maxBytes` in a detached process that outlives this one.
 * False when it cannot be started (the TypeScript sources under test have no compiled script): the caller evicts itself.
 */
export function startBackgroundEviction(dir: string, maxBytes: number): boolean {
	const script = path.join(__dirname, 'cache-eviction.js');
	if (path.extname(__filename) !== '.js' || !existsSync(script)) return false;
	try {
		const child = spawn(process.execPath, [script, dir, String(maxBytes)], { detached: true, stdio: 'ignore', windowsHide: true });
		child.on('error', () => undefined);
		child.unref();
		return true;
	} catch {
		return false;
	}
}

if (require.main === module) {
	const [dir, max] = process.argv.slice(2);
	const maxBytes = Number(max);
	if (dir && Number.isFinite(maxBytes) && maxBytes > 0) {
		try {
			setPriority(constants.priority.PRIORITY_LOW);
		} catch {
			// not permitted: run at the inherited priority
		}
		void evictWithLock(dir, maxBytes);
	}
}
