/**
 * The fast YAML subset reader (lib/yaml-subset.ts) must give exactly what the `yaml` package gives, or nothing:
 * compared on thousands of generated documents (as `toYaml` and `yaml.stringify` with other options write
 * them) and on randomly mutated ones, plus hand-picked edge cases.
 */
import { parseDocument, stringify } from 'yaml';
import { readYamlSubset } from '../../lib/yaml-subset';
import { parseYaml, toYaml } from '../../lib/yaml-io';
import { seeded } from '../../lib/testing/seeded';

/** What parseYaml's full parser gives (same options), or `failed` when it reports an error. */
function full(text: string): { ok: true; value: unknown } | { ok: false } {
	const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
	if (doc.errors.length) return { ok: false };
	try {
		return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
	} catch {
		return { ok: false };
	}
}

/** Either the subset reader declines, or it agrees exactly with the full parser (Object.is on every value). */
function agrees(text: string): 'read' | 'declined' {
	const fast = readYamlSubset(text);
	if (fast === undefined) return 'declined';
	const reference = full(text);
	if (!reference.ok) throw new Error(`the subset read a document the yaml package rejects:\n${text}`);
	try {
		expect(fast.value).toEqual(reference.value);
	} catch (error) {
		throw new Error(`the subset and the yaml package differ on:\n${JSON.stringify(text)}\n${(error as Error).message}`);
	}
	return 'read';
}


const PIECES = [
	'a', 'Price', ' ', '  ', 'increase', '–', 'é', '4 %', '-', '- ', ':', ': ', '#', ' #', "'", '"', '|', '>', '[', ']', '{', '}', ',', '.', '~', '!', '&',
	'*', '%', '@', '`', '\\', '?', '0', '12', '-3', '+4', '0x1F', '0o17', '1e3', '.5', '5.', '1_000', 'null', 'Null', 'true', 'False', 'TRUE', 'yes', 'no', 'on',
	'.inf', '-.Inf', '.nan', '\n', '\n\n', '\t', '\r', 'x: y', '<<', '---', '...', '\u2028', '\u0085', '😀',
];

/** Pieces of everyday text (emails, ids, labels), most of which YAML writes plain. */
const PROSE = ['Dear', ' ', 'team', ',', '.', 'Order', '100001', '24 tonnes', '–', '4 %', 'é', 'x-y', 'a_b', '(', ')', '/', 'Re:', 'http://a.b', '\n', '\n\n'];

function randomString(r: () => number): string {
	const n = Math.floor(r() * 6);
	const pieces = r() < 0.5 ? PROSE : PIECES;
	let s = '';
	for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
	return s;
}

const KEYS = ['id', 'inputs', 'subject', 'body', 'expected', 'source', 'tags', 'note', 'segment', 'x-y', '_private', 'true', 'null', 'on', 'a b', '1a', 'key', 'value'];

function randomValue(r: () => number, depth: number): unknown {
	const k = r();
	if (k < 0.35) return randomString(r);
	if (k < 0.45) return [0, 1, -1, 42, -0, 3.5, 1e21, 2 ** 60, Number.MAX_SAFE_INTEGER, 0.1][Math.floor(r() * 10)];
	if (k < 0.5) return r() < 0.5;
	if (k < 0.55) return null;
	if (k < 0.7 && depth < 2) return Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.8 ? randomString(r) : randomValue(r, depth + 1)));
	if (depth < 2) return randomMapping(r, depth + 1);
	return randomString(r);
}

function randomMapping(r: () => number, depth: number): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	const n = 1 + Math.floor(r() * 4);
	for (let i = 0; i < n; i++) out[KEYS[Math.floor(r() * KEYS.length)]] = randomValue(r, depth);
	return out;
}

function mutate(text: string, r: () => number): string {
	const lines = text.split('\n');
	const i = Math.floor(r() * lines.length);
	switch (Math.floor(r() * 9)) {
		case 0:
			lines[i] += ' ';
			break;
		case 1:
			lines[i] = ` ${lines[i]}`;
			break;
		case 2:
			lines.splice(i, 0, ' '.repeat(Math.floor(r() * 6)));
			break;
		case 3:
			lines[i] += ' # note';
			break;
		case 4:
			lines.splice(i, 0, lines[i]);
			break;
		case 5:
			lines[i] = lines[i].replace(/^ {2}/, '');
			break;
		case 6:
			return text.replace(/\n$/, '');
		case 7:
			lines[i] = lines[i].replace(': ', ':  ');
			break;
		default:
			lines.splice(i, 0, `${' '.repeat(Math.floor(r() * 3) * 2)}${PIECES[Math.floor(r() * PIECES.length)]}`);
	}
	return lines.join('\n');
}

test('on generated documents the subset reader agrees with the yaml package whenever it answers', () => {
	const r = seeded(20261129);
	let read = 0;
	let total = 0;
	for (let i = 0; i < 3000; i++) {
		const value = randomMapping(r, 0);
		const texts = [toYaml(value), stringify(value), stringify(value, { indentSeq: false }), stringify(value, { lineWidth: 20 })];
		for (const text of texts) {
			total++;
			if (agrees(text) === 'read') read++;
			agrees(mutate(text, r));
			agrees(mutate(mutate(text, r), r));
		}
	}
	expect(read).toBeGreaterThan(1000); // the comparison covered many documents the subset did read
	expect(total).toBe(12_000);
});

test('most fixtures as toYaml writes them (everyday text, plain keys) are read by the subset', () => {
	const r = seeded(7);
	// Text as people write it: no leading or trailing space or line break (toYaml quotes those, or writes `|+`).
	const prose = (): string => Array.from({ length: 1 + Math.floor(r() * 8) }, () => PROSE[Math.floor(r() * PROSE.length)]).join('').trim() || 'x';
	let read = 0;
	for (let i = 0; i < 500; i++) {
		const fixture = {
			id: `case-${i}`,
			inputs: { subject: prose(), body: prose(), quantity: Math.floor(r() * 100) },
			expected: r() < 0.5 ? r() < 0.5 : { value: prose(), score: Math.floor(r() * 1000) / 10 },
			...(r() < 0.5 ? { tags: ['quoted-thread', 'ambiguous'].slice(0, 1 + Math.floor(r() * 2)) } : {}),
			source: 'import',
		};
		if (agrees(toYaml(fixture)) === 'read') read++;
	}
	// Strings starting with an indicator (`,`, `-`…) or ending with `:` are quoted by toYaml and left to the yaml package.
	expect(read).toBeGreaterThan(350);
});

test('what toYaml writes for a fixture is read by the subset, exactly', () => {
	const fixture = {
		id: 'case-000001',
		inputs: {
			subject: 'Order confirmation – supplier 1',
			body: 'Dear Purchasing Team,\n\nwe confirm your order; prices stay as agreed.\nOrder 100001, 24 tonnes, delivery week 2.\n\nKind regards,\nSupplier 1',
			quantity: 24,
			urgent: false,
			note: 'ends with a newline\n',
		},
		expected: { value: 12.5, unit: 'EUR' },
		tags: ['quoted-thread', 'ambiguous'],
		source: 'import',
	};
	const text = toYaml(fixture);
	expect(readYamlSubset(text)?.value).toEqual(fixture);
	expect(agrees(text)).toBe('read');
});

test.each([
	['a: 1\n', { a: 1 }],
	['a: 0x1F\nb: 0o17\nc: +12\nd: 1e3\ne: .5\nf: 5.\ng: 1_000\n', { a: 31, b: 15, c: 12, d: 1000, e: 0.5, f: 5, g: '1_000' }],
	['a: ~\nb: Null\nc: True\nd: FALSE\ne: yes\n', { a: null, b: null, c: true, d: false, e: 'yes' }],
	['a:\nb: x\n', { a: null, b: 'x' }],
	['a: |\n  line 1\n\n  line 2\n\n\nb: x\n', { a: 'line 1\n\nline 2\n', b: 'x' }],
	['a: |-\n    deep\n      deeper\nb: |-\nc: |\n', { a: 'deep\n  deeper', b: '', c: '' }],
	['list:\n- a\n- 2\nnext:\n  - b\n', { list: ['a', 2], next: ['b'] }],
	['m:\n  n:\n    o: x#y\n  p: http://a.b/c\n', { m: { n: { o: 'x#y' }, p: 'http://a.b/c' } }],
])('reads %j like the yaml package', (text, value) => {
	expect(readYamlSubset(text)?.value).toEqual(value);
	expect(agrees(text)).toBe('read');
});

test.each([
	'a: "quoted"\n',
	"a: 'quoted'\n",
	'a: {b: 1}\n',
	'a: [1, 2]\n',
	'# comment\na: 1\n',
	'a: 1 # comment\n',
	'a: &x 1\nb: *x\n',
	'a: !!str 1\n',
	'a: >\n  folded\n',
	'a: |+\n  kept\n\n',
	'a: |2\n   indented\n',
	'a: 1', // no final newline
	'a: 1\na: 2\n', // duplicate key: an error, reported by the yaml package
	'a: multi\n  line\n',
	'a:\tb\n',
	'---\na: 1\n',
	'- a\n- b\n',
	'plain\n',
	'a: b: c\n',
	'a: -1\n',
	'true: 1\n',
	'a:\n  - b: 1\n',
	'a: |\n      more\n    less\n',
	'a: |\n    \n  x\n', // a leading blank line longer than the indentation
	'\ufeffa: 1\n',
	'a: 1\r\n',
])('leaves %j to the yaml package', (text) => {
	expect(readYamlSubset(text)).toBeUndefined();
});

test('parseYaml gives the same data and line numbers through the subset as through the yaml package', () => {
	const text = 'id: f1\ninputs:\n  subject: s\n  body: |-\n    one\n    two\n  extra: x\nexpected: true\n';
	const loaded = parseYaml(text, 'f1.yaml');
	expect(readYamlSubset(text)).toBeDefined();
	expect(loaded.data).toEqual(full(text).ok && (full(text) as { value: unknown }).value);
	expect(loaded.lineOf(['inputs', 'extra'])).toBe(7);
	expect(loaded.lineOf(['expected'])).toBe(8);
	expect(loaded.lineOf(['inputs', 'missing'])).toBe(2);
});
