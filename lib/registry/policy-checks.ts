/**
 * `validate`'s check of the per-class gate rules (`minRecall`, `minPrecision`, `minF1`) against the prompts
 * they apply to. A prompt's own policy overrides the registry-wide one rule by rule (lib/policy.ts
 * `loadPolicy`), so each rule is checked where it comes from: the prompt's policy when it sets the rule,
 * else the registry-wide policy — against every prompt that inherits it.
 */
import { CLASS_RULES, classRuleIssues } from '../accuracy/class-rules';
import { ConfigError } from '../errors';
import type { PolicyFile } from './store';
import type { PromptSpec } from '../types';

/** Where the two policies of a prompt live, as messages name them (a file path, or a store row). */
export interface PolicyPlaces {
	/** The prompt's own policy, e.g. `registry/price-change/policy.yaml`. */
	own: string;
	/** The registry-wide policy, e.g. `registry/policy.yaml`. */
	global: string;
}

/**
 * The class rules in force for `spec` that name a class or property its draft's output does not declare,
 * one ConfigError per rule, located at the file the rule comes from with the rule as the field. A
 * registry-wide rule's error names the prompt it fails for and how to give that prompt its own rule.
 * Empty when every rule fits, and for outputs without a boolean or enum field (the gate skips the rules).
 */
export function classRuleErrors(spec: PromptSpec, own: PolicyFile, global: PolicyFile, places: PolicyPlaces): ConfigError[] {
	const errors: ConfigError[] = [];
	for (const rule of CLASS_RULES) {
		if (own[rule] !== undefined) {
			const issues = classRuleIssues(rule, own[rule], spec.output);
			if (issues.length) errors.push(new ConfigError(issues.join('; ').replace(/^policy /, ''), { file: places.own, field: rule }));
			continue;
		}
		const issues = classRuleIssues(rule, global[rule], spec.output);
		if (issues.length) {
			errors.push(
				new ConfigError(
					`applies to prompt "${spec.id}", which does not fit it: ${issues.join('; ').replace(/^policy /, '')}. Name classes every prompt under this policy declares, or set ${rule} in ${places.own} to give "${spec.id}" its own`,
					{ file: places.global, field: rule },
				),
			);
		}
	}
	return errors;
}
