/**
 * What the n8n Form node (version 2.4+, JSON-defined fields) puts in its output item when a browser submits
 * the page: modelled on n8n-nodes-base Form/utils addFormResponseDataToReturnItem and the form page's script
 * (n8n 2.41). The browser posts every field ("" for one left empty; a checkbox as the JSON list of checked
 * labels); the node keys each value by fieldName, runs number fields through Number() (so "" becomes 0),
 * trims text fields, and parses checkbox lists.
 */
import type { FormFieldJson } from '../../lib/review/form';

/** `entered`: what the analyst typed or chose, by fieldName (checkboxes: the checked option labels). */
export function submitForm(fields: FormFieldJson[], entered: Record<string, string | string[]>): Record<string, unknown> {
	const item: Record<string, unknown> = {};
	for (const field of fields) {
		const typed = entered[field.fieldName];
		let posted: string;
		if (field.fieldType === 'hiddenField') posted = field.fieldValue ?? '';
		else if (field.fieldType === 'checkbox') posted = JSON.stringify(Array.isArray(typed) ? typed : typed ? [typed] : []);
		else posted = Array.isArray(typed) ? typed.join(',') : (typed ?? '');
		let value: unknown = posted;
		if (field.fieldType === 'number') value = Number(posted);
		if (field.fieldType === 'text') value = posted.trim();
		if (field.fieldType === 'checkbox') value = JSON.parse(posted);
		item[field.fieldName] = value;
	}
	item.submittedAt = '2026-03-01T10:00:00.000+00:00';
	item.formMode = 'production';
	return item;
}
