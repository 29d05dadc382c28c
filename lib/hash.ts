import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import type { PromptSpec } from './types';

/**
 * JSON with object keys sorted at every level, so equal content always serialises the same way. Keys with
 * undefined values are left out; undefined alone is `null`. (Content hashes and cache keys are built on it:
 * its output must never change — test/unit/hash.test.ts pins it against the original implementation.)
 */
export function canonicalJson(value: unknown): string {
	if (value === undefined) return 'null';
	if (value === null || typeof value !== 'object') return JSON.stringify(value);
	if (Array.isArray(value)) {
		let out = '[';
		for (let i = 0; i < value.length; i++) {
			if (i > 0) out += ',';
			const item: unknown = value[i];
			// A hole of a sparse array stays empty (as Array.prototype.join leaves it); a function or symbol too.
			if (item !== undefined || i in value) out += canonicalJson(item) ?? '';
		}
		return `${out}]`;
	}
	const keys = Object.keys(value).sort();
	let out = '{';
	let first = true;
	for (const key of keys) {
		const item = (value as Record<string, unknown>)[key];
		if (item === undefined) continue;
		if (!first) out += ',';
		first = false;
		out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
	}
	return `${out}}`;
}

/** crypto.hash (Node 20.12+, 21.7+): one call, no Hash object — half the time of createHash for short texts. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** sha256 of the text's UTF-8 bytes, as 64 lowercase hex characters. */
export function sha256(text: string): string {
	return oneShot ? oneShot('sha256', text, 'hex') : createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The content hash of a prompt: everything that can change an answer, nothing else. */
export function contentHash(spec: PromptSpec): string {
	return `sha256:${sha256(canonicalJson(spec))}`;
}
