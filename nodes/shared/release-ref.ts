/** Which text of a prompt a node calls: the Release / Channel / Version parameters, or a release text. */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import { parseRef, type PromptRef } from '../../lib/registry/resolve';

/** Run Prompt Release: `release` = channel | version | draft, with `channel` / `version`. */
export function readReleaseRef(ctx: IExecuteFunctions, itemIndex: number): PromptRef {
	const release = ctx.getNodeParameter('release', itemIndex, 'channel') as string;
	if (release === 'draft') return { version: 'draft' };
	if (release === 'version') {
		const raw = ctx.getNodeParameter('version', itemIndex, 1) as unknown;
		const version = typeof raw === 'string' ? Number(raw.trim().replace(/^v/i, '')) : Number(raw);
		if (!Number.isInteger(version) || version < 1) {
			throw new NodeOperationError(ctx.getNode(), `Version must be a version number (1, 2, …), got ${JSON.stringify(raw)}`, { itemIndex });
		}
		return { version };
	}
	const channel = String(ctx.getNodeParameter('channel', itemIndex, 'production') ?? '').trim();
	return parseReleaseText(ctx, channel, itemIndex, 'Channel');
}

/** A release given as text: a channel name, a version number (`3` or `v3`) or `draft`. Empty → production. */
export function parseReleaseText(ctx: IExecuteFunctions, text: string, itemIndex: number, parameter: string): PromptRef {
	try {
		return parseRef(text.trim());
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `${parameter}: ${(error as Error).message}`, {
			itemIndex,
			description: 'Enter a channel name (e.g. production), a version number (e.g. 3) or "draft".',
		});
	}
}

export function describeRef(ref: PromptRef): string {
	if (ref.version === 'draft') return 'the draft';
	if (typeof ref.version === 'number') return `version ${ref.version}`;
	return `channel "${ref.channel ?? 'production'}"`;
}
