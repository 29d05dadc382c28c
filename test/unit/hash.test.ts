/** canonicalJson is what content hashes and cache keys are built on: its output must never change. */
import { createHash } from 'node:crypto';
import { canonicalJson, contentHash } from '../../lib/hash';
import { fixtureCompareHash } from '../../lib/runner';
import { makeSpec } from './helpers';
import { seeded } from '../../lib/testing/seeded';

/** The original implementation, kept as the reference the faster one must match character for character. */
function reference(value: unknown): string {
	if (value === undefined) return 'null';
	if (value === null || typeof value !== 'object') return JSON.stringify(value);
	if (Array.isArray(value)) return `[${value.map((v) => reference(v)).join(',')}]`;
	const entries = Object.entries(value as Record<string, unknown>)
		.filter(([, v]) => v !== undefined)
		.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}


const KEYS = ['a', 'b', 'B', '_', 'é', 'ä', 'z', '10', '9', '', 'key with space', '"quoted"', '\u2028', '😀', 'constructor'];

function randomValue(r: () => number, depth: number): unknown {
	const k = r();
	if (k < 0.15) return ['', 'x', 'line\nbreak', 'tab\t', '"', '\\', '😀', '\u0000', 'é'][Math.floor(r() * 9)];
	if (k < 0.3) return [0, -0, 1.5, -3, 1e21, 1e-7, NaN, Infinity, 2 ** 53 + 1][Math.floor(r() * 9)];
	if (k < 0.35) return r() < 0.5;
	if (k < 0.4) return null;
	if (k < 0.45) return undefined;
	if (k < 0.48) return () => 1;
	if (k < 0.5) return new Date(0);
	if (depth > 3) return 'leaf';
	if (k < 0.7) {
		const list: unknown[] = Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
		if (r() < 0.1) list[list.length + 2] = 'after a hole';
		return list;
	}
	const out: Record<string, unknown> = {};
	for (let i = Math.floor(r() * 5); i > 0; i--) out[KEYS[Math.floor(r() * KEYS.length)]] = randomValue(r, depth + 1);
	return out;
}

test('canonicalJson matches the original implementation on every kind of value', () => {
	const r = seeded(42);
	for (let i = 0; i < 20_000; i++) {
		const value = randomValue(r, 0);
		expect(canonicalJson(value)).toBe(reference(value));
	}
});

test('the content hash of a prompt is unchanged', () => {
	// Computed with the original implementation: a change here would make every frozen version fail its hash check.
	expect(contentHash(makeSpec())).toBe(`sha256:${createHash('sha256').update(reference(makeSpec())).digest('hex')}`);
	expect(canonicalJson({ b: [1, { d: undefined, c: 'x' }], a: null })).toBe('{"a":null,"b":[1,{"c":"x"}]}');
});

test('the comparison-rules hash of a fixture without rules is the hash of no rules, as before', () => {
	const none = `sha256:${createHash('sha256').update('{}').digest('hex')}`;
	expect(fixtureCompareHash(undefined, {})).toBe(none);
	expect(fixtureCompareHash({}, {})).toBe(none);
	expect(fixtureCompareHash({ value: 'exact' }, {})).toBe(none);
	expect(fixtureCompareHash(undefined, { compare: { value: 'exact' } })).toBe(none);
	expect(fixtureCompareHash(undefined, { compare: { value: 'caseInsensitive' } })).toBe(`sha256:${createHash('sha256').update('{"value":"caseInsensitive"}').digest('hex')}`);
	expect(fixtureCompareHash({ value: 'caseInsensitive' }, {})).not.toBe(none);
});
