/**
 * `prompt-release release <prompt> --version N`: put a tested version on a channel, if the gate
 * (evidence + policy) allows; `--canary P` / `--segments a,b` start a canary instead;
 * `--force --reason "…"` goes past a refusing gate and is recorded loudly.
 */
import type { Command } from 'commander';
import { currentUser, GateRefusal, releaseVersion, startCanary, type GateVerdict } from '../../lib';
import { action, EXIT_FAILED, EXIT_OK, printError, printRefusal, UsageError } from '../shared/exit';
import { out } from '../shared/output';
import { openStore, parseChannel, parseVersion, registryOption, requirePrompt } from '../shared/registry';

interface ReleaseOptions {
	version?: string;
	channel: string;
	reason?: string;
	force?: boolean;
	canary?: string;
	segments?: string;
}

function forcedWarning(verdict: GateVerdict, reason: string): void {
	printError(`WARNING: FORCED past the gate: ${reason}`);
	for (const v of verdict.violations) printError(`  ignored [${v.rule}] ${v.message}`);
}

async function release(promptId: string, opts: ReleaseOptions, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	if (opts.version === undefined) throw new UsageError(`which version? e.g. "prompt-release release ${promptId} --version 3"`);
	const version = parseVersion(opts.version, false) as number;
	const channel = parseChannel(opts.channel);
	if (opts.force && !opts.reason?.trim()) throw new UsageError('--force needs --reason "…": forcing past the gate is recorded in the history and shown by status');
	if (opts.canary !== undefined && opts.segments !== undefined) throw new UsageError('give either --canary P or --segments a,b, not both');
	let percent: number | undefined;
	if (opts.canary !== undefined) {
		percent = Number(opts.canary.replace(/%$/, ''));
		if (!Number.isFinite(percent) || percent <= 0 || percent >= 100) throw new UsageError(`--canary "${opts.canary}" is invalid: give a percentage above 0 and below 100`);
	}
	const segments = opts.segments?.split(',').map((x) => x.trim()).filter(Boolean);
	if (segments !== undefined && segments.length === 0) throw new UsageError('--segments needs routing keys, e.g. --segments internal,acme-metals');
	const common = { channel, reason: opts.reason, by: currentUser(), force: opts.force === true };
	try {
		if (percent !== undefined || segments !== undefined) {
			const outcome = await startCanary(store, promptId, version, { ...common, ...(percent !== undefined ? { percent } : { segments }) });
			if (outcome.forced) forcedWarning(outcome.verdict, opts.reason!);
			const share = percent !== undefined ? `${percent}% of traffic` : `segments ${segments!.join(', ')}`;
			out(`canary ${outcome.canary.id}: ${promptId} version ${version} on ${channel} for ${share}; version ${outcome.entry.from} stays stable for the rest${outcome.canary.runId ? ` (run ${outcome.canary.runId})` : ''}`);
			return EXIT_OK;
		}
		const outcome = await releaseVersion(store, promptId, version, common);
		if (outcome.unchanged) {
			const since = outcome.state.channels[channel]?.since;
			out(`${promptId} version ${version} is already on ${channel}${since ? ` (since ${since})` : ''}: nothing changed`);
		} else {
			if (outcome.forced) forcedWarning(outcome.verdict, opts.reason!);
			const from = outcome.entry?.from !== undefined ? `; was version ${outcome.entry.from}` : '';
			out(`released ${promptId} version ${version} to ${channel}${outcome.run ? ` (run ${outcome.run.runId})` : ''}${from}${outcome.forced ? ' — FORCED past the gate' : ''}`);
		}
		return EXIT_OK;
	} catch (error) {
		if (!(error instanceof GateRefusal)) throw error;
		printRefusal(error);
		return EXIT_FAILED;
	}
}

export function register(program: Command): void {
	program
		.command('release')
		.description('put a version on a channel (or start a canary); refused unless a stored run of exactly that version covers every fixture and satisfies the policy')
		.argument('<prompt>', 'prompt id')
		.option('--version <n>', 'the version to release (required)')
		.option('--channel <name>', 'channel', 'production')
		.option('--reason <text>', 'why, kept in the release history (required with --force)')
		.option('--canary <percent>', 'start a canary: the version serves this share of traffic, the stable version the rest')
		.option('--segments <keys>', 'start a canary for exactly these routing keys, comma-separated (e.g. internal,acme-metals)')
		.option('--force', 'release although the gate refuses (needs --reason; recorded as forced in history and status)')
		.addOption(registryOption())
		.action(action(release));
}
