#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { boundHeapGrowth } from './shared/heap';

// Node's on-disk cache of compiled code (in the OS temp folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off):
// a start-up then reuses the compiled program instead of compiling every module again. It must be on before
// the program's modules are loaded, hence the require below. Older Node versions lack it: nothing changes.
nodeModule.enableCompileCache?.();
boundHeapGrowth();

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require('./cli') as typeof import('./cli');

// `prompt-release status | head -1`: a closed pipe ends the program quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
	if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
	throw error;
});

void main(process.argv).then((code) => {
	process.exitCode = code;
});
