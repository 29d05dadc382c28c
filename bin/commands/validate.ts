/** `prompt-release validate`: check every file of the registry and list every problem. */
import type { Command } from 'commander';
import { FileRegistryStore, validateRegistry } from '../../lib';
import { validateStore } from '../../lib/registry/validate-store';
import { action, EXIT_OK, EXIT_USAGE } from '../shared/exit';
import { out, plural } from '../shared/output';
import { openStore, registryOption, storeLabel } from '../shared/registry';

async function validate(opts: { fix?: boolean }, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	const report = store instanceof FileRegistryStore ? await validateRegistry(store, { fix: opts.fix }) : await validateStore(store);
	if (report.fixed) out(`fixture index: ${plural(report.fixed.written, 'entry', 'entries')} written, ${report.fixed.removed} removed`);
	if (report.removedPartialRuns) out(`abandoned partial runs: ${plural(report.removedPartialRuns.files, 'file')} removed (${Math.ceil(report.removedPartialRuns.bytes / 1024)} KB)`);
	const counts = `${report.prompts} prompts, ${report.versions} versions, ${report.fixtures} fixtures`;
	if (report.errors.length) {
		for (const error of report.errors) process.stderr.write(`${error.message}\n`);
		process.stderr.write(`prompt-release: ${plural(report.errors.length, 'error')} in ${storeLabel(store)} (${counts} checked)\n`);
		return EXIT_USAGE;
	}
	out(`ok: ${counts}`);
	return EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('validate')
		.description('check every prompt, version, fixture, release file and run; list every problem')
		.option('--fix', 'rebuild derived files first: the fixture index by inputs (after fixtures were added by hand or by a git merge); remove partial results of runs that never finished (their process is gone)')
		.addOption(registryOption())
		.action(action(validate));
}
