/** Number formatting shared by the Markdown and HTML renderers. */
import type { MetricDelta } from '../diff';

export function pct(rate: number): string {
	return `${(rate * 100).toFixed(1)}%`;
}

/** A pass-rate change in percentage points, signed: `+12.5 pp`, `−4.0 pp`, `±0.0 pp`. */
export function pp(delta: number | undefined): string {
	if (delta === undefined) return '—';
	const v = delta * 100;
	if (Math.abs(v) < 0.05) return '±0.0 pp';
	return `${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(1)} pp`;
}

export function ms(value: number): string {
	return `${Math.round(value)} ms`;
}

export function usd(value: number): string {
	if (value === 0) return '$0';
	const abs = Math.abs(value);
	const text = abs < 0.01 ? abs.toPrecision(3) : abs.toFixed(4);
	return `${value < 0 ? '−' : ''}$${text}`;
}

export function int(value: number): string {
	return String(Math.round(value));
}

export type MetricUnit = 'ms' | 'tokens' | 'usd';

export function metricValue(value: number, unit: MetricUnit): string {
	return unit === 'ms' ? ms(value) : unit === 'usd' ? usd(value) : int(value);
}

/** `+12 ms (+20.0%)`, `—` without a baseline. */
export function metricChange(m: MetricDelta, unit: MetricUnit): string {
	if (m.delta === undefined) return '—';
	const sign = m.delta > 0 ? '+' : m.delta < 0 ? '−' : '±';
	const abs = metricValue(Math.abs(m.delta), unit).replace(/^−/, '');
	const rel = m.deltaPct !== undefined ? ` (${m.deltaPct > 0 ? '+' : m.deltaPct < 0 ? '−' : '±'}${Math.abs(m.deltaPct).toFixed(1)}%)` : '';
	return `${sign}${abs}${rel}`;
}

/** A compact one-line JSON rendering, shortened when long. */
export function shown(value: unknown, max = 60): string {
	const text = JSON.stringify(value) ?? String(value);
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function oneLine(text: string): string {
	return text.replace(/\s*\r?\n\s*/g, ' ').trim();
}

export const METRICS: Array<{ key: 'latencyP50Ms' | 'latencyP95Ms' | 'inputTokens' | 'outputTokens' | 'costUsd'; label: string; unit: MetricUnit }> = [
	{ key: 'latencyP50Ms', label: 'Latency p50', unit: 'ms' },
	{ key: 'latencyP95Ms', label: 'Latency p95', unit: 'ms' },
	{ key: 'inputTokens', label: 'Input tokens', unit: 'tokens' },
	{ key: 'outputTokens', label: 'Output tokens', unit: 'tokens' },
	{ key: 'costUsd', label: 'Cost', unit: 'usd' },
];

/** A metric's label, with "(per attempt)" on tokens and cost when the bundle divided them by `repeat`. */
export function metricLabel(metric: { key: string; label: string; unit: MetricUnit }, perAttempt: boolean): string {
	return perAttempt && metric.key !== 'latencyP50Ms' && metric.key !== 'latencyP95Ms' ? `${metric.label} (per attempt)` : metric.label;
}
