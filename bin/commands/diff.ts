/**
 * `prompt-release diff <prompt> <a> <b>` (versions, `draft`, or channel names): unified diff of the
 * instructions and the template, every other changed field (model, parameters, inputs, schema,
 * limitations) one by one, and the eval delta when both sides have a stored run. Exit 0 either way.
 */
import type { Command } from 'commander';
import { compareRefs, type FieldChange, type MetricDelta, type RefComparison } from '../../lib/diff';
import { metricChange, metricValue, pct, pp, type MetricUnit } from '../../lib/report/format';
import { action, EXIT_OK } from '../shared/exit';
import { out, shown } from '../shared/output';
import { openStore, registryOption, requirePrompt } from '../shared/registry';

interface DiffOptions {
	json?: boolean;
}

function value(v: unknown): string {
	if (v === undefined) return '(absent)';
	if (typeof v === 'string' && v.includes('\n')) return JSON.stringify(v.length > 200 ? `${v.slice(0, 199)}…` : v);
	return shown(v, 200);
}

function fieldLine(f: FieldChange): string {
	return `  ${f.path}: ${value(f.from)} → ${value(f.to)}`;
}

function metricLine(label: string, m: MetricDelta, unit: MetricUnit): string {
	return `  ${label}: ${m.baseline !== undefined ? metricValue(m.baseline, unit) : '—'} → ${metricValue(m.current, unit)}, ${metricChange(m, unit)}`;
}

function print(c: RefComparison): void {
	const { a, b, diff } = c;
	out(`diff ${c.promptId}: ${a.label} → ${b.label}`);
	if (diff.same) out('no differences');
	else {
		if (diff.fields.length) {
			out(`changed fields (${diff.fields.length}):`);
			for (const f of diff.fields) out(fieldLine(f));
		}
		if (diff.instructions) out(diff.instructions.replace(/\n$/, ''));
		else out('instructions: no differences');
		if (diff.template) out(diff.template.replace(/\n$/, ''));
		else out('template: no differences');
	}
	if (c.eval) {
		const e = c.eval;
		out(`eval delta (run ${e.fromRunId} → run ${e.toRunId}):`);
		out(`  pass rate: ${pct(e.passRate.baseline ?? 0)} → ${pct(e.passRate.current)} (${pp(e.passRate.delta)})`);
		for (const [name, s] of Object.entries(e.segments)) {
			out(`  segment ${name}: ${s.baseline !== undefined ? pct(s.baseline) : '—'} → ${s.total ? pct(s.current) : '—'} (${pp(s.delta)})`);
		}
		out(metricLine('latency p50', e.latencyP50Ms, 'ms'));
		out(metricLine('latency p95', e.latencyP95Ms, 'ms'));
		out(metricLine('input tokens', e.inputTokens, 'tokens'));
		out(metricLine('output tokens', e.outputTokens, 'tokens'));
		out(metricLine('cost', e.costUsd, 'usd'));
	} else {
		const missing = [a, b].filter((s) => !s.run).map((s) => s.label);
		out(`eval delta: not available (no stored run of ${missing.join(' and ')}; run "prompt-release test ${c.promptId} --version …" first)`);
	}
}

async function diff(promptId: string, a: string, b: string, opts: DiffOptions, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	const c = await compareRefs(store, promptId, a, b);
	if (opts.json) {
		const sideJson = (s: RefComparison['a']) => ({ ref: s.ref, label: s.label, version: s.resolved.version, contentHash: s.resolved.contentHash, runId: s.run?.runId ?? null });
		out(JSON.stringify({ promptId, a: sideJson(c.a), b: sideJson(c.b), same: c.diff.same, instructions: c.diff.instructions, template: c.diff.template, fields: c.diff.fields, eval: c.eval ?? null }, null, 2));
	} else print(c);
	return EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('diff')
		.description('what changed between two versions, the draft or channels of a prompt, and the eval delta of their newest runs')
		.argument('<prompt>', 'prompt id')
		.argument('<a>', 'a version number, "draft" or a channel name (e.g. production)')
		.argument('<b>', 'a version number, "draft" or a channel name')
		.option('--json', 'print the comparison as one JSON object')
		.addOption(registryOption())
		.action(action(diff));
}
