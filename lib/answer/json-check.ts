/**
 * What JSON.parse silently decides for a model answer, checked on the JSON text itself:
 * - a key given twice in one object (`{"value": 7, "value": 14}`: JSON.parse keeps the last) → ambiguous;
 * - a number JSON.parse cannot hold exactly: an integer beyond ±2^53 − 1 (`9007199254740993` reads as …992),
 *   or a non-zero number that underflows to 0 (`1e-400`) → not what the answer said.
 * Runs on text JSON.parse already accepted (a recursive walk of the grammar; no second parser needed).
 */

/** What is wrong with a JSON text: a key given twice (`ambiguous`) or a number it cannot hold (`inexact`). */
export interface JsonTextProblem {
	kind: 'ambiguous' | 'inexact';
	message: string;
}

/** Why the JSON text would be read differently than it says, or undefined when it is exact and unambiguous. */
export function jsonTextProblem(text: string): JsonTextProblem | undefined {
	let i = 0;
	let problem: JsonTextProblem | undefined;
	const ws = () => {
		while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
	};
	const str = (): string => {
		const start = i;
		i++; // opening quote
		while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
		i++;
		return JSON.parse(text.slice(start, i)) as string;
	};
	const num = () => {
		const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
		const literal = m ? m[0] : '';
		i += literal.length || 1;
		const value = Number(literal);
		if (!m?.[2] && !m?.[3] && !Number.isSafeInteger(value)) {
			problem ??= { kind: 'inexact', message: `the number ${literal} is beyond the integers JSON numbers hold exactly (±9007199254740991)` };
		} else if (value === 0 && /[1-9]/.test(literal.replace(/[eE].*$/, ''))) {
			problem ??= { kind: 'inexact', message: `the number ${literal} is too small to represent (it would read as 0)` };
		}
	};
	const value = (): void => {
		ws();
		const c = text[i];
		if (c === '{') {
			i++;
			const keys = new Set<string>();
			ws();
			if (text[i] === '}') {
				i++;
				return;
			}
			for (;;) {
				ws();
				const key = str();
				if (keys.has(key)) problem ??= { kind: 'ambiguous', message: `the key "${key}" is given twice in one object` };
				keys.add(key);
				ws();
				i++; // ':'
				value();
				ws();
				if (text[i++] === '}') return;
			}
		}
		if (c === '[') {
			i++;
			ws();
			if (text[i] === ']') {
				i++;
				return;
			}
			for (;;) {
				value();
				ws();
				if (text[i++] === ']') return;
			}
		}
		if (c === '"') {
			str();
			return;
		}
		if (c === '-' || (c >= '0' && c <= '9')) {
			num();
			return;
		}
		i += c === 'f' ? 5 : 4; // true / false / null
	};
	value();
	return problem;
}
