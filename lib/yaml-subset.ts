/**
 * A fast reader for the plain YAML that registry files are usually written in — what `toYaml` writes for a
 * fixture: block mappings, block sequences of plain scalars, plain scalars and literal block scalars (`|`,
 * `|-`). Reading a 1,000-fixture registry with the `yaml` package cost ~0.15 ms per file, most of a run's own
 * CPU at zero model latency; this reads the same files in a few microseconds.
 *
 * It answers only when it is sure to give exactly what the `yaml` package gives (YAML 1.2, core schema, as
 * `parseYaml` calls it): on anything else — quotes, flow collections, comments, anchors, tags, tabs, folded or
 * indented block scalars, multi-line plain scalars, duplicate keys, odd indentation, a missing final newline —
 * it returns undefined and the caller parses the text with the `yaml` package, which also reports every error.
 * test/unit/yaml-subset.test.ts compares both on generated and mutated documents.
 */

/** A line break or character the subset leaves to the full parser (control characters, tabs, BOM, Unicode line separators). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNUSUAL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;
/** `key:` or `key: rest`, key plain and simple. */
const KEY_LINE = /^( *)([A-Za-z_][A-Za-z0-9_-]*):(?: (.*))?$/;
/** `- rest`. */
const SEQ_LINE = /^( *)- (.*)$/;
/** A plain scalar may not start with an indicator character. */
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`\s]/;
/** Keys the core schema would read as null or a boolean (their JSON key would then differ from the text). */
const SPECIAL_KEY = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;

/** The core schema's resolution of a plain scalar, exactly as the `yaml` package (2.x) does it. */
function resolvePlain(text: string): unknown {
	if (/^(?:~|[Nn]ull|NULL)$/.test(text)) return null;
	if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(text)) return text[0] === 't' || text[0] === 'T';
	if (/^0o[0-7]+$/.test(text)) return parseInt(text.substring(2), 8);
	if (/^[-+]?[0-9]+$/.test(text)) return parseInt(text, 10);
	if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text.substring(2), 16);
	if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) {
		return text.slice(-3).toLowerCase() === 'nan' ? NaN : text[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
	}
	if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(text) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(text)) return parseFloat(text);
	return text;
}

/** Not in the subset: the caller parses with the full parser. */
class Unsure extends Error {}

/** A one-line plain scalar: no leading indicator, no comment, no `: `, no trailing space. */
function plain(text: string): unknown {
	if (text === '' || INDICATOR.test(text) || text.endsWith(' ') || text.endsWith(':') || text.includes(': ') || text.includes(' #')) throw new Unsure();
	return resolvePlain(text);
}

function isBlank(line: string): boolean {
	return line.trim() === '';
}

class Reader {
	private i = 0;

	constructor(private readonly lines: string[]) {}

	/** Index of the next line that is not blank (lines.length at the end). */
	private nextContent(): number {
		let j = this.i;
		while (j < this.lines.length && isBlank(this.lines[j])) j++;
		return j;
	}

	private indentAt(j: number): number {
		const line = this.lines[j];
		return line.length - line.trimStart().length;
	}

	/** The whole document: one block mapping at indent 0. */
	document(): Record<string, unknown> {
		const first = this.nextContent();
		if (first >= this.lines.length || this.indentAt(first) !== 0) throw new Unsure();
		const value = this.mapping(0);
		if (this.nextContent() < this.lines.length) throw new Unsure();
		return value;
	}

	/** A block mapping whose keys stand at exactly `indent` spaces. */
	private mapping(indent: number): Record<string, unknown> {
		const out: Record<string, unknown> = {};
		for (;;) {
			const j = this.nextContent();
			if (j >= this.lines.length) return out;
			const at = this.indentAt(j);
			if (at < indent) return out;
			const m = KEY_LINE.exec(this.lines[j]);
			if (at > indent || !m || SPECIAL_KEY.test(m[2]) || m[2] === '__proto__' || Object.hasOwn(out, m[2])) throw new Unsure();
			this.i = j + 1;
			out[m[2]] = this.value(indent, m[3]);
		}
	}

	/** The value of a key at `indent`: what follows `key:` on its line (undefined: nothing), or the lines below. */
	private value(indent: number, rest: string | undefined): unknown {
		if (rest === undefined) {
			const j = this.nextContent();
			if (j >= this.lines.length) return null;
			const at = this.indentAt(j);
			if (SEQ_LINE.test(this.lines[j]) && at >= indent) return this.sequence(at);
			if (at > indent) return this.mapping(at);
			return null; // `key:` with nothing below: null
		}
		if (rest === '|' || rest === '|-') return this.literal(indent, rest === '|-');
		return plain(rest);
	}

	/** A block sequence of plain scalars at exactly `indent` spaces. */
	private sequence(indent: number): unknown[] {
		const out: unknown[] = [];
		for (;;) {
			const j = this.nextContent();
			if (j >= this.lines.length) return out;
			const at = this.indentAt(j);
			if (at < indent) return out;
			const m = SEQ_LINE.exec(this.lines[j]);
			if (!m) {
				if (at === indent) return out; // a sibling key of the mapping the sequence belongs to
				throw new Unsure();
			}
			if (at > indent || KEY_LINE.test(m[2].trimStart()) || m[2].startsWith(' ')) throw new Unsure();
			this.i = j + 1;
			out.push(plain(m[2]));
		}
	}

	/** A literal block scalar (`|` clip, `|-` strip) of a key at `indent`; its indentation is its first non-blank line's. */
	private literal(indent: number, strip: boolean): string {
		const first = this.nextContent();
		if (first >= this.lines.length || this.indentAt(first) <= indent) {
			// No content: the empty string (blank lines before the next key change nothing).
			return '';
		}
		const n = this.indentAt(first);
		const content: string[] = [];
		let j = this.i;
		for (; j < this.lines.length; j++) {
			const line = this.lines[j];
			if (isBlank(line)) {
				if (line.length > n) throw new Unsure(); // spaces beyond the indentation: content or an error, the full parser knows
				content.push('');
				continue;
			}
			if (this.indentAt(j) < n) break;
			content.push(line.slice(n));
		}
		this.i = j;
		while (content.length && content[content.length - 1] === '') content.pop();
		const text = content.join('\n');
		return strip || text === '' ? text : `${text}\n`;
	}
}

/**
 * The value of `text` when it is in the subset this module reads exactly like the `yaml` package (a block
 * mapping at the top), else undefined. Never throws.
 */
export function readYamlSubset(text: string): { value: Record<string, unknown> } | undefined {
	if (!text.endsWith('\n') || UNUSUAL.test(text)) return undefined;
	const lines = text.split('\n');
	lines.pop(); // after the final newline
	try {
		return { value: new Reader(lines).document() };
	} catch (error) {
		if (error instanceof Unsure) return undefined;
		throw error;
	}
}
