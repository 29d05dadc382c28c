/**
 * Hard-negative coverage: pass rates per fixture tag (`ambiguous`, `adversarial`, `long-context`,
 * `quoted-thread`, …) and the gate's `requireTags` rule — a release needs at least one passing fixture
 * for every required tag.
 */
import type { FixtureResult, SegmentSummary } from '../types';
import { namedList } from '../listing';

function rate(passed: number, total: number): number {
	return total === 0 ? 0 : Math.round((passed / total) * 10_000) / 10_000;
}

/** Count one result under each of its tags (call `finishTagRates` once all are counted). */
export function countTags(groups: Record<string, SegmentSummary>, r: Pick<FixtureResult, 'tags' | 'passed'>): void {
	for (const tag of r.tags ?? []) {
		const g = (groups[tag] ??= { total: 0, passed: 0, failed: 0, passRate: 0 });
		g.total++;
		if (r.passed) g.passed++;
		else g.failed++;
	}
}

/** Fill in the pass rates; undefined when no result had a tag. */
export function finishTagRates(groups: Record<string, SegmentSummary>): Record<string, SegmentSummary> | undefined {
	const names = Object.keys(groups).sort();
	if (!names.length) return undefined;
	return Object.fromEntries(names.map((n) => [n, { ...groups[n], passRate: rate(groups[n].passed, groups[n].total) }]));
}

/** Pass rates per tag of a list of results; undefined when none has tags. */
export function tagRates(results: Iterable<Pick<FixtureResult, 'tags' | 'passed'>>): Record<string, SegmentSummary> | undefined {
	const groups: Record<string, SegmentSummary> = {};
	for (const r of results) countTags(groups, r);
	return finishTagRates(groups);
}

/** What the `requireTags` rule needs of one tag: how many fixtures carry it, how many pass, and which fail while none passes. */
export interface TagCoverage {
	tagged: number;
	passing: number;
	/** The failing fixtures with the tag, in result order; emptied once one passes (the rule then names none). */
	failing: string[];
}

/** Tag coverage gathered one result at a time (every tag seen; memory bounded by tags and failing fixtures). */
export class TagCoverageBuilder {
	private readonly tags = new Map<string, TagCoverage>();

	add(r: Pick<FixtureResult, 'fixtureId' | 'tags' | 'passed'>): void {
		for (const tag of new Set(r.tags ?? [])) {
			let c = this.tags.get(tag);
			if (!c) this.tags.set(tag, (c = { tagged: 0, passing: 0, failing: [] }));
			c.tagged++;
			if (r.passed) {
				c.passing++;
				c.failing.length = 0;
			} else if (c.passing === 0) c.failing.push(r.fixtureId);
		}
	}

	result(): ReadonlyMap<string, TagCoverage> {
		return this.tags;
	}
}

/**
 * The `requireTags` rule over tag coverage (`TagCoverageBuilder`): skipped when not set; refused when a
 * required tag has no fixture at all or no passing fixture, naming the tag (and its failing fixtures).
 */
export function checkTagCoverage(required: string[] | undefined, coverage: ReadonlyMap<string, TagCoverage>): { status: 'pass' | 'fail' | 'skipped'; message: string; fixtures: string[] } {
	if (!required?.length) return { status: 'skipped', message: 'not set', fixtures: [] };
	const problems: string[] = [];
	const fixtures: string[] = [];
	const covered: string[] = [];
	for (const tag of required) {
		const c = coverage.get(tag);
		if (!c?.tagged) problems.push(`no fixture is tagged "${tag}": add one (a fixture file's "tags: [${tag}]", or a "tags" column when importing)`);
		else if (!c.passing) {
			const failing = c.failing;
			fixtures.push(...failing);
			problems.push(`no passing fixture tagged "${tag}" (${c.tagged} tagged, all failing: ${namedList(failing)})`);
		} else covered.push(`${tag} ${c.passing}/${c.tagged}`);
	}
	if (problems.length) return { status: 'fail', message: problems.join('; '), fixtures: [...new Set(fixtures)] };
	return { status: 'pass', message: `every required tag has a passing fixture (${covered.join(', ')})`, fixtures: [] };
}

/**
 * The `requireTags` rule: skipped when not set; refused when a required tag has no fixture at all or no
 * passing fixture, naming the tag (and its failing fixtures).
 */
export function checkRequiredTags(required: string[] | undefined, results: Iterable<Pick<FixtureResult, 'fixtureId' | 'tags' | 'passed'>>): { status: 'pass' | 'fail' | 'skipped'; message: string; fixtures: string[] } {
	const builder = new TagCoverageBuilder();
	if (required?.length) for (const r of results) builder.add(r);
	return checkTagCoverage(required, builder.result());
}

/** Split a tags cell or string as imports write it: comma, semicolon, "|" or spaces between tags. */
export function splitTags(text: string): string[] {
	return text
		.split(/[,;|\s]+/)
		.map((t) => t.trim())
		.filter(Boolean);
}
