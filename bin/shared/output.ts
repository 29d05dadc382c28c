/** Small formatting helpers shared by the commands' human output. */

export function out(line = ''): void {
	process.stdout.write(`${line}\n`);
}

/** A note that is not the command's result (stays out of --json output). */
export function note(line: string): void {
	process.stderr.write(`${line}\n`);
}

export function percent(rate: number): string {
	return `${(rate * 100).toFixed(1)}%`;
}

export function ms(value: number): string {
	return `${Math.round(value)} ms`;
}

export function usd(value: number): string {
	if (value === 0) return '$0';
	return `$${value < 0.01 ? value.toPrecision(3) : value.toFixed(4)}`;
}

/** A compact one-line JSON rendering of a value, shortened when long. */
export function shown(value: unknown, max = 80): string {
	const text = JSON.stringify(value) ?? String(value);
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Replace newlines so one record stays on one line. */
export function oneLine(text: string): string {
	return text.replace(/\s*\r?\n\s*/g, ' ').trim();
}

function width(text: string): number {
	return [...text].length;
}

export function pad(text: string, size: number): string {
	return text + ' '.repeat(Math.max(0, size - width(text)));
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: string[], rows: string[][]): string[] {
	const all = [header, ...rows];
	const widths = header.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))));
	return all.map((row) =>
		row
			.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i])))
			.join('  ')
			.trimEnd(),
	);
}

export function plural(n: number, word: string, many = `${word}s`): string {
	return `${n} ${n === 1 ? word : many}`;
}
