/**
 * What `npm pack` ships is what users install: nothing in the tarball that cannot run from it
 * (no dist/bench, which needs examples/ from the repo), every node and credential n8n is told about
 * in package.json present, and every require() in the shipped code resolvable from the tarball plus
 * its declared dependencies (n8n-workflow comes from n8n, Node built-ins from Node).
 */
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
	main: string;
	bin: Record<string, string>;
	dependencies: Record<string, string>;
	peerDependencies: Record<string, string>;
	n8n: { nodes: string[]; credentials: string[] };
};

let tmp: string;
let files: string[];

beforeAll(() => {
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompt-release-tarball-'));
	const out = execFileSync('npm', ['pack', '--pack-destination', tmp, '--loglevel=error'], { cwd: ROOT, encoding: 'utf8' });
	const tgz = path.join(tmp, out.trim().split('\n').at(-1)!);
	fs.mkdirSync(path.join(tmp, 'pkg'));
	execFileSync('tar', ['-xzf', tgz, '-C', path.join(tmp, 'pkg'), '--strip-components=1']);
	files = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' })
		.split('\n')
		.filter(Boolean)
		.map((f) => f.replace(/^package\//, ''));
}, 120_000);

afterAll(() => {
	if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the npm tarball', () => {
	it('holds only the runtime: dist/{bin,lib,nodes,credentials}, index.js, package.json, README, LICENSE', () => {
		const outside = files.filter((f) => !/^dist\/(bin|lib|nodes|credentials)\//.test(f) && !['index.js', 'package.json', 'README.md', 'LICENSE'].includes(f));
		expect(outside).toEqual([]);
		expect(files.filter((f) => f.startsWith('dist/bench/'))).toEqual([]);
		expect(files.filter((f) => /(^|\/)(test|examples|bench)\//.test(f))).toEqual([]);
	});

	it('has every node and credential listed in package.json "n8n", the main module and the CLI', () => {
		const wanted = [...pkg.n8n.nodes, ...pkg.n8n.credentials, pkg.main, ...Object.values(pkg.bin)];
		expect(wanted.filter((f) => !files.includes(f))).toEqual([]);
		expect(pkg.n8n.nodes).toHaveLength(4);
		expect(pkg.n8n.credentials).toHaveLength(1);
		// n8n reads each node's codex file and icon next to it.
		for (const node of pkg.n8n.nodes) expect(files).toContain(node.replace(/\.js$/, '.json'));
	});

	it('resolves every require() of the shipped code inside the tarball or to a declared dependency', () => {
		const allowed = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies), ...builtinModules]);
		const problems: string[] = [];
		for (const file of files.filter((f) => f.endsWith('.js'))) {
			const source = fs.readFileSync(path.join(tmp, 'pkg', file), 'utf8');
			for (const [, spec] of source.matchAll(/\brequire\(["']([^"']+)["']\)/g)) {
				if (spec.startsWith('.')) {
					const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
					if (![target, `${target}.js`, `${target}.json`, `${target}/index.js`].some((t) => files.includes(t))) problems.push(`${file}: ${spec}`);
					continue;
				}
				const name = spec.startsWith('node:') ? spec.slice(5) : spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
				if (!allowed.has(name)) problems.push(`${file}: ${spec} (not a dependency)`);
			}
		}
		expect(problems).toEqual([]);
	});

	it('carries the repository, homepage and issue tracker links the npm page shows', () => {
		const shipped = JSON.parse(fs.readFileSync(path.join(tmp, 'pkg', 'package.json'), 'utf8')) as Record<string, any>;
		expect(shipped.repository).toEqual({ type: 'git', url: 'git+https://github.com/n8n-nodes-prompt-release/n8n-nodes-prompt-release.git' });
		expect(shipped.homepage).toBe('https://github.com/n8n-nodes-prompt-release/n8n-nodes-prompt-release#readme');
		expect(shipped.bugs).toEqual({ url: 'https://github.com/n8n-nodes-prompt-release/n8n-nodes-prompt-release/issues' });
	});

	it('has a README whose links work on the npm page (absolute, no paths into the repo)', () => {
		const readme = fs.readFileSync(path.join(tmp, 'pkg', 'README.md'), 'utf8');
		const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
		expect(links.length).toBeGreaterThan(0);
		expect(links.filter((l) => !/^(https?:\/\/|#|mailto:)/.test(l))).toEqual([]);
	});
});
