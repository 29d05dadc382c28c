/** The time window and periods of `prompt-release metrics`: `--since 30d`, `--period week`. */
import { ConfigError } from '../errors';

export type Period = 'day' | 'week' | 'month';

/** The earliest start of a window: 1970-01-01T00:00:00Z. Nothing the registry records is older. */
export const EARLIEST_SINCE = new Date(0);

/**
 * `--since`: a duration back from `now` (`30d`, `12w`, `48h`) or a date (`2026-11-01`, or an ISO time).
 * The window must start between 1970-01-01 (UTC) and `now`. Throws a ConfigError naming the option and what
 * to pass for anything else: text that is neither, a zero duration, an impossible date, a start in the
 * future, or a start before 1970 (an absurd duration such as `1000000d`).
 */
export function parseSince(text: string, now: Date = new Date()): Date {
	const t = text.trim();
	const m = /^(\d+)\s*([hdw])$/i.exec(t);
	if (m) {
		const n = Number(m[1]);
		const hours = m[2].toLowerCase() === 'h' ? n : m[2].toLowerCase() === 'd' ? n * 24 : n * 24 * 7;
		if (n <= 0) throw new ConfigError(`--since "${text}" is invalid: give a positive duration such as 30d, 12w or 48h, or a date such as 2026-11-01`);
		const start = new Date(now.getTime() - hours * 3_600_000);
		if (!(start.getTime() >= EARLIEST_SINCE.getTime())) {
			throw new ConfigError(`--since "${text}" reaches back before 1970-01-01: give a shorter duration such as 30d, 12w or 48h, or a date from 1970-01-01 on`);
		}
		return start;
	}
	if (/^\d{4}-\d{2}-\d{2}([T ].*)?$/.test(t)) {
		const d = new Date(t.length === 10 ? `${t}T00:00:00.000Z` : t);
		if (!Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === t.slice(0, 10)) {
			if (d.getTime() > now.getTime()) {
				throw new ConfigError(`--since "${text}" is in the future (now is ${now.toISOString()}): give a past date such as ${new Date(now.getTime() - 30 * 86_400_000).toISOString().slice(0, 10)}, or a duration such as 30d`);
			}
			if (d.getTime() < EARLIEST_SINCE.getTime()) throw new ConfigError(`--since "${text}" is before 1970-01-01: give a date from 1970-01-01 on, or a duration such as 30d`);
			return d;
		}
	}
	throw new ConfigError(`--since "${text}" is invalid: give a duration such as 30d, 12w or 48h, or a date such as 2026-11-01`);
}

/**
 * Check a metrics window: both ends valid times, `since` not before 1970-01-01 and not after `until`.
 * Throws a ConfigError saying which end is wrong (for callers that build the window without `parseSince`).
 */
export function checkWindow(since: Date, until: Date): void {
	if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime())) throw new ConfigError('the metrics window needs valid times for since and until');
	if (since.getTime() < EARLIEST_SINCE.getTime()) throw new ConfigError(`the metrics window starts ${since.toISOString()}, before 1970-01-01: start it later`);
	if (since.getTime() > until.getTime()) throw new ConfigError(`the metrics window starts ${since.toISOString()}, after it ends (${until.toISOString()}): give a since that is not after until`);
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
