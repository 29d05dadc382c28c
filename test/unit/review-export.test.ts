/** The review queue's CSV and JSONL exports: RFC 4180 fields that csv-parse reads back exactly, defused formulas, input columns. */
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { cellText, csvField, readableCase, reviewsCsv, reviewsJsonl } from '../../lib/review/export';
import type { ReviewCase } from '../../lib/review/types';

function reviewCase(id: string, inputs: Record<string, unknown>, over: Partial<ReviewCase> = {}): ReviewCase {
	return { id, promptId: 'p', kind: 'invalid', version: 2, inputs, modelOutput: 'x', reason: 'r', firstSeen: '2026-11-29T10:00:00.000Z', lastSeen: '2026-11-29T11:00:00.000Z', occurrences: 3, status: 'pending', ...over };
}

test('every text survives a round trip through csv-parse, formulas aside', () => {
	fc.assert(
		fc.property(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 5 }), (cells) => {
			const line = `${cells.map(csvField).join(',')}\r\n`;
			const [row] = parseCsv(line, { relax_column_count: false }) as string[][];
			expect(row.map((cell, i) => (cell === `'${cells[i]}` ? cells[i] : cell))).toEqual(cells);
		}),
	);
});

test('quotes only when needed, defuses formula-looking text but not numbers', () => {
	expect(csvField('plain')).toBe('plain');
	expect(csvField('a,b')).toBe('"a,b"');
	expect(csvField('say "hi"')).toBe('"say ""hi"""');
	expect(csvField('two\nlines')).toBe('"two\nlines"');
	expect(csvField('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
	expect(csvField('@cmd')).toBe("'@cmd");
	expect(csvField('+4%')).toBe("'+4%");
	expect(csvField('-3.5')).toBe('-3.5');
	expect(csvField('-1e3')).toBe('-1e3');
	expect(cellText(undefined)).toBe('');
	expect(cellText('text')).toBe('text');
	expect(cellText(null)).toBe('null');
	expect(cellText({ a: [1] })).toBe('{"a":[1]}');
});

test('CSV: fixed columns, one inputs.<name> column per input of any case, closings in their columns', () => {
	const cases = [
		reviewCase('review-1', { subject: 'Prices, "new"', count: 3 }, { source: { routingKey: 'k', executionId: '9' } }),
		reviewCase('review-2', { subject: 'Other', extra: { nested: true } }, { status: 'dismissed', kind: 'audit', version: 'draft', modelOutput: false, closed: { status: 'dismissed', at: '2026-11-29T12:00:00.000Z', reason: 'spam', by: 'ann' } }),
		reviewCase('review-3', { subject: 's' }, { status: 'resolved', closed: { status: 'resolved', at: '2026-11-29T12:00:00.000Z', fixtureId: 'correction-1' } }),
	];
	const text = reviewsCsv(cases);
	expect(text.split('\r\n')[0]).toBe(
		'case_id,prompt,status,kind,version,reason,occurrences,first_seen,last_seen,model_output,finish_reason,channel,arm,canary_id,routing_key,workflow_id,execution_id,node,closed_at,closed_by,fixture_id,dismiss_reason,inputs.subject,inputs.count,inputs.extra',
	);
	const rows = parseCsv(text, { columns: true }) as Array<Record<string, string>>;
	expect(rows[0]).toMatchObject({ case_id: 'review-1', version: '2', occurrences: '3', routing_key: 'k', execution_id: '9', 'inputs.subject': 'Prices, "new"', 'inputs.count': '3', 'inputs.extra': '' });
	expect(rows[1]).toMatchObject({ status: 'dismissed', kind: 'audit', version: 'draft', model_output: 'false', closed_by: 'ann', dismiss_reason: 'spam', fixture_id: '', 'inputs.extra': '{"nested":true}' });
	expect(rows[2]).toMatchObject({ fixture_id: 'correction-1', dismiss_reason: '', closed_at: '2026-11-29T12:00:00.000Z' });
	expect(reviewsCsv([])).toBe(`${text.split('\r\n')[0].split(',inputs.')[0]}\r\n`);
});

test('JSONL: one case per line, identifying fields first, nothing lost', () => {
	const c = reviewCase('review-1', { subject: 'line\nbreak' }, { previous: { status: 'dismissed', at: '2026-11-28T00:00:00.000Z', reason: 'old' } });
	const text = reviewsJsonl([c, c]);
	const lines = text.split('\n');
	expect(lines).toHaveLength(3);
	expect(lines[2]).toBe('');
	expect(JSON.parse(lines[0])).toEqual(c);
	expect(Object.keys(readableCase(c)).slice(0, 9)).toEqual(['id', 'promptId', 'status', 'kind', 'version', 'reason', 'occurrences', 'firstSeen', 'lastSeen']);
});
