/**
 * `prompt-release metrics [prompt] [--since 30d] [--period week] [--json | --prometheus] [--html FILE]`:
 * the operating numbers from what the registry records — eval pass rate over time, regression incidents,
 * rollbacks and freezes per period, production invalid and correction rates per version, pending reviews.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { collectMetrics } from '../../lib/metrics/collect';
import { renderMetricsHtml } from '../../lib/metrics/html';
import { renderPrometheus } from '../../lib/metrics/prometheus';
import { metricsLines } from '../../lib/metrics/text';
import { parsePeriod, parseSince } from '../../lib/metrics/window';
import { writeFileAtomic } from '../../lib/yaml-io';
import { action, EXIT_OK, UsageError } from '../shared/exit';
import { note, out } from '../shared/output';
import { openStore, registryOption, requirePrompt, shownPath } from '../shared/registry';

interface MetricsOptions {
	since: string;
	period: string;
	json?: boolean;
	prometheus?: boolean;
	html?: string;
}

async function metrics(promptId: string | undefined, opts: MetricsOptions, cmd: Command): Promise<number> {
	if (opts.json && opts.prometheus) throw new UsageError('--json and --prometheus: choose one output format');
	const store = openStore(cmd);
	if (promptId !== undefined) await requirePrompt(store, promptId);
	const now = new Date();
	const report = await collectMetrics(store, { since: parseSince(opts.since, now), until: now, period: parsePeriod(opts.period), ...(promptId !== undefined ? { prompts: [promptId] } : {}) });
	if (opts.json) out(JSON.stringify(report, null, 2));
	else if (opts.prometheus) process.stdout.write(renderPrometheus(report));
	else for (const line of metricsLines(report)) out(line);
	if (opts.html) {
		await writeFileAtomic(path.resolve(opts.html), renderMetricsHtml(report));
		(opts.json || opts.prometheus ? note : out)(`html: ${shownPath(opts.html)}`);
	}
	return EXIT_OK;
}

export function register(program: Command): void {
	program
		.command('metrics')
		.description('operating numbers from the registry: eval pass rate over time, regression incidents, rollbacks and freezes, production invalid and correction rates, pending reviews')
		.argument('[prompt]', 'prompt id (default: all prompts)')
		.option('--since <window>', 'how far back: a duration (30d, 12w, 48h) or a date (2026-11-01)', '30d')
		.option('--period <period>', 'group by day, week or month', 'week')
		.option('--json', 'print the numbers as JSON')
		.option('--prometheus', 'print the Prometheus text exposition format (metric names prefixed prompt_release_)')
		.option('--html <file>', 'also write the HTML overview of every prompt (self-contained, offline)')
		.addOption(registryOption())
		.action(action(metrics));
}
