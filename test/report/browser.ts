/**
 * Headless Chromium for the HTML tests: run it on a file, and measure a page's layout at a window width.
 * Tests that need it are skipped when /usr/bin/chromium is absent, unless PROMPT_RELEASE_REQUIRE_BROWSER=1
 * (scripts/test.sh installs Debian's chromium and sets it, so CI never skips the browser checks).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const browserRequired = process.env.PROMPT_RELEASE_REQUIRE_BROWSER === '1';
/** Whether the browser tests run here. */
export const browserTests = haveChromium || browserRequired;
if (!browserTests) console.warn(`SKIPPED: the browser test needs ${CHROMIUM}, which is absent`);

/** Run headless Chromium with `args` (offline: no network features) and a fresh profile in `userDataDir`. */
export function chromium(args: string[], userDataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(
			CHROMIUM,
			['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${userDataDir}`, ...args],
			{ stdio: ['ignore', 'pipe', 'pipe'] },
		);
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
		child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

/** Where a table's header row ends and whether the element around it scrolls sideways (CSS px). */
export interface TableLayout {
	/** The text of the table's last header cell. */
	lastHeader: string;
	/** Right edge of that cell. */
	lastHeaderRight: number;
	/** Right edge of the table's parent element, and its computed `overflow-x`. */
	parentRight: number;
	parentOverflowX: string;
}

/** The layout of a page at a window width: the viewport width, the page's scroll width, and every table. */
export interface PageLayout {
	viewportWidth: number;
	pageScrollWidth: number;
	tables: TableLayout[];
}

// Runs in the page (a copy with this script added; the pages themselves have none) and writes the numbers into the DOM.
const MEASURE = `<script>(() => {
	const tables = [...document.querySelectorAll('table')].map((t) => {
		const cells = t.rows[0].cells;
		const last = cells[cells.length - 1];
		return { lastHeader: last.textContent, lastHeaderRight: last.getBoundingClientRect().right, parentRight: t.parentElement.getBoundingClientRect().right, parentOverflowX: getComputedStyle(t.parentElement).overflowX };
	});
	const out = document.createElement('pre');
	out.id = 'layout-measured';
	out.textContent = JSON.stringify({ viewportWidth: document.documentElement.clientWidth, pageScrollWidth: document.documentElement.scrollWidth, tables });
	document.body.appendChild(out);
})();</script>`;

/** Lay `html` out in a `width` × 900 window and measure it (the file is written to `dir`). */
export async function measureLayout(html: string, width: number, dir: string): Promise<PageLayout> {
	const file = path.join(dir, `layout-${width}.html`);
	await fs.writeFile(file, html.replace('</body>', `${MEASURE}</body>`));
	const { stdout } = await chromium([`--window-size=${width},900`, '--dump-dom', `file://${file}`], path.join(dir, `profile-${width}`));
	const m = /<pre id="layout-measured">(.*?)<\/pre>/s.exec(stdout);
	if (!m) throw new Error(`chromium printed no layout for ${file}`);
	return JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as PageLayout;
}
