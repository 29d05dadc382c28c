/**
 * `fixtures import`: JSONL or CSV rows become fixture files. Every row is checked first;
 * when any row is bad nothing is written.
 *
 * JSONL: one object per line: {"id"?, "inputs": {...}, "expected": ..., "segment"?, "tags"?, "note"?, "source"?}
 *        `expected` is converted to the declared output type ("14" → 14, "yes" → true); inputs are
 *        taken as written.
 * CSV:   a header row; columns `id`, `expected`, `segment`, `note`, `source` are fixture fields,
 *        `expected.<prop>` fills an object output, every other column (optionally written
 *        `inputs.<name>`) is an input. Cells are converted to the declared input/output types.
 *        Separator comma, semicolon or tab, found from the header (see fixtures-csv.ts).
 *
 * Both formats are read by text-file.ts: UTF-8 with or without BOM, UTF-16 with BOM, CRLF/CR/LF.
 *
 * `source` may be manual or import (the default). Rows cannot claim `source: correction` or carry
 * `recorded`: corrections are recorded by the Record Correction node, with their evidence.
 */
import * as path from 'node:path';
import { ConfigError, ConfigErrors } from './errors';
import { canonicalJson, sha256 } from './hash';
import { expectedProblem } from './answer/unwrap';
import { coercionHint, coerceToSchema } from './coerce';
import { readCsv, type RawRow } from './fixtures-csv';
import { readTextFile } from './text-file';
import { splitTags } from './accuracy/tags';
import { checkFixture } from './registry/formats';
import type { RegistryStore } from './registry/store';
import type { LoadedFile } from './yaml-io';
import type { Fixture, OutputSchema, ScalarSchema } from './types';

const IMPORT_SOURCES = ['manual', 'import'];

function readJsonl(text: string, file: string): RawRow[] {
	const rows: RawRow[] = [];
	text.split('\n').forEach((line, i) => {
		if (!line.trim()) return;
		let data: unknown;
		try {
			data = JSON.parse(line);
		} catch (error) {
			throw new ConfigError(`not valid JSON: ${(error as Error).message}`, { file, line: i + 1 });
		}
		if (typeof data !== 'object' || data === null || Array.isArray(data)) {
			throw new ConfigError('each line must be a JSON object {inputs, expected, segment}', { file, line: i + 1 });
		}
		rows.push({ line: i + 1, data: data as Record<string, unknown> });
	});
	return rows;
}

/** Imported rows are manual or import fixtures; corrections come only from the Record Correction node. */
function sourceError(data: Record<string, unknown>, file: string, line: number): ConfigError | undefined {
	const corrections = 'corrections are recorded by the Record Correction node, not imported';
	if (Object.hasOwn(data, 'recorded')) {
		return new ConfigError(`${corrections}: remove "recorded" (source may be manual or import)`, { file, line, field: 'recorded' });
	}
	if (data.source === 'correction') {
		return new ConfigError(`${corrections}: use source manual or import (the default)`, { file, line, field: 'source' });
	}
	if (data.source !== undefined && !IMPORT_SOURCES.includes(data.source as string)) {
		return new ConfigError(`must be manual or import (the default), not ${JSON.stringify(data.source)}`, { file, line, field: 'source' });
	}
	return undefined;
}

/** Fixture ids written by an import: new files, and existing fixtures replaced. */
export interface ImportResult {
	created: string[];
	updated: string[];
}

/**
 * Import the rows of a .jsonl/.ndjson or .csv/.tsv file as fixtures of a prompt's draft. All rows
 * are checked before anything is written; fixtures with the same id are replaced.
 * @throws ConfigError for an unreadable file, an unknown extension, an encoding that is not read,
 *         a CSV header that does not fit the prompt, malformed JSON/CSV, or no rows;
 *         ConfigErrors (or one ConfigError) listing every bad row with its line and field.
 */
/** A person's text for a number or boolean that did not convert: the message with a hint, or undefined. */
function notConverted(output: OutputSchema, raw: unknown, coerced: unknown): string | undefined {
	const check = (schema: ScalarSchema, before: unknown, after: unknown, name: string) =>
		typeof before === 'string' && typeof after === 'string' && schema.type !== 'string' ? `${name} ${JSON.stringify(before)} is not a ${schema.type}: ${coercionHint(schema, before)}` : undefined;
	if (output.type !== 'object') return check(output, raw, coerced, 'expected');
	if (typeof raw !== 'object' || raw === null || typeof coerced !== 'object' || coerced === null) return undefined;
	for (const [name, prop] of Object.entries(output.properties)) {
		const problem = check(prop, (raw as Record<string, unknown>)[name], (coerced as Record<string, unknown>)[name], `expected.${name}`);
		if (problem) return problem;
	}
	return undefined;
}

export async function importFixtures(store: RegistryStore, promptId: string, file: string): Promise<ImportResult> {
	const spec = await store.readDraft(promptId);
	const ext = path.extname(file).toLowerCase();
	if (!['.jsonl', '.ndjson', '.csv', '.tsv'].includes(ext)) {
		throw new ConfigError('unknown file type: use a .jsonl (one JSON object per line), .csv or .tsv file', { file });
	}
	const { text } = await readTextFile(file);
	const rows = ext === '.csv' || ext === '.tsv' ? readCsv(text, file, spec) : readJsonl(text, file);
	if (rows.length === 0) throw new ConfigError('no rows to import', { file });

	const errors: ConfigError[] = [];
	const fixtures: Fixture[] = [];
	const seen = new Map<string, number>();
	for (const row of rows) {
		const data = { ...row.data };
		const claimed = sourceError(data, file, row.line);
		if (claimed) {
			errors.push(claimed);
			continue;
		}
		if ('expected' in data) {
			const raw = data.expected;
			data.expected = coerceToSchema(spec.output, raw);
			const unconverted = notConverted(spec.output, raw, data.expected);
			if (unconverted) {
				errors.push(new ConfigError(unconverted, { file, line: row.line, field: 'expected' }));
				continue;
			}
			const problem = expectedProblem(spec.output, data.expected);
			if (problem) {
				errors.push(new ConfigError(problem, { file, line: row.line, field: 'expected' }));
				continue;
			}
		}
		const inputs = (typeof data.inputs === 'object' && data.inputs) || {};
		if (data.id === undefined) data.id = `import-${sha256(canonicalJson(inputs)).slice(0, 16)}`;
		data.source ??= 'import';
		if (typeof data.segment === 'number') data.segment = String(data.segment);
		// Tags as one text (a CSV cell, or a JSONL string): "ambiguous, quoted-thread"; empty means none.
		if (typeof data.tags === 'string') {
			const tags = splitTags(data.tags);
			if (tags.length) data.tags = tags;
			else delete data.tags;
		}
		const loaded: LoadedFile = { file, data, lineOf: () => row.line };
		try {
			const fixture = checkFixture(loaded, undefined, spec, data);
			const dup = seen.get(fixture.id);
			if (dup !== undefined) {
				errors.push(new ConfigError(`fixture id "${fixture.id}" repeats the row at line ${dup} (same id or same inputs)`, { file, line: row.line }));
			}
			seen.set(fixture.id, row.line);
			fixtures.push(fixture);
		} catch (error) {
			if (error instanceof ConfigErrors) errors.push(...error.errors);
			else if (error instanceof ConfigError) errors.push(error);
			else throw error;
		}
	}
	if (errors.length) throw errors.length === 1 ? errors[0] : new ConfigErrors(errors);

	// A row whose inputs another fixture already covers would make a second fixture the prompt can never pass
	// together with the first (or a duplicate): refuse it, naming that fixture.
	for (const fixture of fixtures) {
		const covering = await store.findFixtureByInputs(promptId, fixture.inputs);
		if (covering && covering.id !== fixture.id) {
			errors.push(
				new ConfigError(
					`the row has the same inputs as fixture "${covering.id}" (expected ${JSON.stringify(covering.expected)}): edit that fixture instead, or give this row "id": "${covering.id}" to update it`,
					{ file, line: seen.get(fixture.id) },
				),
			);
		}
	}
	if (errors.length) throw errors.length === 1 ? errors[0] : new ConfigErrors(errors);

	const result: ImportResult = { created: [], updated: [] };
	for (const fixture of fixtures) {
		const created = await store.writeFixture(promptId, fixture);
		(created ? result.created : result.updated).push(fixture.id);
	}
	return result;
}
