/**
 * Reasoning that models write into their answer text, and how it is removed before the answer is read.
 * Recognised, anywhere in the text (any case; JSON inside them never counts as the answer):
 * - tags `<think>`, `<thinking>`, `<reasoning>`, `<reflection>`, `<seed:think>` (with attributes) and their closing tags;
 * - `[THINK]…[/THINK]` (Mistral Magistral), `◁think▷…◁/think▷` (Kimi);
 * - everything before a lone `</think>` whose opening tag the server stripped (DeepSeek-R1 style);
 * - OpenAI harmony (gpt-oss served raw): only the `<|channel|>final<|message|>` part is the answer; without one,
 *   `analysis` / `commentary` channel parts are reasoning.
 * A block that opens and never closes is reasoning up to the end of the text.
 */

export interface Reasoning {
	/** The text with every reasoning part removed. */
	text: string;
	/** What was removed, for the result's `tolerated` notes. */
	notes: string[];
	/** A reasoning block opened and never closed. */
	unclosed: boolean;
}

interface Pair {
	name: string;
	open: RegExp;
	close: (opened: RegExpExecArray) => RegExp;
}

const PAIRS: Pair[] = [
	{ name: '<think>-style', open: /<(think|thinking|reasoning|reflection|seed:think)(\s[^>]*)?>/i, close: (o) => new RegExp(`</${o[1].replace(':', '\\:')}\\s*>`, 'i') },
	{ name: '[THINK]', open: /\[THINK\]/i, close: () => /\[\/THINK\]/i },
	{ name: '◁think▷', open: /◁think▷/i, close: () => /◁\/think▷/i },
];

const HARMONY_FINAL = /<\|channel\|>\s*final\s*<\|message\|>/i;
const HARMONY_PART = /(?:<\|start\|>[a-z]*)?<\|channel\|>\s*(analysis|commentary)[^<]*<\|message\|>[\s\S]*?(?:<\|end\|>|<\|call\|>|$)/gi;
const HARMONY_TOKEN = /<\|(start|end|return|call|message|channel|constrain)\|>/gi;

function harmony(text: string, notes: string[]): string {
	if (!/<\|channel\|>/i.test(text)) return text;
	const final = HARMONY_FINAL.exec(text);
	if (final) {
		notes.push('read the final channel of a harmony-format answer');
		return text.slice(final.index + final[0].length).replace(/<\|(return|end|call)\|>[\s\S]*$/i, '');
	}
	notes.push('dropped the analysis channel of a harmony-format answer');
	return text.replace(HARMONY_PART, ' ').replace(HARMONY_TOKEN, ' ');
}

/** Remove every recognised reasoning part from an answer text. */
export function stripReasoning(raw: string): Reasoning {
	const notes: string[] = [];
	let text = harmony(raw, notes);
	let unclosed = false;
	// A lone closing </think> (the server stripped the opening tag): what precedes it is reasoning.
	const lone = /<\/(think|thinking)\s*>/i.exec(text);
	if (lone && !/<(think|thinking)(\s[^>]*)?>/i.test(text.slice(0, lone.index))) {
		text = text.slice(lone.index + lone[0].length);
		notes.push('dropped reasoning before a closing </think>');
	}
	for (;;) {
		let earliest: { pair: Pair; open: RegExpExecArray } | undefined;
		for (const pair of PAIRS) {
			const open = pair.open.exec(text);
			if (open && (!earliest || open.index < earliest.open.index)) earliest = { pair, open };
		}
		if (!earliest) break;
		const { pair, open } = earliest;
		const after = open.index + open[0].length;
		const close = pair.close(open).exec(text.slice(after));
		if (!close) {
			text = text.slice(0, open.index);
			unclosed = true;
			notes.push(`dropped an unclosed ${pair.name} reasoning block`);
			break;
		}
		text = `${text.slice(0, open.index)} ${text.slice(after + close.index + close[0].length)}`;
		notes.push(`dropped a ${pair.name === '<think>-style' ? `<${open[1].toLowerCase()}>` : pair.name} reasoning block`);
	}
	return { text, notes, unclosed };
}
