// Builds dist/ once before the suite, so tests can spawn the CLI and load the compiled nodes as users do.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalSetup() {
	if (process.env.PROMPT_RELEASE_SKIP_BUILD === '1') return;
	const root = path.resolve(__dirname, '..', '..');
	execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
};
