/**
 * The example workflows' Code nodes say what they emit: a node whose comment names examples/emails.json emits
 * emails of that file, and the drift check's list of prompts names prompts of the example registry — in the
 * committed files users import and in what scripts/build-example-workflows.js writes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

interface WorkflowNode {
	name: string;
	type: string;
	parameters: { jsCode?: string };
}

const built = (require(path.join(ROOT, 'scripts', 'build-example-workflows.js')) as { workflows: Record<string, { nodes: WorkflowNode[] }> }).workflows;
const dir = path.join(ROOT, 'examples', 'workflows');
const committed = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => [f, JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { nodes: WorkflowNode[] }]));
const emails = JSON.parse(readFileSync(path.join(ROOT, 'examples', 'emails.json'), 'utf8')) as unknown[];
const prompts = readdirSync(path.join(ROOT, 'examples', 'registry'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

/** The comment line and the items of a generated Code node (`// …\nreturn [...].map((json) => ({ json }));`). */
function codeNodes(workflows: Record<string, { nodes: WorkflowNode[] }>) {
	return Object.entries(workflows).flatMap(([file, wf]) =>
		wf.nodes
			.filter((n) => n.type === 'n8n-nodes-base.code')
			.map((n) => {
				const m = /^\/\/ (.*)\nreturn ([\s\S]*)\.map\(\(json\) => \(\{ json \}\)\);$/.exec(n.parameters.jsCode ?? '');
				if (!m) throw new Error(`${file}: Code node "${n.name}" is not a generated list of items`);
				return { where: `${file} "${n.name}"`, comment: m[1], items: JSON.parse(m[2]) as Array<Record<string, unknown>> };
			}),
	);
}

describe.each([
	['the committed example workflows', committed],
	['scripts/build-example-workflows.js', built],
])('%s', (_label, workflows) => {
	const nodes = codeNodes(workflows);

	test('a Code node that names examples/emails.json emits emails of that file', () => {
		const fromEmails = nodes.filter((n) => n.comment.includes('examples/emails.json'));
		expect(fromEmails.length).toBeGreaterThanOrEqual(3);
		for (const n of fromEmails) {
			expect({ where: n.where, items: n.items.length > 0 && n.items.every((item) => emails.some((e) => JSON.stringify(e) === JSON.stringify(item))) }).toEqual({ where: n.where, items: true });
		}
	});

	test('the drift check lists prompts of the example registry, and says so', () => {
		const drift = nodes.find((n) => n.where === 'model-drift-check.json "Prompts to check"');
		expect(drift).toBeDefined();
		expect(drift!.comment).not.toContain('emails');
		expect(drift!.comment).toMatch(/^Prompts to check for drift, one item per released prompt id/);
		expect(drift!.items.map((i) => i.prompt).sort()).toEqual([...prompts].sort());
	});
});
