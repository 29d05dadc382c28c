/**
 * Canary routing and outcome recording for the nodes: the Routing Key parameter, one outcome recorder
 * per registry (so one outcome file per process and log), flushed once at the end of a node execution.
 * Every item served from a channel is recorded: in the canary's log while the channel runs one, else in
 * the channel's served log. Pinned versions and drafts are not channels and record nothing.
 */
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { canonicalJson } from '../../lib/hash';
import { itemParameter } from './json-expressions';
import { OutcomeRecorder, type Outcome, type OutcomeRecorderOptions } from '../../lib/outcomes';
import { sharedReleaseCache } from '../../lib/release-cache';
import type { RegistryStore } from '../../lib/registry/store';
import type { ResolvedPrompt } from '../../lib/types';

export const routingKeyProperty: INodeProperties = {
	displayName: 'Routing Key',
	name: 'routingKey',
	type: 'string',
	default: '',
	placeholder: "e.g. {{ $json.from.split('@')[1] }}",
	description:
		'When the channel runs a canary: the key that decides which arm (stable or canary) serves the item, sticky per key — e.g. the supplier\'s domain, so one supplier always sees one version. Empty: the item\'s variables, so identical inputs always see the same arm.',
};

const recorders = new Map<string, OutcomeRecorder>();
let recorderSettings: Pick<OutcomeRecorderOptions, 'freezeCheckIntervalMs'> = {};

/** Tests: drop the process's recorders (and their deferred checks); later ones use `settings`. */
export function resetOutcomeRecorders(settings: Pick<OutcomeRecorderOptions, 'freezeCheckIntervalMs'> = {}): void {
	for (const recorder of recorders.values()) recorder.close();
	recorders.clear();
	recorderSettings = settings;
}

/** The process's recorder for a registry. The first store instance is kept, so its outcome files are reused. */
export function recorderFor(store: RegistryStore): OutcomeRecorder {
	let recorder = recorders.get(store.location);
	if (!recorder) {
		recorder = new OutcomeRecorder(store, {
			...recorderSettings,
			logger: { warn: () => undefined },
			// This process serves stable at once; other processes within their cache TTL.
			onFrozen: (event) => sharedReleaseCache.invalidate(store, event.promptId, event.channel),
		});
		recorders.set(store.location, recorder);
	}
	return recorder;
}

/**
 * Buffer an outcome of an item served from a channel (no I/O): into the canary's log when `canaryId` is
 * set, else into the channel's served log. Pinned versions and drafts (no channel, no arm) are not recorded.
 */
export function recordOutcome(store: RegistryStore, resolved: Pick<ResolvedPrompt, 'promptId' | 'version' | 'channel' | 'arm' | 'canaryId'>, outcome: Outcome): void {
	if (!resolved.channel || !resolved.arm || typeof resolved.version !== 'number') return;
	if (resolved.canaryId) recorderFor(store).record(resolved.promptId, resolved.channel, resolved.canaryId, resolved.arm, resolved.version, outcome);
	else recorderFor(store).recordServed(resolved.promptId, resolved.channel, resolved.version, outcome);
}

/** Flush buffered outcomes at the end of an execution; failures are logged, never thrown. */
export async function flushOutcomes(ctx: Pick<IExecuteFunctions, 'logger'>, store: RegistryStore): Promise<void> {
	const recorder = recorders.get(store.location);
	if (!recorder || recorder.size === 0) return;
	try {
		const result = await recorder.flush();
		for (const message of result.errors) ctx.logger.warn(message);
		for (const event of result.frozen) {
			ctx.logger.warn(`prompt-release: canary ${event.canaryId} of "${event.promptId}" on channel "${event.channel}" was frozen: ${event.reason}. All traffic goes to the stable version.`);
		}
	} catch (error) {
		ctx.logger.warn(`prompt-release: could not record outcomes: ${error instanceof Error ? error.message : String(error)}`);
	}
}

/** The Routing Key parameter of an item when it is set (trimmed; objects as canonical JSON), else undefined. */
export function routingKeyParameter(ctx: IExecuteFunctions, itemIndex: number): string | undefined {
	const value = itemParameter(ctx, 'routingKey', itemIndex, '');
	if (value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '')) {
		return typeof value === 'string' ? value.trim() : typeof value === 'object' ? canonicalJson(value) : String(value);
	}
	return undefined;
}

/** The routing key of an item: the parameter when set, else the item's variables as canonical JSON. */
export function routingKeyOf(ctx: IExecuteFunctions, itemIndex: number, rawVariables: Record<string, unknown>): string {
	return routingKeyParameter(ctx, itemIndex) ?? canonicalJson(rawVariables);
}
