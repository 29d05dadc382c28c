/**
 * Per-class metrics in the evaluation reports: a precision/recall/F1 table and the confusion matrix per
 * classification field, as Markdown rows and as HTML with a self-contained SVG matrix chart.
 */
import { rateText } from '../accuracy/text';
import type { ClassMetrics } from '../types';
import { pp } from './format';

function esc(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function mdCell(text: string): string {
	return esc(text).replace(/\|/g, '\\|');
}

function fieldTitle(field: string): string {
	return field === 'value' ? 'the answer' : field;
}

function delta(now: number | null, before: number | null | undefined): string {
	return now === null || before === null || before === undefined ? '—' : pp(Math.round((now - before) * 10_000) / 10_000);
}

/** Markdown: per field, the class table (with recall against the baseline when there is one) and the confusion matrix. */
export function classesMarkdown(classes: Record<string, ClassMetrics> | undefined, baseline?: Record<string, ClassMetrics>): string[] {
	const lines: string[] = [];
	for (const [field, m] of Object.entries(classes ?? {})) {
		const b = baseline?.[field];
		lines.push(`#### Per-class metrics: ${fieldTitle(field)}`, '');
		const head = ['Class', 'Precision', 'Recall', 'F1', 'Support', ...(b ? ['Recall Δ', 'F1 Δ'] : [])];
		lines.push(`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i ? '---:' : '---')).join(' | ')} |`);
		for (const label of m.labels) {
			const c = m.classes[label];
			const before = b?.classes[label];
			lines.push(`| \`${mdCell(label)}\` | ${rateText(c.precision)} | ${rateText(c.recall)} | ${rateText(c.f1)} | ${c.support} |${b ? ` ${delta(c.recall, before?.recall)} | ${delta(c.f1, before?.f1)} |` : ''}`);
		}
		lines.push('', `Confusion matrix (rows expected, columns answered):`, '');
		lines.push(`| Expected ↓ · answered → | ${m.columns.map((c) => `\`${mdCell(c)}\``).join(' | ')} |`, `| --- | ${m.columns.map(() => '---:').join(' | ')} |`);
		for (const label of m.labels) {
			lines.push(`| \`${mdCell(label)}\` | ${m.columns.map((c) => {
				const n = m.matrix[label]?.[c] ?? 0;
				return c === label && n ? `**${n}**` : String(n);
			}).join(' | ')} |`);
		}
		lines.push('');
	}
	return lines;
}

/**
 * The confusion matrix as an SVG grid: rows expected, columns answered; each cell shaded by its share of
 * its row (green on the diagonal — right answers — red off it), with the count written in.
 */
export function matrixChart(field: string, m: ClassMetrics): string {
	const cell = 54;
	const labelW = Math.min(140, 16 + 7 * Math.max(4, ...m.labels.map((l) => l.length)));
	const top = 44;
	const width = labelW + m.columns.length * cell + 10;
	const height = top + m.labels.length * cell + 26;
	const clip = (t: string): string => (t.length > 12 ? `${t.slice(0, 11)}…` : t);
	const parts: string[] = [`<text x="${labelW + (m.columns.length * cell) / 2}" y="12" text-anchor="middle" font-weight="600">answered →</text>`];
	m.columns.forEach((c, j) => parts.push(`<text x="${labelW + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${esc(clip(c))}</text>`));
	m.labels.forEach((label, i) => {
		const y = top + i * cell;
		const row = m.matrix[label] ?? {};
		const total = Object.values(row).reduce((a, n) => a + n, 0);
		parts.push(`<text x="${labelW - 6}" y="${y + cell / 2 + 4}" text-anchor="end">${esc(clip(label))}</text>`);
		m.columns.forEach((c, j) => {
			const n = row[c] ?? 0;
			const share = total ? n / total : 0;
			const hue = c === label ? '26,127,55' : '207,34,46';
			const fill = n ? `rgba(${hue},${(0.15 + 0.75 * share).toFixed(2)})` : '#f6f8fa';
			const x = labelW + j * cell;
			parts.push(`<rect x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="${fill}" stroke="#d0d7de"><title>expected ${esc(label)}, answered ${esc(c)}: ${n}</title></rect>`);
			parts.push(`<text x="${x + cell / 2 - 1}" y="${y + cell / 2 + 4}" text-anchor="middle"${share > 0.6 ? ' style="fill:#fff"' : ''}>${n}</text>`);
		});
	});
	parts.push(`<text x="8" y="${height - 8}">↑ expected · ${esc(fieldTitle(field))}</text>`);
	return `<svg role="img" aria-label="Confusion matrix of ${esc(fieldTitle(field))}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/** HTML: per field, the matrix chart beside the class table (with deltas against the baseline when there is one). */
export function classesHtml(classes: Record<string, ClassMetrics> | undefined, baseline?: Record<string, ClassMetrics>): string {
	const blocks: string[] = [];
	for (const [field, m] of Object.entries(classes ?? {})) {
		const b = baseline?.[field];
		const rows = m.labels
			.map((label) => {
				const c = m.classes[label];
				const before = b?.classes[label];
				return `<tr><td><code>${esc(label)}</code></td><td class="n">${rateText(c.precision)}</td><td class="n">${rateText(c.recall)}</td><td class="n">${rateText(c.f1)}</td><td class="n">${c.support}</td>${b ? `<td class="n">${delta(c.recall, before?.recall)}</td><td class="n">${delta(c.f1, before?.f1)}</td>` : ''}</tr>`;
			})
			.join('');
		const head = `<tr><th>Class</th><th class="n">Precision</th><th class="n">Recall</th><th class="n">F1</th><th class="n">Support</th>${b ? '<th class="n">Recall Δ</th><th class="n">F1 Δ</th>' : ''}</tr>`;
		blocks.push(`<h3>${esc(fieldTitle(field))}</h3><div class="charts"><div class="chart">${matrixChart(field, m)}</div><div><table>${head}${rows}</table></div></div>`);
	}
	return blocks.length ? `<h2>Per-class metrics</h2>${blocks.join('')}` : '';
}
