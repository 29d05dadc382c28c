/** The time window and periods of `prompt-release metrics`: `--since 30d`, `--period week`. */
import { ConfigError } from '../errors';

export type Period = 'day' | 'week' | 'month';

/**
 * `--since`: a duration back from `now` (`30d`, `12w`, `48h`) or a date (`2026-11-01`, or an ISO time).
 * Throws with a message naming the option for anything else.
 */
export function parseSince(text: string, now: Date = new Date()): Date {
	const t = text.trim();
	const m = /^(\d+)\s*([hdw])$/i.exec(t);
	if (m) {
		const n = Number(m[1]);
		const hours = m[2].toLowerCase() === 'h' ? n : m[2].toLowerCase() === 'd' ? n * 24 : n * 24 * 7;
		if (n <= 0) throw new ConfigError(`--since "${text}" is invalid: give a positive duration such as 30d, 12w or 48h, or a date such as 2026-11-01`);
		return new Date(now.getTime() - hours * 3_600_000);
	}
	if (/^\d{4}-\d{2}-\d{2}([T ].*)?$/.test(t)) {
		const d = new Date(t.length === 10 ? `${t}T00:00:00.000Z` : t);
		if (!Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === t.slice(0, 10)) return d;
	}
	throw new ConfigError(`--since "${text}" is invalid: give a duration such as 30d, 12w or 48h, or a date such as 2026-11-01`);
}

/** `--period`: day, week or month. */
export function parsePeriod(text: string): Period {
	if (text === 'day' || text === 'week' || text === 'month') return text;
	throw new ConfigError(`--period "${text}" is invalid: use day, week or month`);
}

/** The period a time falls in (UTC): `2026-11-23`, the Monday of its week, or `2026-11`. */
export function periodKey(at: string, period: Period): string {
	const d = new Date(at);
	if (period === 'month') return d.toISOString().slice(0, 7);
	if (period === 'day') return d.toISOString().slice(0, 10);
	const monday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7)));
	return monday.toISOString().slice(0, 10);
}
