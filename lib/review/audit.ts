/**
 * The audit sample of the review queue: which valid answers a person checks anyway. Sticky per routing key
 * (like canary routing, lib/routing.ts): the same prompt and key are always in or always out, in every
 * process, so one supplier's items are audited consistently. Framework-free.
 */
import { createHash } from 'node:crypto';

/** 2^48: the first 6 bytes of the hash, read as an unsigned integer, are below this. */
const SPAN = 2 ** 48;

/** The key's position in [0, 100) for the audit sample of a prompt: uniform over keys, salted by the prompt id. */
export function auditBucket(promptId: string, routingKey: string): number {
	const digest = createHash('sha256').update(`${promptId}\0audit\0${routingKey}`, 'utf8').digest();
	return (digest.readUIntBE(0, 6) / SPAN) * 100;
}

/**
 * Whether a valid answer for `routingKey` is drawn for the audit sample of `percent` % (0–100).
 * 0 never draws, 100 always does; keys are drawn when their bucket is below the percentage.
 */
export function inAuditSample(promptId: string, routingKey: string, percent: number): boolean {
	if (!(percent > 0)) return false;
	if (percent >= 100) return true;
	return auditBucket(promptId, routingKey) < percent;
}
