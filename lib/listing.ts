/**
 * Lists of fixture ids in messages and printed lines, capped: a gate refusal or a drift report over 100,000
 * fixtures names the first few and says how many more, so every line stays readable (and a log stays a log).
 */

/** How many items a message or a printed line names before "and N more". */
export const NAMED_UP_TO = 20;

/**
 * The first `cap` items (default NAMED_UP_TO) joined with `separator` (default ", "), then " and N more" when
 * there are more. `total`: how many there are when `items` is already a shortened list (default its length).
 */
export function namedList(items: readonly string[], options: { cap?: number; total?: number; separator?: string } = {}): string {
	const cap = options.cap ?? NAMED_UP_TO;
	const total = Math.max(options.total ?? items.length, items.length);
	const shown = items.slice(0, cap);
	const more = total - shown.length;
	return `${shown.join(options.separator ?? ', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

