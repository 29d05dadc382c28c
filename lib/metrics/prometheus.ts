/**
 * The metrics in the Prometheus text exposition format (version 0.0.4): one `# HELP` and one `# TYPE` line per
 * metric family, then its samples; names prefixed `prompt_release_`; label values escaped (backslash, double
 * quote, line feed), HELP text escaped (backslash, line feed); every line ends with a line feed. Window
 * counts are gauges (they describe the `--since` window, not a counter since process start).
 */
import type { MetricsReport } from './collect';

/** Escape a label value: `\` → `\\`, `"` → `\"`, line feed → `\n`. */
export function escapeLabelValue(value: string): string {
	return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escape HELP text: `\` → `\\`, line feed → `\n`. */
export function escapeHelp(text: string): string {
	return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus reads it (NaN, +Inf, -Inf spelled its way). */
function num(x: number): string {
	if (Number.isNaN(x)) return 'NaN';
	if (x === Infinity) return '+Inf';
	if (x === -Infinity) return '-Inf';
	return String(x);
}

type Labels = Record<string, string>;

class Families {
	private readonly order: string[] = [];
	private readonly families = new Map<string, { help: string; type: string; samples: string[] }>();

	add(name: string, help: string, labels: Labels, value: number, type = 'gauge'): void {
		const full = `prompt_release_${name}`;
		let f = this.families.get(full);
		if (!f) {
			f = { help, type, samples: [] };
			this.families.set(full, f);
			this.order.push(full);
		}
		const l = Object.entries(labels);
		f.samples.push(`${full}${l.length ? `{${l.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}` : ''} ${num(value)}`);
	}

	text(): string {
		const lines: string[] = [];
		for (const name of this.order) {
			const f = this.families.get(name)!;
			lines.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...f.samples);
		}
		return `${lines.join('\n')}\n`;
	}
}

/** Render a metrics report for scraping (e.g. from a file served next to n8n's own /metrics, or a textfile collector). */
export function renderPrometheus(report: MetricsReport): string {
	const m = new Families();
	const windowSeconds = Math.round((Date.parse(report.until) - Date.parse(report.since)) / 1000);
	m.add('metrics_window_seconds', 'Length in seconds of the window (prompt-release metrics --since) that the other counts cover.', {}, windowSeconds);
	for (const p of report.prompts) {
		const prompt = { prompt: p.id };
		if (p.evals.latest) {
			m.add('eval_pass_rate', 'Pass rate (0-1) of the newest stored test run of a frozen version in the window.', { ...prompt, version: String(p.evals.latest.version) }, p.evals.latest.passRate);
		}
		if (p.evals.meanPassRate !== null) m.add('eval_mean_pass_rate', 'Mean pass rate (0-1) of the stored test runs of frozen versions in the window.', prompt, p.evals.meanPassRate);
		m.add('eval_runs', 'Stored test runs of frozen versions in the window.', prompt, p.evals.runs);
		m.add('eval_draft_runs', 'Stored test runs of the draft in the window (experiments: in no other eval number).', prompt, p.evals.draftRuns);
		m.add('regression_runs', 'Test runs of frozen versions in the window with at least one regression against the run behind production.', prompt, p.incidents.regressionRuns.length);
		m.add('forced_releases', 'Releases, canaries and promotions forced past a refusing gate in the window.', prompt, p.changes.forced);
		for (const [action, n] of [['release', p.changes.releases], ['canary', p.changes.canaries], ['promote', p.changes.promotions]] as const) {
			m.add('release_changes', 'Release changes in the window, by action.', { ...prompt, action }, n);
		}
		m.add('rollbacks', 'Rollbacks in the window (channel moved back, or a canary ended).', prompt, p.changes.rollbacks);
		m.add('freezes', 'Canaries frozen by a freeze rule in the window.', prompt, p.changes.freezes);
		m.add('approvals', 'Approvals recorded in the window (prompt-release approve).', prompt, p.changes.approvals);
		if (p.production) m.add('production_version', 'The version on the production channel.', prompt, p.production.version);
		for (const o of p.outcomes) {
			// Canary rows keep their labels; served rows (a channel's log without a canary) add source="served" and the channel.
			const labels = { ...prompt, version: String(o.version), arm: o.arm, ...(o.source === 'served' ? { source: o.source, channel: o.channel ?? '' } : {}) };
			m.add('production_items', 'Items served in the window, from outcome logs, by version and arm (canary logs), or with source="served" and the channel (served without a canary).', labels, o.items);
			m.add('production_invalid_rate', 'Share (0-1) of served items that were invalid, from outcome logs.', labels, o.invalidRate);
			m.add('production_correction_rate', 'Share (0-1) of served items later corrected (Record Correction), from outcome logs.', labels, o.correctionRate);
		}
		m.add('pending_reviews', 'Review cases waiting for a person now (prompt-release review), whatever the window.', prompt, p.pendingReviews);
	}
	return m.text();
}
