/**
 * Reading `n8n execute --rawOutput` (test/e2e/support/n8n.ts): the document after n8n's log lines, also
 * when it is large and when log lines follow it.
 */
import { parseRawOutput } from '../e2e/support/n8n';

describe('parseRawOutput', () => {
	const doc = { data: { resultData: { runData: { A: [{ data: { main: [[{ json: { id: 1, text: 'a\n{b}' } }]] } }] } } }, status: 'success' };

	it('reads the indented document between log lines, a one-line JSON log before it included', () => {
		const out = ['Loading workflow', '{"level":"info","msg":"started"}', JSON.stringify(doc, null, 2), 'Execution finished', ''].join('\n');
		expect(parseRawOutput(out)).toEqual(doc);
	});

	it('reads a large document (thousands of items) followed by many log lines', () => {
		const items = Array.from({ length: 5000 }, (_, i) => ({ json: { id: i, body: 'line\n'.repeat(5), nested: { list: [1, { x: i }] } } }));
		const big = { data: { resultData: { runData: { A: [{ data: { main: [items] } }] } } }, status: 'success' };
		const out = ['Execution started', JSON.stringify(big, null, 2), ...Array.from({ length: 2000 }, (_, i) => `log line ${i}`)].join('\n');
		expect(parseRawOutput(out)).toEqual(big);
	});

	it('still reads a document printed on one line, and gives undefined when there is none', () => {
		expect(parseRawOutput(`log\n${JSON.stringify(doc)}\nmore log`)).toEqual(doc);
		expect(parseRawOutput('only\nlog lines\n')).toBeUndefined();
	});
});
