/**
 * Reading a text file the way editors, spreadsheets and shells save it. The one place where
 * imported files (JSONL, CSV) become text:
 *
 * - UTF-8, with or without a byte-order mark (Windows PowerShell, Excel "CSV UTF-8");
 * - UTF-16 LE/BE with a byte-order mark (Excel "Unicode text", Windows PowerShell 5 `>` / Out-File);
 * - line endings CRLF (Windows) and CR (old Mac) read as LF, also inside quoted CSV cells, so
 *   the same rows give the same fixtures whichever system saved them.
 *
 * Refused with an error that says how to re-save the file: bytes that are not UTF-8 (Windows-1252 /
 * Latin-1 files, named by line), UTF-16 without a byte-order mark, UTF-32. Text is never guessed
 * into a legacy encoding: that would write mojibake into fixtures.
 */
import { promises as fs } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { ConfigError } from './errors';

/** The encodings a file is read in: the byte-order mark picks UTF-16, everything else is UTF-8. */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** A decoded file: its text (no byte-order mark, `\n` line endings) and the encoding it was read in. */
export interface TextFile {
	text: string;
	encoding: TextEncoding;
}

const SAVE_AS_UTF8 = 'save it as UTF-8 (Excel: Save As → "CSV UTF-8"; Notepad or VS Code: encoding UTF-8) and import again';

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
	return prefix.every((b, i) => bytes[i] === b);
}

/** The 1-based line of a byte offset: one more than the LF bytes before it. */
function lineAt(bytes: Uint8Array, offset: number): number {
	let line = 1;
	for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
	return line;
}

/** The first line (1-based) whose bytes are not UTF-8, and that line read as Windows-1252 to show where. */
function firstNonUtf8Line(bytes: Buffer): { line: number; shown: string } {
	let start = 0;
	let line = 1;
	while (start <= bytes.length) {
		const lf = bytes.indexOf(0x0a, start);
		const end = lf === -1 ? bytes.length : lf;
		const slice = bytes.subarray(start, end);
		if (!isUtf8(slice)) {
			const shown = new TextDecoder('windows-1252').decode(slice).replace(/\r$/, '');
			return { line, shown: shown.length > 60 ? `${shown.slice(0, 60)}…` : shown };
		}
		if (lf === -1) break;
		start = lf + 1;
		line++;
	}
	return { line: 1, shown: '' };
}

function decodeUtf16(bytes: Buffer, encoding: 'utf-16le' | 'utf-16be', file: string): string {
	try {
		return new TextDecoder(encoding, { fatal: true }).decode(bytes);
	} catch {
		const name = encoding === 'utf-16le' ? 'UTF-16 LE' : 'UTF-16 BE';
		throw new ConfigError(`starts with a ${name} byte-order mark but is not valid ${name} text: ${SAVE_AS_UTF8}`, { file });
	}
}

function decodeUtf8(bytes: Buffer, file: string): string {
	if (!isUtf8(bytes)) {
		const { line, shown } = firstNonUtf8Line(bytes);
		throw new ConfigError(
			`not UTF-8 text: the file looks saved in a legacy encoding such as Windows-1252 or Latin-1 (read that way this line says “${shown}”); ${SAVE_AS_UTF8}`,
			{ file, line },
		);
	}
	const nul = bytes.indexOf(0);
	if (nul !== -1) {
		throw new ConfigError(`contains NUL bytes: the file looks like UTF-16 text without a byte-order mark; ${SAVE_AS_UTF8}`, { file, line: lineAt(bytes, nul) });
	}
	// A UTF-8 TextDecoder drops a leading byte-order mark (ignoreBOM is false by default).
	return new TextDecoder('utf-8').decode(bytes);
}

/**
 * Decode a file's bytes (see the module comment for what is read and what is refused).
 * @param file shown in errors.
 * @returns the text without byte-order mark, with `\n` line endings, and the encoding it was read in.
 * @throws ConfigError naming the file (and the line, for non-UTF-8 bytes) and how to re-save it.
 */
export function decodeText(bytes: Buffer, file: string): TextFile {
	let encoding: TextEncoding = 'utf-8';
	let text: string;
	if (startsWith(bytes, [0xff, 0xfe, 0x00, 0x00]) || startsWith(bytes, [0x00, 0x00, 0xfe, 0xff])) {
		throw new ConfigError(`is UTF-32 text, which is not read: ${SAVE_AS_UTF8}`, { file });
	} else if (startsWith(bytes, [0xff, 0xfe])) {
		encoding = 'utf-16le';
		text = decodeUtf16(bytes, encoding, file);
	} else if (startsWith(bytes, [0xfe, 0xff])) {
		encoding = 'utf-16be';
		text = decodeUtf16(bytes, encoding, file);
	} else {
		text = decodeUtf8(bytes, file);
	}
	return { text: text.replace(/\r\n?/g, '\n'), encoding };
}

/**
 * Read and decode a text file (see the module comment).
 * @throws ConfigError "cannot read file: <code>" when it cannot be read, or as {@link decodeText}.
 */
export async function readTextFile(file: string): Promise<TextFile> {
	let bytes: Buffer;
	try {
		bytes = await fs.readFile(file);
	} catch (error) {
		throw new ConfigError(`cannot read file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { file });
	}
	return decodeText(bytes, file);
}
