/**
 * Record Correction's "Review Form" source: the item a review form submitted (fields built by Review Queue
 * "Get Next Case", lib/review/form.ts) names its case (hidden caseId and prompt); the case gives the inputs,
 * the version, the model's answer and the arm, and the submitted fields give the corrected value.
 */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';
import { valueFromSubmission } from '../../lib/review/form';
import type { ReviewCase } from '../../lib/review/types';
import { resolvePrompt } from '../../lib/registry/resolve';
import type { RegistryStore } from '../../lib/registry/store';
import type { OutputValue } from '../../lib/types';
import type { CorrectionTrace } from './correction-trace';

export interface ReviewFormCorrection {
	trace: CorrectionTrace;
	corrected: OutputValue;
	kase: ReviewCase;
}

function text(value: unknown): string {
	return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

const FIX = 'Connect the Form node whose fields come from Review Queue "Get Next Case" (they carry the hidden fields caseId and prompt), or map "Form Item" to that submission.';

const CLOSED_FIX =
	'Nothing was written. Open the review form link again for the next case. To change the fixture anyway, edit it in git, or record a correction with Source "Manual Fields".';

/** Why a closed case takes no answer: who closed it, when, and with what (the fixture's value, or the dismissal's reason). */
async function closedMessage(store: RegistryStore, kase: ReviewCase): Promise<string> {
	const closed = kase.closed;
	const by = closed?.by ? ` by ${closed.by}` : '';
	const at = closed ? ` at ${closed.at}` : '';
	const head = `review case "${kase.id}" of prompt "${kase.promptId}"`;
	if (kase.status === 'dismissed') return `${head} was dismissed${by}${at}${closed?.reason ? ` (${closed.reason})` : ''} while the form was open: not recorded`;
	const fixture = closed?.fixtureId ? await store.readFixture(kase.promptId, closed.fixtureId).catch(() => undefined) : undefined;
	const answer = fixture ? `: fixture "${fixture.id}" expects ${JSON.stringify(fixture.expected)}` : closed?.fixtureId ? `: fixture "${closed.fixtureId}"` : '';
	return `${head} was already answered${by}${at}${answer}; this answer was not recorded`;
}

/**
 * The correction a submitted review form asks for. Throws a NodeOperationError naming the case when the item
 * names no case, the case is unknown, the case was closed meanwhile (answered by someone else or dismissed: its
 * fixture's value or the dismissal's reason is named; nothing is overwritten), or a submitted value does not fit
 * the declared type (which field, what to enter).
 */
export async function correctionFromReviewForm(store: RegistryStore, node: INode, form: IDataObject, itemIndex: number): Promise<ReviewFormCorrection> {
	const caseId = text(form.caseId);
	const promptId = text(form.prompt);
	const missing = [caseId ? undefined : 'caseId', promptId ? undefined : 'prompt'].filter(Boolean);
	if (missing.length) throw new NodeOperationError(node, `the form item has no ${missing.join(' and ')}`, { itemIndex, description: FIX });
	const kase = (await store.listReviews(promptId)).find((c) => c.id === caseId);
	if (!kase) {
		throw new NodeOperationError(node, `no review case "${caseId}" for prompt "${promptId}" in the registry`, {
			itemIndex,
			description: 'The form names a case this registry does not hold (another registry or prompt, or a hand-made form). Open the review form link again for a current case.',
		});
	}
	if (kase.status !== 'pending') throw new NodeOperationError(node, await closedMessage(store, kase), { itemIndex, description: CLOSED_FIX });
	const { spec } = await resolvePrompt(store, promptId, { version: kase.version });
	let corrected: OutputValue;
	try {
		corrected = valueFromSubmission(spec.output, form);
	} catch (error) {
		// A ReviewFormError: which form field does not fit the declared type, and what to enter.
		const message = error instanceof Error ? error.message : String(error);
		throw new NodeOperationError(node, `review case "${caseId}" of prompt "${promptId}": ${message}`, { itemIndex, description: 'Open the form again and enter a value of the declared type.' });
	}
	return {
		kase,
		corrected,
		trace: {
			prompt: promptId,
			version: kase.version,
			variables: kase.inputs,
			modelOutput: kase.modelOutput,
			...(kase.channel ? { channel: kase.channel } : {}),
			...(kase.arm ? { arm: kase.arm } : {}),
			...(kase.canaryId ? { canaryId: kase.canaryId } : {}),
			// An audited answer was served (valid); an invalid one was not.
			...(kase.kind === 'audit' ? { served: { value: kase.modelOutput } } : {}),
		},
	};
}
