/** The metrics report as terminal text (`prompt-release metrics`). */
import type { MetricsReport } from './collect';

function pct(x: number | null | undefined): string {
	return x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
}

/** Lines for the terminal: per prompt the eval pass rate over time (runs of frozen versions; draft runs counted apart), changes, incidents, production outcomes, pending reviews. */
export function metricsLines(report: MetricsReport): string[] {
	const lines = [`metrics ${report.since.slice(0, 10)} – ${report.until.slice(0, 10)} (by ${report.period}), ${report.prompts.length} prompt(s)`];
	for (const p of report.prompts) {
		lines.push('', `${p.id}${p.production ? ` — production v${p.production.version}${p.production.forced ? ' FORCED' : ''}` : ' — nothing on production'}`);
		const latest = p.evals.latest;
		const drafts = p.evals.draftRuns ? `; ${p.evals.draftRuns} draft run(s) not counted (experiments)` : '';
		lines.push(`  eval runs ${p.evals.runs} of frozen versions, mean pass rate ${pct(p.evals.meanPassRate)}${latest ? `; latest ${pct(latest.passRate)} (v${latest.version}, ${latest.at})` : ''}${drafts}`);
		for (const r of p.periods) {
			lines.push(`    ${r.period}  runs ${r.runs}  pass ${pct(r.meanPassRate)}  regressions ${r.regressionRuns}  releases ${r.releases}  forced ${r.forced}  rollbacks ${r.rollbacks}  freezes ${r.freezes}`);
		}
		const c = p.changes;
		lines.push(`  changes: ${c.releases} release(s), ${c.canaries} canary(ies), ${c.promotions} promotion(s), ${c.rollbacks} rollback(s), ${c.freezes} freeze(s), ${c.approvals} approval(s)`);
		lines.push(`  regression incidents: ${c.forced} forced, ${p.incidents.regressionRuns.length} run(s) with regressions`);
		for (const f of p.incidents.forced) lines.push(`    FORCED ${f.action} v${f.version} on ${f.channel} by ${f.by} at ${f.at}${f.reason ? `: "${f.reason}"` : ''}`);
		if (p.outcomes.length) {
			for (const o of p.outcomes) lines.push(`  production v${o.version} ${o.arm}${o.source === 'served' ? ` on ${o.channel} (served, no canary)` : ''}: ${o.items} items, invalid ${pct(o.invalidRate)}, corrected ${pct(o.correctionRate)}`);
		} else lines.push('  production: no canary or served outcome logs in the window (invalid and correction rates not recorded)');
		lines.push(`  pending reviews: ${p.pendingReviews}`);
	}
	lines.push('', ...[report.reviewQueue.note, ...report.notes].map((n) => `note: ${n}`));
	return lines;
}
