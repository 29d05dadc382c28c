/**
 * Formats of the accuracy features (documented in README.md): `consensus:` in prompt.yaml and the per-class
 * minimums of policy.yaml (`minRecall`, `minPrecision`, `minF1`).
 */
import { z } from 'zod';

/** A share between 0 and 1, as per-class minimums are written. */
const shareSchema = z.number({ invalid_type_error: 'must be a number between 0 and 1, e.g. 0.95' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1 (a share, not a percentage)');

/** `minRecall` / `minPrecision` / `minF1`: `{class: min}` for boolean/enum outputs, `{property: {class: min}}` for objects. */
export const classThresholdsSchema = z.record(
	z.union([shareSchema, z.record(shareSchema)], {
		errorMap: () => ({ message: 'must be a number between 0 and 1 for a class (e.g. {true: 1.0}), or, for an object output, a mapping of classes for that property (e.g. {priceChange: {true: 1.0}})' }),
	}),
);

/** `consensus:` in prompt.yaml — N samples of the prompt's model, or a list of models (each checked by `modelSchema`), and the voting rule. */
export function consensusSchema(modelSchema: z.ZodTypeAny) {
	return z
		.object({
			samples: z.number().int().min(2, 'must be at least 2: one answer needs no consensus').max(10, 'must be at most 10').optional(),
			models: z.array(modelSchema).min(2, 'must list at least 2 models').max(10, 'must list at most 10 models').optional(),
			rule: z
				.union([z.literal('all'), z.object({ majority: z.number().int().min(1) }).strict()], {
					errorMap: () => ({ message: 'must be all, or {majority: k} (k equal answers needed)' }),
				})
				.default('all'),
		})
		.strict()
		.superRefine((c, ctx) => {
			if ((c.samples === undefined) === (c.models === undefined)) {
				ctx.addIssue({ code: z.ZodIssueCode.custom, message: "give samples (N answers of the prompt's model) or models (one answer each), not both and not neither" });
				return;
			}
			const voters = c.samples ?? c.models!.length;
			if (typeof c.rule === 'object') {
				const k = c.rule.majority;
				if (k <= voters / 2 || k > voters) {
					ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rule', 'majority'], message: `must be more than half of the ${voters} voters and at most ${voters} (so two different answers can never both win)` });
				}
			}
		});
}
