/**
 * Canary routing: which arm of a channel serves one routing key (e.g. a supplier's domain).
 * Sticky and deterministic: the same prompt, channel, canary and key always get the same arm, in every
 * process, so one supplier sees one version. Framework-free.
 */
import { createHash } from 'node:crypto';
import type { Arm, ChannelPointer } from './types';

/** 2^48: the first 6 bytes of the hash, read as an unsigned integer, are below this. */
const SPAN = 2 ** 48;

/** The key's position in [0, 100): uniform over keys, salted by prompt, channel and canary id. */
export function routingBucket(promptId: string, channel: string, canaryId: string, routingKey: string): number {
	const digest = createHash('sha256').update(`${promptId}\0${channel}\0${canaryId}\0${routingKey}`, 'utf8').digest();
	return (digest.readUIntBE(0, 6) / SPAN) * 100;
}

/** True when the channel has a canary that still takes traffic (not frozen). */
export function hasActiveCanary(pointer: ChannelPointer): boolean {
	return pointer.canary !== undefined && !pointer.canary.frozen;
}

/**
 * The arm that serves `routingKey`. No canary or a frozen one: stable. A canary naming segments: canary
 * exactly for the keys listed. A canary with a percent: canary for the keys whose bucket is below it.
 */
export function chooseArm(pointer: ChannelPointer, promptId: string, channel: string, routingKey: string): Arm {
	const canary = pointer.canary;
	if (!canary || canary.frozen) return 'stable';
	if (canary.segments) return canary.segments.includes(routingKey) ? 'canary' : 'stable';
	const percent = canary.percent ?? 0;
	if (!(percent > 0)) return 'stable';
	return routingBucket(promptId, channel, canary.id, routingKey) < percent ? 'canary' : 'stable';
}
