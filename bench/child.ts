/**
 * Child processes for the side-by-side benchmarks: wall time, peak RSS and a hard time limit.
 *
 * Peak RSS is read from /proc/<pid>/status (VmHWM, the kernel's high-water mark of the process, the same
 * figure as getrusage's maxRSS) every 100 ms while the child runs, so it is known even when the child is
 * killed at its time limit. The child runs in its own process group; a timeout kills the whole group.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ChildRun {
	/** Exit code (null when killed). */
	exit: number | null;
	/** Killed at `timeoutMs`. */
	timedOut: boolean;
	/** From spawn to exit, ms. */
	wallMs: number;
	/** Highest VmHWM seen, MB (0 when /proc is not readable: not Linux). */
	peakRssMb: number;
	stdout: string;
	stderr: string;
}

export interface ChildOptions {
	env?: NodeJS.ProcessEnv;
	cwd?: string;
	/** Kill the process group after this long (default 10 minutes). */
	timeoutMs?: number;
	/** Echo the child's stderr to ours (progress of long installs). */
	echoStderr?: boolean;
}

/** The kernel's peak resident set size of a process in kB (VmHWM), or 0 when unknown. */
export function peakRssKb(pid: number): number {
	try {
		const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return m ? Number(m[1]) : 0;
	} catch {
		return 0;
	}
}

/** Runs `command args` to completion (or its time limit), measuring wall time and peak RSS. */
export async function runChild(command: string, args: string[], opts: ChildOptions = {}): Promise<ChildRun> {
	const started = performance.now();
	const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
	child.stderr.setEncoding('utf8').on('data', (d: string) => {
		stderr += d;
		if (opts.echoStderr) process.stderr.write(d);
	});
	let peakKb = 0;
	const sample = () => {
		if (child.pid !== undefined) peakKb = Math.max(peakKb, peakRssKb(child.pid));
	};
	const poll = setInterval(sample, 100);
	let timedOut = false;
	const kill = setTimeout(() => {
		timedOut = true;
		killGroup(child.pid);
	}, opts.timeoutMs ?? 600_000);
	const exit = await new Promise<number | null>((resolve) => {
		child.on('error', (error) => {
			stderr += String(error);
			resolve(null);
		});
		child.on('exit', (code) => {
			sample();
			resolve(code);
		});
	});
	clearInterval(poll);
	clearTimeout(kill);
	killGroup(child.pid); // leftovers of the group (workers a tool may have started)
	return { exit, timedOut, wallMs: Math.round(performance.now() - started), peakRssMb: Math.round(peakKb / 1024), stdout, stderr };
}

function killGroup(pid: number | undefined): void {
	if (pid === undefined) return;
	try {
		process.kill(-pid, 'SIGKILL');
	} catch {
		/* already gone */
	}
}
