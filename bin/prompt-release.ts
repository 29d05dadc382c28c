#!/usr/bin/env node
import { main } from './cli';
import { boundHeapGrowth } from './shared/heap';

boundHeapGrowth();

// `prompt-release status | head -1`: a closed pipe ends the program quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
	if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
	throw error;
});

void main(process.argv).then((code) => {
	process.exitCode = code;
});
