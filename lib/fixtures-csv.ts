/**
 * The CSV side of `fixtures import`: finding the separator, checking the header against the
 * prompt, and turning each row into raw fixture data. Parsing is csv-parse's; this module only
 * chooses its options and reads its records.
 *
 * Separator: a first line `sep=<char>` (Excel writes it) names it; otherwise the header line is
 * parsed with comma, semicolon and tab, and the first one whose columns fit the prompt is used.
 * When none fits, one error shows the columns as read and the columns the prompt needs.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { ConfigError, ConfigErrors } from './errors';
import { coerceInput } from './coerce';
import type { PromptSpec } from './types';

/** One row of an import file: the line it starts on and its fields as written. */
export interface RawRow {
	line: number;
	data: Record<string, unknown>;
}

/** Columns that are fixture fields, not inputs. */
export const FIXTURE_FIELDS = new Set(['id', 'expected', 'segment', 'tags', 'note', 'source', 'recorded']);

const SEPARATORS: ReadonlyArray<readonly [string, string]> = [
	[',', 'comma'],
	[';', 'semicolon'],
	['\t', 'tab'],
];

function separatorName(sep: string): string {
	return SEPARATORS.find(([s]) => s === sep)?.[1] ?? JSON.stringify(sep);
}

interface CsvRecord {
	record: string[];
	info: { lines: number };
}

/** What a column holds: a fixture field, one property of an object `expected`, or an input. */
type ColumnRole = { kind: 'field'; name: string } | { kind: 'expected'; prop: string } | { kind: 'input'; name: string };

function roleOf(column: string): ColumnRole {
	if (FIXTURE_FIELDS.has(column)) return { kind: 'field', name: column };
	if (column.startsWith('expected.')) return { kind: 'expected', prop: column.slice('expected.'.length) };
	return { kind: 'input', name: column.startsWith('inputs.') ? column.slice('inputs.'.length) : column };
}

interface HeaderFit {
	columns: string[];
	known: number;
	unknown: string[];
	missing: string[];
	repeated: string[];
}

function fitHeader(columns: string[], spec: PromptSpec): HeaderFit {
	const unknown: string[] = [];
	const repeated: string[] = [];
	const seen = new Set<string>();
	let hasExpected = false;
	for (const column of columns) {
		const role = roleOf(column);
		if (role.kind === 'input' && (role.name === '' || !Object.hasOwn(spec.inputs, role.name))) unknown.push(column);
		if (role.kind === 'expected' || (role.kind === 'field' && role.name === 'expected')) hasExpected = true;
		const key = role.kind === 'expected' ? `expected.${role.prop}` : `${role.kind}:${role.name}`;
		if (seen.has(key)) repeated.push(column);
		seen.add(key);
	}
	const missing = Object.entries(spec.inputs)
		.filter(([name, decl]) => decl.required && !seen.has(`input:${name}`))
		.map(([name]) => (FIXTURE_FIELDS.has(name) ? `inputs.${name}` : name));
	if (!hasExpected) missing.push('expected');
	return { columns, known: columns.length - unknown.length, unknown, missing, repeated };
}

function fits(fit: HeaderFit): boolean {
	return fit.unknown.length === 0 && fit.missing.length === 0 && fit.repeated.length === 0;
}

/** The columns the prompt reads, for the header error. */
function neededColumns(spec: PromptSpec): string {
	const inputName = (name: string) => (FIXTURE_FIELDS.has(name) ? `inputs.${name}` : name);
	const required = Object.entries(spec.inputs).filter(([, d]) => d.required).map(([n]) => inputName(n));
	const optional = Object.entries(spec.inputs).filter(([, d]) => !d.required).map(([n]) => inputName(n));
	const props = spec.output.type === 'object' ? Object.keys(spec.output.properties ?? {}) : [];
	const expected = props.length ? `expected (or ${props.map((p) => `expected.${p}`).join(', ')})` : 'expected';
	return (
		`The prompt needs the columns ${[...required, expected].join(', ')}` +
		`; optional: ${[...optional, 'id', 'segment', 'tags', 'note', 'source'].join(', ')}` +
		' (an input column may also be written inputs.<name>)'
	);
}

function parseRecords(text: string, delimiter: string, fromLine: number, to?: number): CsvRecord[] {
	return parseCsv(text, {
		delimiter,
		from_line: fromLine,
		to,
		info: true,
		relax_column_count: true,
		skip_empty_lines: true,
	}) as unknown as CsvRecord[];
}

function csvError(error: unknown, file: string): ConfigError {
	const e = error as Error & { lines?: number };
	return new ConfigError(`not valid CSV: ${e.message}`, { file, line: typeof e.lines === 'number' ? e.lines : undefined });
}

/** The line a record starts on: csv-parse counts to its last line; its cells hold the line breaks in between. */
function startLine(record: CsvRecord): number {
	const breaks = record.record.reduce((n, cell) => n + cell.split('\n').length - 1, 0);
	return record.info.lines - breaks;
}

/** A `sep=<char>` first line (Excel), quoted or not: the separator it names. */
function sepLine(text: string): string | undefined {
	const first = text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n'));
	return /^"?sep=(.)"?\1*$/i.exec(first)?.[1];
}

function headerError(fit: HeaderFit, sep: string, tried: string[], spec: PromptSpec, file: string, line: number): ConfigError {
	const shown = fit.columns.map((c) => JSON.stringify(c)).join(', ');
	const parts = [`the header does not fit prompt "${spec.id}": read as ${separatorName(sep)}-separated, the columns are ${shown}`];
	if (fit.unknown.length) parts.push(`not columns of this prompt: ${fit.unknown.map((c) => JSON.stringify(c)).join(', ')}`);
	if (fit.repeated.length) parts.push(`given twice: ${fit.repeated.map((c) => JSON.stringify(c)).join(', ')}`);
	if (fit.missing.length) parts.push(`missing: ${fit.missing.join(', ')}`);
	let message = `${parts.join('; ')}. ${neededColumns(spec)}.`;
	if (fit.columns.length === 1 && tried.length === 1) {
		const other = SEPARATORS.find(([s]) => s !== sep && fit.columns[0].includes(s));
		if (other) message += ` The header holds ${other[1]}s: it looks like a ${other[1]}-separated file, but its first line says sep=${sep}; fix or remove that line.`;
	} else if (fit.columns.length === 1) {
		message += ` No separator splits the header: tried ${tried.map(separatorName).join(', ')}; save the file with one of them.`;
	}
	return new ConfigError(message, { file, line });
}

/**
 * Choose the separator and check the header.
 * @returns the separator and the line the header is on (2 after a `sep=` line).
 * @throws ConfigError (at the header line) when no separator gives columns that fit the prompt.
 */
function readHeader(text: string, file: string, spec: PromptSpec): { sep: string; fromLine: number; columns: string[] } | undefined {
	const named = sepLine(text);
	const fromLine = named === undefined ? 1 : 2;
	const tried = named === undefined ? SEPARATORS.map(([s]) => s) : [named];
	let best: { sep: string; fit: HeaderFit } | undefined;
	let headerLine = fromLine;
	for (const sep of tried) {
		let first: CsvRecord[];
		try {
			first = parseRecords(text, sep, fromLine, 1);
		} catch (error) {
			throw csvError(error, file);
		}
		if (first.length === 0) return undefined;
		headerLine = startLine(first[0]);
		const fit = fitHeader(first[0].record.map((c) => c.trim()), spec);
		if (fits(fit)) return { sep, fromLine, columns: fit.columns };
		if (!best || fit.known > best.fit.known || (fit.known === best.fit.known && fit.columns.length > best.fit.columns.length)) best = { sep, fit };
	}
	throw headerError(best!.fit, best!.sep, tried, spec, file, headerLine);
}

function rowData(columns: string[], cells: string[], spec: PromptSpec): Record<string, unknown> {
	const inputs: Record<string, unknown> = {};
	const data: Record<string, unknown> = { inputs };
	const expectedObject: Record<string, unknown> = {};
	columns.forEach((column, i) => {
		const cell = cells[i];
		const role = roleOf(column);
		if (role.kind === 'field') {
			if (cell !== '' || column === 'expected') data[column] = cell;
		} else if (role.kind === 'expected') {
			expectedObject[role.prop] = cell;
		} else {
			const decl = spec.inputs[role.name];
			if (cell === '' && !decl.required) return;
			inputs[role.name] = coerceInput(decl.type, cell);
		}
	});
	if (Object.keys(expectedObject).length) data.expected = expectedObject;
	return data;
}

/**
 * Read CSV text (already decoded, `\n` line endings) into raw fixture rows. Blank lines and rows
 * whose cells are all empty (`;;;`, as spreadsheets write) are skipped; quoted cells may hold the
 * separator, quotes (`""`) and line breaks.
 * @returns one row per record, with the line the record starts on.
 * @throws ConfigError when the header does not fit the prompt or the CSV is malformed;
 *         ConfigErrors (or one ConfigError) naming each row whose cell count differs from the header's.
 */
export function readCsv(text: string, file: string, spec: PromptSpec): RawRow[] {
	const header = readHeader(text, file, spec);
	if (!header) return [];
	let records: CsvRecord[];
	try {
		records = parseRecords(text, header.sep, header.fromLine);
	} catch (error) {
		throw csvError(error, file);
	}
	const rows: RawRow[] = [];
	const errors: ConfigError[] = [];
	for (const record of records.slice(1)) {
		const line = startLine(record);
		if (record.record.every((cell) => cell.trim() === '')) continue;
		if (record.record.length !== header.columns.length) {
			errors.push(
				new ConfigError(
					`the row has ${record.record.length} cells but the header has ${header.columns.length} columns (${separatorName(header.sep)}-separated): put cells that contain "${header.sep === '\t' ? '\\t' : header.sep}" or line breaks in double quotes`,
					{ file, line },
				),
			);
			continue;
		}
		rows.push({ line, data: rowData(header.columns, record.record, spec) });
	}
	if (errors.length) throw errors.length === 1 ? errors[0] : new ConfigErrors(errors);
	return rows;
}
