/**
 * The gate's per-class rules for classification outputs: `minRecall`, `minPrecision`, `minF1`. Each maps a
 * class to its minimum (`{true: 1.0}` for a boolean or enum output) or, for object outputs, a property to
 * such a map (`{priceChange: {true: 1.0}}`). Checked against the confusion matrices of the run's summary.
 */
import { classFields, classLabel, INVALID_CLASS } from './classes';
import type { ClassMetrics, FixtureResult, OutputSchema, OutputValue } from '../types';
import { namedList } from '../listing';

/** `{class: minimum}`, or `{property: {class: minimum}}` for object outputs; minimums between 0 and 1. */
export type ClassThresholds = Record<string, number | Record<string, number>>;

export const CLASS_RULES = ['minRecall', 'minPrecision', 'minF1'] as const;
export type ClassRule = (typeof CLASS_RULES)[number];

const METRIC: Record<ClassRule, 'recall' | 'precision' | 'f1'> = { minRecall: 'recall', minPrecision: 'precision', minF1: 'f1' };

export interface ClassRuleOutcome {
	status: 'pass' | 'fail' | 'skipped';
	message: string;
	fixtures: string[];
}

interface Target {
	field: string;
	label: string;
	min: number;
}

function pct(x: number): string {
	return `${Math.round(x * 10000) / 100}%`;
}

/** Which field and class each threshold names; problems (unknown property or class) are refusals, worded for the policy file. */
function targets(rule: ClassRule, spec: ClassThresholds, classes: Record<string, ClassMetrics>): { list: Target[]; problems: string[] } {
	const list: Target[] = [];
	const problems: string[] = [];
	const fields = Object.keys(classes);
	const scalar = fields.length === 1 && fields[0] === 'value';
	for (const [key, value] of Object.entries(spec)) {
		if (typeof value === 'number') {
			if (!scalar) {
				problems.push(`policy ${rule}.${key}: the output is an object: name the property, e.g. ${rule}: {${fields[0] ?? 'property'}: {${key}: ${value}}} (classification properties: ${fields.join(', ')})`);
				continue;
			}
			if (!classes.value.labels.includes(key)) problems.push(`policy ${rule}.${key}: "${key}" is not a class of the output (classes: ${classes.value.labels.join(', ')})`);
			else list.push({ field: 'value', label: key, min: value });
			continue;
		}
		const metrics = classes[key];
		if (!metrics) {
			problems.push(`policy ${rule}.${key}: "${key}" is not a boolean or enum field of the output (classification fields: ${fields.join(', ')})`);
			continue;
		}
		for (const [label, min] of Object.entries(value)) {
			if (!metrics.labels.includes(label)) problems.push(`policy ${rule}.${key}.${label}: "${label}" is not a class of ${key} (classes: ${metrics.labels.join(', ')})`);
			else list.push({ field: key, label, min });
		}
	}
	return { list, problems };
}

function fieldOf(value: OutputValue | null, field: string): string | undefined {
	if (field === 'value') return classLabel(value);
	return value !== null && typeof value === 'object' ? classLabel((value as Record<string, unknown>)[field]) : undefined;
}

/** A result whose answered class differs from its expected class in one field. */
interface Mismatch {
	fixtureId: string;
	expected: string | undefined;
	answered: string | undefined;
}

/**
 * The fixtures the per-class rules may name, gathered one result at a time: for every classification field,
 * the results whose answered class differs from the expected one (results that match name no culprit), so
 * memory is bounded by the wrong answers, never by the run.
 */
export class ClassCulpritsBuilder {
	private readonly mismatches: Record<string, Mismatch[]> = {};

	/** `fields`: the classification fields (`value` for a boolean or enum output). */
	constructor(private readonly fields: string[]) {}

	add(r: Pick<FixtureResult, 'fixtureId' | 'expected' | 'actual' | 'valid'>): void {
		for (const field of this.fields) {
			const expected = fieldOf(r.expected, field);
			const answered = r.valid ? fieldOf(r.actual, field) : INVALID_CLASS;
			if (expected !== answered) (this.mismatches[field] ??= []).push({ fixtureId: r.fixtureId, expected, answered });
		}
	}

	/** Culprits per field, for `checkClassRule`. */
	result(): ClassCulprits {
		const mismatches = this.mismatches;
		return (field, label, metric) => {
			const out: string[] = [];
			for (const m of mismatches[field] ?? []) {
				const missed = m.expected === label && m.answered !== label;
				const wrong = m.answered === label && m.expected !== label;
				if ((metric !== 'precision' && missed) || (metric !== 'recall' && wrong)) out.push(m.fixtureId);
			}
			return out;
		};
	}
}

/** The fixtures behind a shortfall of one class: missed ones (expected the class, answered otherwise) for recall, wrong ones (answered it, expected otherwise) for precision, both for F1. */
export type ClassCulprits = (field: string, label: string, metric: 'recall' | 'precision' | 'f1') => string[];

/** Culprits of a list of results, for the fields of `classes`. */
function culpritsOf(results: Iterable<FixtureResult>, classes: Record<string, ClassMetrics>): ClassCulprits {
	const builder = new ClassCulpritsBuilder(Object.keys(classes));
	for (const r of results) builder.add(r);
	return builder.result();
}

/**
 * Check one per-class rule. Skipped when the rule is not set or the output has no boolean or enum field;
 * failed when a named class or property does not exist, when a class cannot be measured (no fixture
 * expects it), or when a class falls below its minimum — naming the fixtures it missed or got wrong.
 */
export function checkClassRule(
	rule: ClassRule,
	spec: ClassThresholds | undefined,
	classes: Record<string, ClassMetrics> | undefined,
	results: Iterable<FixtureResult> | ClassCulprits,
): ClassRuleOutcome {
	if (!spec || Object.keys(spec).length === 0) return { status: 'skipped', message: 'not set', fixtures: [] };
	if (!classes || Object.keys(classes).length === 0) return { status: 'skipped', message: 'the output has no boolean or enum field: per-class metrics do not apply', fixtures: [] };
	const metric = METRIC[rule];
	const culprits = typeof results === 'function' ? results : culpritsOf(results, classes);
	const { list, problems } = targets(rule, spec, classes);
	const failures: string[] = [...problems];
	const passes: string[] = [];
	const fixtures = new Set<string>();
	for (const t of list) {
		const stats = classes[t.field].classes[t.label];
		const where = t.field === 'value' ? `class ${t.label}` : `${t.field} = ${t.label}`;
		const value = stats?.[metric] ?? null;
		if (value === null) {
			failures.push(`${metric} of ${where} cannot be measured: no fixture expects it — add fixtures expecting ${t.label}`);
			continue;
		}
		const basis =
			metric === 'recall'
				? `${stats.truePositives} of ${stats.support} fixtures expecting it`
				: metric === 'precision'
					? `${stats.truePositives} of ${stats.predicted} answers of it right`
					: `precision ${pct(stats.precision ?? 0)}, recall ${pct(stats.recall ?? 0)}`;
		if (value < t.min) {
			const named = culprits(t.field, t.label, metric);
			named.forEach((f) => fixtures.add(f));
			const which = metric === 'recall' ? 'missed' : metric === 'precision' ? 'wrongly answered it' : 'missed or wrongly answered';
			failures.push(`${metric} of ${where} is ${pct(value)} (${basis}) — below ${rule} ${pct(t.min)}${named.length ? `; ${which}: ${namedList(named)}` : ''}`);
		} else passes.push(`${metric} of ${where} ${pct(value)} ≥ ${pct(t.min)}`);
	}
	if (failures.length) return { status: 'fail', message: failures.join('; '), fixtures: [...fixtures] };
	return { status: 'pass', message: passes.join('; '), fixtures: [] };
}

/**
 * What is wrong with a per-class rule for a prompt's declared output (a class or property it does not
 * declare, an object output without the property named), worded for the policy file; empty when it fits
 * or when the output has no classification field (the gate then skips the rule).
 */
export function classRuleIssues(rule: ClassRule, spec: ClassThresholds | undefined, output: OutputSchema): string[] {
	const fields = classFields(output);
	if (!spec || !Object.keys(fields).length) return [];
	const shapes: Record<string, ClassMetrics> = Object.fromEntries(Object.entries(fields).map(([f, labels]) => [f, { labels, columns: labels, matrix: {}, classes: {} }]));
	return targets(rule, spec, shapes).problems;
}

/** How a per-class rule reads in a gate report's setting column, e.g. `minRecall value=true ≥ 1`. */
export function classRuleSetting(rule: ClassRule, spec: ClassThresholds | undefined): string {
	if (!spec || Object.keys(spec).length === 0) return `${rule} not set`;
	const parts = Object.entries(spec).flatMap(([k, v]) => (typeof v === 'number' ? [`${k} ≥ ${v}`] : Object.entries(v).map(([c, m]) => `${k}.${c} ≥ ${m}`)));
	return `${rule} ${parts.join(', ')}`;
}
