/** Types of the accuracy features: consensus voting, per-class metrics, agreement (re-exported by lib/types.ts). */
import type { ModelSpec, OutputValue } from '../types';

/**
 * Several answers per item that must agree (`consensus` in prompt.yaml): N samples of the prompt's model,
 * or one answer from each listed model. `all` needs every answer to agree; `{majority: k}` needs k equal
 * answers. An invalid answer is a vote for no value. Without agreement the item is invalid ("no consensus").
 */
export interface ConsensusSpec {
	samples?: number;
	models?: ModelSpec[];
	rule: 'all' | { majority: number };
}

/** How the votes of one item went (CallMeta.consensus). */
export interface ConsensusOutcome {
	/** `all` or `majority 2`. */
	rule: string;
	voters: number;
	/** The size of the largest group of equal valid answers. */
	agreed: number;
	/** True when the rule was met (the value is valid). */
	reached: boolean;
	/** Every answer in voter order: its model (`openai:gpt-4o-mini`, `sample 2 of …` for samples), its value or why it was invalid. */
	answers: Array<{ voter: string; value?: OutputValue; invalid?: string }>;
}

/** Precision, recall and F1 of one class (null when it cannot be measured: no fixture expects it and nothing answered it). */
export interface ClassStats {
	/** Fixtures expecting this class. */
	support: number;
	/** Answers of this class. */
	predicted: number;
	truePositives: number;
	precision: number | null;
	recall: number | null;
	f1: number | null;
}

/** The confusion matrix of one classification field (boolean or enum): rows expected, columns answered. */
export interface ClassMetrics {
	/** The classes: declared ones in schema order (`true`, `false`, enum values, `null` when nullable). */
	labels: string[];
	/** The answered columns: `labels`, plus `invalid` when some answers never became a value. */
	columns: string[];
	/** matrix[expected][answered] = number of results. */
	matrix: Record<string, Record<string, number>>;
	classes: Record<string, ClassStats>;
}

/** How often the voters of a consensus prompt agreed. */
export interface AgreementSummary {
	/** Fixtures answered with consensus voting. */
	total: number;
	/** Of those, the ones whose answers met the rule. */
	agreed: number;
	rate: number;
	/** Mean share of voters in the largest agreeing group, per fixture (1 = unanimous every time). */
	meanVoteShare: number;
	segments: Record<string, { total: number; agreed: number; rate: number }>;
}
