/**
 * Agreement of consensus prompts over a run: the share of fixtures whose voters met the rule, overall and
 * per segment, and the gate's `minAgreement` rule. Built one result at a time.
 */
import type { AgreementSummary, FixtureResult } from '../types';
import { namedList } from '../listing';

function rate(n: number, total: number): number {
	return total === 0 ? 0 : Math.round((n / total) * 10_000) / 10_000;
}

/** The per-fixture agreement as shown in reports: `2/3`. */
export function agreementText(c: FixtureResult['consensus']): string {
	return c ? `${c.agreed}/${c.voters}${c.reached ? '' : ' (no consensus)'}` : '';
}

/** Counts results of consensus prompts (results without `consensus` are not counted). */
export class AgreementBuilder {
	private total = 0;
	private agreed = 0;
	private shareSum = 0;
	private readonly segments: Record<string, { total: number; agreed: number; rate: number }> = {};

	add(r: Pick<FixtureResult, 'consensus' | 'segment'>): void {
		const c = r.consensus;
		if (!c) return;
		this.total++;
		this.shareSum += c.voters ? c.agreed / c.voters : 0;
		const s = (this.segments[r.segment] ??= { total: 0, agreed: 0, rate: 0 });
		s.total++;
		if (c.reached) {
			this.agreed++;
			s.agreed++;
		}
	}

	/** Undefined when no result was voted on. */
	result(): AgreementSummary | undefined {
		if (!this.total) return undefined;
		const segments = Object.fromEntries(
			Object.keys(this.segments)
				.sort()
				.map((name) => [name, { ...this.segments[name], rate: rate(this.segments[name].agreed, this.segments[name].total) }]),
		);
		return { total: this.total, agreed: this.agreed, rate: rate(this.agreed, this.total), meanVoteShare: rate(this.shareSum, this.total), segments };
	}
}

/** The agreement summary of a list of results. */
export function agreementOf(results: Iterable<Pick<FixtureResult, 'consensus' | 'segment'>>): AgreementSummary | undefined {
	const b = new AgreementBuilder();
	for (const r of results) b.add(r);
	return b.result();
}

function pct(x: number): string {
	return `${Math.round(x * 10000) / 100}%`;
}

/** What `minAgreement` needs, gathered one result at a time: the agreement summary and the fixtures without consensus. */
export class AgreementFactsBuilder {
	private readonly agreement = new AgreementBuilder();
	private readonly without: string[] = [];

	add(r: Pick<FixtureResult, 'fixtureId' | 'consensus' | 'segment'>): void {
		this.agreement.add(r);
		if (r.consensus && !r.consensus.reached) this.without.push(r.fixtureId);
	}

	result(): { summary: AgreementSummary | undefined; without: string[] } {
		return { summary: this.agreement.result(), without: this.without };
	}
}

/**
 * `minAgreement` over gathered facts (`AgreementFactsBuilder`): skipped when not set or when the run was not
 * voted on (the prompt declares no consensus); refused, naming the fixtures without consensus, when the share
 * of fixtures that reached it is lower.
 */
export function checkAgreementFacts(min: number | undefined, facts: { summary: AgreementSummary | undefined; without: string[] }): { status: 'pass' | 'fail' | 'skipped'; message: string; fixtures: string[] } {
	if (min === undefined) return { status: 'skipped', message: 'not set', fixtures: [] };
	const { summary, without } = facts;
	if (!summary) return { status: 'skipped', message: 'the run was not voted on: the prompt declares no consensus', fixtures: [] };
	const what = `agreement ${pct(summary.rate)} (${summary.agreed} of ${summary.total} fixtures reached consensus)`;
	if (summary.rate < min) {
		return { status: 'fail', message: `${what} — below minAgreement ${pct(min)}; no consensus: ${namedList(without)}`, fixtures: without };
	}
	return { status: 'pass', message: `${what} ≥ ${pct(min)}`, fixtures: [] };
}

/**
 * `minAgreement`: skipped when not set or when the run was not voted on (the prompt declares no consensus);
 * refused, naming the fixtures without consensus, when the share of fixtures that reached it is lower.
 */
export function checkMinAgreement(min: number | undefined, results: Iterable<Pick<FixtureResult, 'fixtureId' | 'consensus' | 'segment'>>): { status: 'pass' | 'fail' | 'skipped'; message: string; fixtures: string[] } {
	const builder = new AgreementFactsBuilder();
	if (min !== undefined) for (const r of results) builder.add(r);
	return checkAgreementFacts(min, builder.result());
}
