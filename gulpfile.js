// Copies what tsc does not emit into dist/, keeping paths: node and credential icons (svg, png)
// and the nodes' codex files (<Name>.node.json, read by n8n next to <Name>.node.js).
const { src, dest, task } = require('gulp');

function copyIcons() {
	return src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(dest('dist'));
}

function copyCodex() {
	return src('nodes/**/*.node.json', { base: '.' }).pipe(dest('dist'));
}

task('build:icons', async () => {
	await Promise.all([copyIcons, copyCodex].map((copy) => new Promise((resolve, reject) => copy().on('finish', resolve).on('error', reject))));
});

task('build:codex', copyCodex);
