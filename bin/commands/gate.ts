/**
 * `prompt-release gate <prompt> --version N`: evaluate the release gate (evidence + policy) without
 * changing anything. Exit 0 when it passes, 1 when it refuses. For CI: `--junit FILE` writes one
 * testcase per rule (and one per failing fixture); a Markdown summary is appended to the file named
 * by $GITHUB_STEP_SUMMARY when that variable is set.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { evaluateGate, POLICY_RULES, type GateVerdict, type Policy } from '../../lib';
import { writeFileAtomic } from '../../lib/yaml-io';
import { classRuleSetting } from '../../lib/accuracy/class-rules';
import { action, EXIT_FAILED, EXIT_OK, UsageError } from '../shared/exit';
import { escapeXmlAttr, escapeXmlText } from '../shared/junit';
import { note, out } from '../shared/output';
import { namedList, NAMED_UP_TO } from '../../lib/listing';
import { openStore, parseChannel, parseVersion, registryOption, requirePrompt, shownPath } from '../shared/registry';

interface GateOptions {
	version?: string;
	channel: string;
	junit?: string;
	json?: boolean;
}

const RULES = ['evidence', ...POLICY_RULES] as const;

function ruleSetting(rule: string, policy: Policy): string {
	switch (rule) {
		case 'evidence':
			return 'a stored run of exactly this version covering every current fixture';
		case 'minPassRate':
			return `minPassRate ${policy.minPassRate}`;
		case 'maxRegressions':
			return `maxRegressions ${policy.maxRegressions}`;
		case 'maxCostIncreasePct':
			return policy.maxCostIncreasePct === undefined ? 'maxCostIncreasePct not set' : `maxCostIncreasePct ${policy.maxCostIncreasePct}`;
		case 'maxP95LatencyIncreasePct':
			return policy.maxP95LatencyIncreasePct === undefined ? 'maxP95LatencyIncreasePct not set' : `maxP95LatencyIncreasePct ${policy.maxP95LatencyIncreasePct}`;
		case 'repeat':
			return `repeat ${policy.repeat}`;
		case 'maxEvidenceAgeHours':
			return `maxEvidenceAgeHours ${policy.maxEvidenceAgeHours}`;
		case 'requireTags':
			return policy.requireTags?.length ? `requireTags ${policy.requireTags.join(', ')}` : 'requireTags not set';
		case 'approvals':
			return policy.approvals ? `approvals ${policy.approvals}` : 'approvals not set';
		case 'minAgreement':
			return policy.minAgreement === undefined ? 'minAgreement not set' : `minAgreement ${policy.minAgreement}`;
		case 'minRecall':
		case 'minPrecision':
		case 'minF1':
			return classRuleSetting(rule, policy[rule]);
		default:
			return rule;
	}
}

function attr(values: Record<string, string | number>): string {
	return Object.entries(values)
		.map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`)
		.join('');
}

/** The outcome of a rule in a verdict: failed when it has violations, else as checked (skipped with why). */
function ruleCheck(rule: string, verdict: GateVerdict): { status: 'pass' | 'fail' | 'skipped'; message: string } {
	const broken = verdict.violations.filter((v) => v.rule === rule);
	if (broken.length) return { status: 'fail', message: broken.map((v) => v.message).join('; ') };
	const check = verdict.checks.find((c) => c.rule === rule);
	return check ?? { status: 'pass', message: '' };
}

/** One testcase per rule (classname "policy"; rules not checked are skipped, with why), one per failing fixture (classname "fixture"). */
export function gateJunit(promptId: string, version: number, verdict: GateVerdict): string {
	const cases: string[] = [];
	for (const rule of RULES) {
		const broken = verdict.violations.filter((v) => v.rule === rule);
		const head = `    <testcase${attr({ name: `${rule} (${ruleSetting(rule, verdict.policy)})`, classname: 'policy' })}`;
		const check = ruleCheck(rule, verdict);
		if (!broken.length && check.status === 'skipped') cases.push(`${head}>\n      <skipped${attr({ message: check.message })}/>\n    </testcase>`);
		else if (!broken.length) cases.push(`${head}/>`);
		else cases.push(`${head}>\n      <failure${attr({ message: broken.map((v) => v.message).join('; '), type: rule })}>${escapeXmlText(broken.map((v) => v.message).join('\n'))}</failure>\n    </testcase>`);
	}
	const rulesOf = new Map<string, string[]>();
	for (const v of verdict.violations) for (const id of new Set(v.fixtures)) rulesOf.set(id, [...(rulesOf.get(id) ?? []), v.rule]);
	for (const id of verdict.failingFixtures) {
		const rules = rulesOf.get(id) ?? [];
		const message = `${rules.join(', ')}: ${verdict.fixtureReasons?.[id] ?? 'failed'}`;
		cases.push(`    <testcase${attr({ name: id, classname: 'fixture' })}>\n      <failure${attr({ message, type: rules[0] ?? 'fixture' })}>${escapeXmlText(message)}</failure>\n    </testcase>`);
	}
	const failures = cases.filter((c) => c.includes('<failure')).length;
	const skipped = cases.filter((c) => c.includes('<skipped')).length;
	const counts = { tests: cases.length, failures, errors: 0, skipped };
	return [
		'<?xml version="1.0" encoding="UTF-8"?>',
		`<testsuites${attr({ name: 'prompt-release gate', ...counts })}>`,
		`  <testsuite${attr({ name: `${promptId} v${version}`, ...counts })}>`,
		'    <properties>',
		`      <property${attr({ name: 'verdict', value: verdict.ok ? 'pass' : 'refused' })}/>`,
		...(verdict.run ? [`      <property${attr({ name: 'runId', value: verdict.run.runId })}/>`] : []),
		...(verdict.baseline ? [`      <property${attr({ name: 'baselineRunId', value: verdict.baseline.runId })}/>`] : []),
		'    </properties>',
		...cases,
		'  </testsuite>',
		'</testsuites>',
		'',
	].join('\n');
}

function md(text: string): string {
	return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The GitHub Actions job summary (Markdown). */
export function gateMarkdown(promptId: string, version: number, channel: string, verdict: GateVerdict): string {
	const lines = [`### ${verdict.ok ? '✅' : '❌'} prompt-release gate: \`${promptId}\` v${version} → \`${channel}\`: ${verdict.ok ? 'PASS' : 'REFUSED'}`, ''];
	if (verdict.run) {
		const s = verdict.run.summary;
		lines.push(`Run \`${verdict.run.runId}\`: ${s.passed}/${s.total} passed (${Math.round(s.passRate * 10000) / 100}%), p95 ${s.latencyMs.p95} ms, cost $${s.costUsd}${verdict.baseline ? `; baseline \`${verdict.baseline.runId}\` (v${verdict.baseline.version})` : ''}`, '');
	}
	lines.push('| Rule | Setting | Result |', '| --- | --- | --- |');
	for (const rule of RULES) {
		const check = ruleCheck(rule, verdict);
		const result = check.status === 'fail' ? `❌ ${md(check.message)}` : check.status === 'skipped' ? `➖ skipped (${md(check.message)})` : '✅';
		lines.push(`| ${rule} | ${md(ruleSetting(rule, verdict.policy))} | ${result} |`);
	}
	if (verdict.failingFixtures.length) lines.push('', `Failing fixtures: ${namedList(verdict.failingFixtures.slice(0, NAMED_UP_TO).map((f) => `\`${f}\``), { total: verdict.failingFixtures.length })}`);
	lines.push('', '');
	return lines.join('\n');
}

/** How many fixture ids each list of `gate --json` carries; the counts beside them count them all. */
export const JSON_LISTED = 100;

/**
 * The verdict as `gate --json` prints it (README "gate --json"): each violation with the first JSON_LISTED fixtures
 * it names and `fixtureCount`; `failingFixtures` (only fixtures that failed in the run) likewise with `failingCount`.
 */
export function gateJson(promptId: string, version: number, channel: string, verdict: GateVerdict): Record<string, unknown> {
	return {
		ok: verdict.ok,
		prompt: promptId,
		version,
		channel,
		runId: verdict.run?.runId,
		baselineRunId: verdict.baseline?.runId,
		policy: verdict.policy,
		violations: verdict.violations.map((v) => ({ rule: v.rule, message: v.message, fixtures: v.fixtures.slice(0, JSON_LISTED), fixtureCount: v.fixtures.length })),
		checks: verdict.checks,
		failingFixtures: verdict.failingFixtures.slice(0, JSON_LISTED),
		failingCount: verdict.failingFixtures.length,
	};
}

async function gate(promptId: string, opts: GateOptions, cmd: Command): Promise<number> {
	const store = openStore(cmd);
	await requirePrompt(store, promptId);
	if (opts.version === undefined) throw new UsageError(`which version? e.g. "prompt-release gate ${promptId} --version 3"`);
	const version = parseVersion(opts.version, false) as number;
	const channel = parseChannel(opts.channel);
	const verdict = await evaluateGate(store, promptId, version, channel);
	if (opts.json) {
		out(JSON.stringify(gateJson(promptId, version, channel, verdict), null, 2));
	} else {
		out(`gate ${promptId} version ${version} → ${channel}: ${verdict.ok ? 'PASS' : 'REFUSED'}${verdict.run ? ` (run ${verdict.run.runId}${verdict.baseline ? `, baseline ${verdict.baseline.runId}` : ''})` : ''}`);
		for (const v of verdict.violations) out(`  ✗ [${v.rule}] ${v.message}`);
		for (const c of verdict.checks) if (c.status === 'skipped') out(`  – [${c.rule}] skipped (${c.message})`);
		if (verdict.failingFixtures.length) out(`  failing fixtures: ${namedList(verdict.failingFixtures)}`);
	}
	const say = opts.json ? note : out;
	if (opts.junit) {
		await writeFileAtomic(path.resolve(opts.junit), gateJunit(promptId, version, verdict));
		say(`junit: ${shownPath(opts.junit)}`);
	}
	const summaryFile = process.env.GITHUB_STEP_SUMMARY?.trim();
	if (summaryFile) await fs.appendFile(summaryFile, gateMarkdown(promptId, version, channel, verdict), 'utf8');
	return verdict.ok ? EXIT_OK : EXIT_FAILED;
}

export function register(program: Command): void {
	program
		.command('gate')
		.description('evaluate the release gate (evidence + policy) for a version without changing anything; exit 0 pass, 1 refused')
		.argument('<prompt>', 'prompt id')
		.option('--version <n>', 'the version to check (required)')
		.option('--channel <name>', 'the channel it would be released to (its run is the baseline)', 'production')
		.option('--junit <file>', 'write a JUnit XML report: one testcase per rule and per failing fixture')
		.option('--json', 'print the verdict as JSON')
		.addOption(registryOption())
		.action(action(gate));
}
