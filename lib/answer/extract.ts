/**
 * Finds the one JSON value in a model's answer text. What is tolerated, exactly (README "Output handling"):
 *
 * 1. Reasoning is removed wherever it stands (reasoning.ts: `<think>`-style tags, `[THINK]`, `◁think▷`, a lone
 *    `</think>`, harmony channels). A reasoning block that never closes leaves only what came before it.
 * 2. The rest, trimmed, is JSON → that value.
 * 3. Otherwise the candidates are the JSON bodies of Markdown code fences (```` ``` ````, any tag) plus the JSON
 *    objects/arrays standing in the prose outside the fences. Exactly one → that value; two or more → ambiguous.
 *    Bare numbers, words and strings in prose never count.
 * 4. A value whose JSON text gives a key twice, or a number JSON cannot hold exactly, is refused (json-check.ts).
 *
 * Nothing else is repaired: single quotes, comments, trailing commas, `True`/`None` or a JSON cut in the middle
 * are not JSON. Whatever is extracted still goes through the declared schema.
 */
import { jsonTextProblem } from './json-check';
import { stripReasoning } from './reasoning';

export type Extraction =
	| { ok: true; value: unknown; notes: string[] }
	| { ok: false; kind: 'empty' | 'only-reasoning' | 'not-json' | 'ambiguous' | 'inexact'; reason: string };

interface Candidate {
	text: string;
	value: unknown;
}

function tryJson(text: string): Candidate | undefined {
	try {
		return { text, value: JSON.parse(text) as unknown };
	} catch {
		return undefined;
	}
}

const FENCE = /```[A-Za-z0-9_+.-]*[ \t]*\n?([\s\S]*?)```/g;

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
function embedded(text: string): Candidate[] {
	const out: Candidate[] = [];
	for (let i = 0; i < text.length; i++) {
		if (text[i] !== '{' && text[i] !== '[') continue;
		const end = matchingClose(text, i);
		if (end < 0) continue;
		const found = tryJson(text.slice(i, end));
		if (!found) continue;
		out.push(found);
		i = end - 1;
	}
	return out;
}

function shown(text: string): string {
	const t = text.trim();
	return JSON.stringify(t.length > 120 ? `${t.slice(0, 120)}…` : t);
}

function exact(candidate: Candidate, notes: string[]): Extraction {
	const problem = jsonTextProblem(candidate.text);
	if (problem) return { ok: false, kind: problem.kind, reason: problem.kind === 'ambiguous' ? `ambiguous answer: ${problem.message}` : problem.message };
	return { ok: true, value: candidate.value, notes };
}

/** The one JSON value of an answer text, with notes on what was tolerated, or why there is none. */
export function extractJson(text: string): Extraction {
	const raw = text.replace(/^\uFEFF/, '');
	if (!raw.trim()) return { ok: false, kind: 'empty', reason: 'the model returned an empty answer' };
	const reasoning = stripReasoning(raw);
	const notes = [...reasoning.notes];
	const body = reasoning.text.trim();
	if (!body) {
		return { ok: false, kind: 'only-reasoning', reason: reasoning.unclosed ? 'the answer is only reasoning: a reasoning block that never closes, and no answer before it' : 'the answer is only reasoning: nothing follows the reasoning block' };
	}
	const whole = tryJson(body);
	if (whole) return exact(whole, notes);
	const fences: Candidate[] = [];
	for (const m of body.matchAll(FENCE)) {
		const found = tryJson(m[1].trim());
		if (found) fences.push(found);
	}
	const prose = embedded(body.replace(FENCE, (fence) => ' '.repeat(fence.length)));
	const all = [...fences, ...prose];
	if (all.length === 1) {
		return exact(all[0], [...notes, fences.length ? 'read the JSON inside a code fence' : 'read the one JSON value standing in prose']);
	}
	if (all.length > 1) {
		const where = [fences.length ? `${fences.length} in code fences` : '', prose.length ? `${prose.length} in the text` : ''].filter(Boolean).join(', ');
		return { ok: false, kind: 'ambiguous', reason: `ambiguous answer: ${all.length} JSON values (${where}: ${all.map((c) => JSON.stringify(c.value)).join(', ')}); expected exactly one` };
	}
	return { ok: false, kind: 'not-json', reason: `the answer is not JSON: ${shown(body)}` };
}
