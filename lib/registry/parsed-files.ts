/**
 * The last parse of a few files, each kept with the exact text it came from: a read whose text is identical
 * skips parsing and checking again (the result would be the same), anything else is parsed and checked.
 * Callers get a copy. Bounded: at most 64 files.
 */
export class ParsedFiles {
	private readonly files = new Map<string, { text: string; value: unknown }>();

	/** `parse(text)`, or a copy of the value parsed from this very text last time. */
	get<T>(file: string, text: string, parse: (text: string) => T): T {
		const hit = this.files.get(file);
		if (hit?.text === text) return structuredClone(hit.value as T);
		const value = parse(text);
		if (this.files.size >= 64) this.files.delete(this.files.keys().next().value as string);
		this.files.set(file, { text, value });
		return structuredClone(value);
	}
}
