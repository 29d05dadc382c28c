/**
 * Headless Chromium (Debian's /usr/bin/chromium) for checks of what a person sees: the DOM after the page
 * ran (`--dump-dom`) and screenshots, plus a PNG decoder to compare screenshots pixel by pixel.
 *
 * Chromium runs offline: every host name but 127.0.0.1 resolves to nothing, so pages that link web fonts
 * (n8n's form pages link Google Fonts) render with the local fallback font, the same way every time.
 * CI sets PROMPT_RELEASE_REQUIRE_BROWSER=1 (scripts/test.sh installs chromium) so browser checks never skip there.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether browser checks run: chromium is there, or CI requires them (then a missing browser fails them). */
export const browserChecks = existsSync(CHROMIUM) || process.env.PROMPT_RELEASE_REQUIRE_BROWSER === '1';

/** Runs headless chromium with a throwaway profile; resolves with its output (rejects after `timeoutMs`, default 60 s). */
export async function chromium(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
	const profile = mkdtempSync(path.join(os.tmpdir(), 'prompt-release-chromium-'));
	try {
		return await new Promise((resolve, reject) => {
			const child = spawn(
				CHROMIUM,
				[
					'--headless',
					'--no-sandbox',
					'--disable-gpu',
					'--disable-quic',
					'--no-first-run',
					'--disable-background-networking',
					'--disable-component-update',
					'--disable-sync',
					'--disable-dev-shm-usage',
					'--hide-scrollbars',
					'--force-device-scale-factor=1',
					'--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
					`--user-data-dir=${profile}`,
					...args,
				],
				{ stdio: ['ignore', 'pipe', 'pipe'], detached: true },
			);
			let stdout = '';
			let stderr = '';
			child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
			child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
			const timer = setTimeout(() => {
				try {
					process.kill(-child.pid!, 'SIGKILL');
				} catch {
					/* gone */
				}
				reject(new Error(`chromium ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr.slice(-2000)}`));
			}, timeoutMs);
			child.on('error', reject);
			child.on('close', (code) => {
				clearTimeout(timer);
				resolve({ code, stdout, stderr });
			});
		});
	} finally {
		rmSync(profile, { recursive: true, force: true });
	}
}

/** The DOM of `url` after its scripts ran, serialized (`--dump-dom`). */
export async function dumpDom(url: string): Promise<string> {
	const r = await chromium(['--dump-dom', url]);
	if (!r.stdout.includes('<html')) throw new Error(`chromium --dump-dom ${url} printed no document (exit ${r.code})\n${r.stderr.slice(-2000)}`);
	return r.stdout;
}

/** A screenshot of `url` at `width`×`height` CSS pixels (scale 1), written to `file` as PNG. */
export async function screenshot(url: string, file: string, width = 900, height = 1400): Promise<Buffer> {
	const r = await chromium([`--screenshot=${file}`, `--window-size=${width},${height}`, url]);
	if (!existsSync(file)) throw new Error(`chromium wrote no screenshot of ${url} (exit ${r.code})\n${r.stderr.slice(-2000)}`);
	return readFileSync(file);
}

/** A decoded PNG: `channels` bytes per pixel (3 RGB or 4 RGBA), rows top to bottom. */
export interface Pixels {
	width: number;
	height: number;
	channels: number;
	data: Buffer;
}

/**
 * Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes). Throws on anything else,
 * naming what it found.
 */
export function decodePng(png: Buffer): Pixels {
	if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG file');
	let width = 0;
	let height = 0;
	let channels = 0;
	const idat: Buffer[] = [];
	for (let at = 8; at < png.length; ) {
		const length = png.readUInt32BE(at);
		const type = png.subarray(at + 4, at + 8).toString('ascii');
		const body = png.subarray(at + 8, at + 8 + length);
		if (type === 'IHDR') {
			width = body.readUInt32BE(0);
			height = body.readUInt32BE(4);
			const [depth, color, , , interlace] = body.subarray(8, 13);
			channels = color === 6 ? 4 : color === 2 ? 3 : 0;
			if (depth !== 8 || !channels || interlace !== 0) throw new Error(`unsupported PNG: bit depth ${depth}, color type ${color}, interlace ${interlace}`);
		} else if (type === 'IDAT') idat.push(body);
		else if (type === 'IEND') break;
		at += 12 + length;
	}
	const raw = inflateSync(Buffer.concat(idat));
	const stride = width * channels;
	const data = Buffer.alloc(stride * height);
	for (let y = 0; y < height; y++) {
		const filter = raw[y * (stride + 1)];
		const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
		for (let x = 0; x < stride; x++) {
			const a = x >= channels ? data[y * stride + x - channels] : 0;
			const b = y > 0 ? data[(y - 1) * stride + x] : 0;
			const c = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels] : 0;
			let predictor = 0;
			if (filter === 1) predictor = a;
			else if (filter === 2) predictor = b;
			else if (filter === 3) predictor = (a + b) >> 1;
			else if (filter === 4) {
				const p = a + b - c;
				const pa = Math.abs(p - a);
				const pb = Math.abs(p - b);
				const pc = Math.abs(p - c);
				predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
			} else if (filter !== 0) throw new Error(`bad PNG filter ${filter} on row ${y}`);
			data[y * stride + x] = (line[x] + predictor) & 0xff;
		}
	}
	return { width, height, channels, data };
}

/** How many pixels differ between two screenshots of the same size (throws when the sizes differ). */
export function differingPixels(a: Pixels, b: Pixels): number {
	if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
		throw new Error(`screenshots differ in size: ${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels}`);
	}
	let count = 0;
	for (let i = 0; i < a.data.length; i += a.channels) {
		for (let k = 0; k < a.channels; k++) {
			if (a.data[i + k] !== b.data[i + k]) {
				count++;
				break;
			}
		}
	}
	return count;
}
