/**
 * Finds the one JSON value in a model's answer text. What is tolerated, exactly (README "Output handling"):
 *
 * 1. Leading reasoning blocks are dropped: `<think>…</think>`, `<thinking>…</thinking>`, `<reasoning>…</reasoning>`
 *    (any number, any case), and everything up to a lone `</think>` whose opening tag the server stripped
 *    (DeepSeek-R1 style). A reasoning block that never closes leaves no answer.
 * 2. The rest, trimmed, is JSON → that value.
 * 3. Otherwise Markdown code fences anywhere (```` ``` ````, ```` ```json ````, any tag): the fences whose body is JSON are the
 *    candidates. Exactly one → that value; two or more → ambiguous.
 * 4. Otherwise JSON objects or arrays standing in prose (`Sure! {"value": 14} Hope that helps.`): exactly one
 *    top-level one → that value; two or more → ambiguous. Bare numbers, words and strings in prose never count.
 *
 * Nothing else is repaired: single quotes, comments, trailing commas, `True`/`None` or a JSON cut in the middle
 * are not JSON. Whatever is extracted still goes through the declared schema.
 */

export type Extraction =
	| { ok: true; value: unknown; notes: string[] }
	| { ok: false; kind: 'empty' | 'only-reasoning' | 'not-json' | 'ambiguous'; reason: string };

const OPEN_BLOCK = /^\s*<(think|thinking|reasoning)>/i;

/** Drop leading reasoning blocks; `undefined` when a block never closes (the answer is all reasoning). */
function dropReasoning(text: string, notes: string[]): string | undefined {
	let rest = text;
	for (;;) {
		const open = OPEN_BLOCK.exec(rest);
		if (!open) break;
		const close = new RegExp(`</${open[1]}\\s*>`, 'i').exec(rest.slice(open[0].length));
		if (!close) return undefined;
		rest = rest.slice(open[0].length + close.index + close[0].length);
		notes.push(`dropped a <${open[1].toLowerCase()}> reasoning block`);
	}
	// A server that strips the opening tag leaves "reasoning…</think>answer".
	const lone = /<\/(think|thinking)\s*>/i.exec(rest);
	if (lone && !/<(think|thinking)>/i.test(rest.slice(0, lone.index))) {
		rest = rest.slice(lone.index + lone[0].length);
		notes.push('dropped reasoning before a closing </think>');
	}
	return rest;
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
	try {
		return { ok: true, value: JSON.parse(text) as unknown };
	} catch {
		return { ok: false };
	}
}

const FENCE = /```[A-Za-z0-9_+.-]*[ \t]*\n?([\s\S]*?)```/g;

function fencedCandidates(text: string): unknown[] {
	const out: unknown[] = [];
	for (const m of text.matchAll(FENCE)) {
		const parsed = tryJson(m[1].trim());
		if (parsed.ok) out.push(parsed.value);
	}
	return out;
}

/** Index just past the bracket that closes the one at `start` (strings respected), or -1. */
function matchingClose(text: string, start: number): number {
	const stack: string[] = [];
	let inString = false;
	for (let i = start; i < text.length; i++) {
		const c = text[i];
		if (inString) {
			if (c === '\\') i++;
			else if (c === '"') inString = false;
			continue;
		}
		if (c === '"') inString = true;
		else if (c === '{' || c === '[') stack.push(c === '{' ? '}' : ']');
		else if (c === '}' || c === ']') {
			if (stack.pop() !== c) return -1;
			if (stack.length === 0) return i + 1;
		}
	}
	return -1;
}

/** Top-level JSON objects/arrays standing in prose, left to right; nested ones belong to their parent. */
function embeddedCandidates(text: string): unknown[] {
	const out: unknown[] = [];
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (c !== '{' && c !== '[') continue;
		const end = matchingClose(text, i);
		if (end < 0) continue;
		const parsed = tryJson(text.slice(i, end));
		if (!parsed.ok) continue;
		out.push(parsed.value);
		i = end - 1;
	}
	return out;
}

function shown(text: string): string {
	const t = text.trim();
	return JSON.stringify(t.length > 120 ? `${t.slice(0, 120)}…` : t);
}

/** The one JSON value of an answer text, with notes on what was tolerated, or why there is none. */
export function extractJson(text: string): Extraction {
	const notes: string[] = [];
	const raw = text.replace(/^\uFEFF/, '');
	if (!raw.trim()) return { ok: false, kind: 'empty', reason: 'the model returned an empty answer' };
	const rest = dropReasoning(raw, notes);
	if (rest === undefined) {
		return { ok: false, kind: 'only-reasoning', reason: 'the answer is only reasoning: a <think> block that never closes, and no answer after it' };
	}
	const body = rest.trim();
	if (!body) return { ok: false, kind: 'only-reasoning', reason: 'the answer is only reasoning: nothing follows the reasoning block' };
	const whole = tryJson(body);
	if (whole.ok) return { ok: true, value: whole.value, notes };
	const fenced = fencedCandidates(body);
	if (fenced.length === 1) return { ok: true, value: fenced[0], notes: [...notes, 'read the JSON inside a code fence'] };
	if (fenced.length > 1) {
		return { ok: false, kind: 'ambiguous', reason: `ambiguous answer: ${fenced.length} code fences hold JSON (${fenced.map((v) => JSON.stringify(v)).join(', ')}); expected exactly one` };
	}
	const embedded = embeddedCandidates(body);
	if (embedded.length === 1) return { ok: true, value: embedded[0], notes: [...notes, 'read the one JSON value standing in prose'] };
	if (embedded.length > 1) {
		return { ok: false, kind: 'ambiguous', reason: `ambiguous answer: ${embedded.length} JSON values in the text (${embedded.map((v) => JSON.stringify(v)).join(', ')}); expected exactly one` };
	}
	return { ok: false, kind: 'not-json', reason: `the answer is not JSON: ${shown(body)}` };
}
