/** JUnit XML for CI: one testsuite per prompt, one testcase per fixture (classname = segment). */
import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import type { FixtureResult, RunHeader, RunReport } from '../../lib';

/** Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/U+FFFF). */
const INVALID_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXmlText(text: string): string {
	return text.replace(INVALID_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeXmlAttr(text: string): string {
	return escapeXmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function attrs(values: Record<string, string | number>): string {
	return Object.entries(values)
		.map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`)
		.join('');
}

function seconds(ms: number): string {
	return (Math.max(0, ms) / 1000).toFixed(3);
}

function failureType(r: FixtureResult, regression: boolean): string {
	if (regression) return 'regression';
	if (r.valid) return 'mismatch';
	return /^(provider|input) error:/.test(r.reason ?? '') ? 'error' : 'invalid-output';
}

function testcase(r: FixtureResult, regression: boolean): string {
	const head = `    <testcase${attrs({ name: r.fixtureId, classname: r.segment, time: seconds(r.latencyMs) })}`;
	if (r.passed) return `${head}/>`;
	const message = `${regression ? 'regression: ' : ''}${r.reason ?? 'failed'}`;
	const details = [`expected: ${JSON.stringify(r.expected)}`, `actual: ${JSON.stringify(r.actual)}`, `valid: ${r.valid}`];
	if (r.rawOutput !== null) details.push(`raw output: ${r.rawOutput}`);
	return `${head}>\n      <failure${attrs({ message, type: failureType(r, regression) })}>${escapeXmlText(details.join('\n'))}</failure>\n    </testcase>`;
}

/** The run's JUnit XML as one string (small runs, tests); `writeJunit` streams it to a file. */
export function junitXml(report: RunReport): string {
	const regressions = new Set(report.summary.regressions);
	return [junitHead(report), ...report.results.map((r) => `${testcase(r, regressions.has(r.fixtureId))}\n`), JUNIT_TAIL].join('');
}

/**
 * Write the run's JUnit XML to `file` one testcase at a time, reading results as a stream (a 100,000-fixture
 * run never sits in memory). Written to a temporary file beside it and renamed when complete.
 */
export async function writeJunit(file: string, header: RunHeader, results: AsyncIterable<FixtureResult>): Promise<void> {
	const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
	await fs.mkdir(path.dirname(file), { recursive: true });
	const stream = createWriteStream(tmp, { encoding: 'utf8' });
	const done = new Promise<void>((resolve, reject) => {
		stream.on('error', reject);
		stream.on('finish', resolve);
	});
	done.catch(() => undefined); // awaited below; an early error must not count as unhandled
	try {
		const regressions = new Set(header.summary.regressions);
		const write = async (chunk: string) => void (stream.write(chunk) || (await once(stream, 'drain')));
		await write(junitHead(header));
		for await (const r of results) await write(`${testcase(r, regressions.has(r.fixtureId))}\n`);
		await write(JUNIT_TAIL);
		stream.end();
		await done;
		await fs.rename(tmp, file);
	} catch (error) {
		stream.destroy();
		await fs.rm(tmp, { force: true });
		throw error;
	}
}

const JUNIT_TAIL = '  </testsuite>\n</testsuites>\n';

/** Everything before the first testcase. */
function junitHead(report: RunHeader): string {
	const { summary } = report;
	const time = seconds(Date.parse(report.finishedAt) - Date.parse(report.startedAt));
	const counts = { tests: summary.total, failures: summary.failed, errors: 0, skipped: 0, time };
	const properties = {
		version: String(report.version),
		contentHash: report.contentHash,
		model: `${report.model.provider}:${report.model.name}`,
		runId: report.runId,
		passRate: String(summary.passRate),
		regressions: summary.regressions.join(','),
		...(report.baselineRunId ? { baselineRunId: report.baselineRunId } : {}),
	};
	return [
		'<?xml version="1.0" encoding="UTF-8"?>',
		`<testsuites${attrs({ name: 'prompt-release', ...counts })}>`,
		`  <testsuite${attrs({ name: report.promptId, ...counts, timestamp: report.startedAt })}>`,
		'    <properties>',
		...Object.entries(properties).map(([name, value]) => `      <property${attrs({ name, value })}/>`),
		'    </properties>\n',
	].join('\n');
}

