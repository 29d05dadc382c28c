// n8n's community-node lint rules, as @n8n/node-cli's `configWithoutCloudSupport` sets them up
// (this package has runtime dependencies and reads a registry folder on the n8n host, so it is a
// self-hosted community node, not an n8n Cloud verified one).
import js from '@eslint/js';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import { globalIgnores } from 'eslint/config';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

const communityNodes = n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport;

export default tseslint.config(
	globalIgnores(['dist', 'node_modules', 'coverage', '.tmp', '.demo', '**/*.js', '**/*.mjs']),
	{
		files: ['**/*.ts'],
		extends: [js.configs.recommended, tseslint.configs.recommended, importX.configs['flat/recommended']],
		rules: {
			// Off in @n8n/node-cli's own config (n8n's reference set-up for community nodes); kept as there.
			'prefer-spread': 'off',
			'no-console': 'error',
		},
	},
	{
		// What n8n loads: the nodes, the credential and the core they import.
		files: ['nodes/**/*.ts', 'credentials/**/*.ts', 'lib/**/*.ts'],
		ignores: ['lib/testing/**'],
		extends: [communityNodes],
	},
	{
		// The framework-free core must not import n8n; it throws its own typed errors, which
		// nodes/shared/errors.ts turns into NodeOperationError / NodeApiError with the item index.
		files: ['lib/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
	},
	{
		files: ['package.json'],
		extends: [communityNodes],
		rules: {
			...n8nNodesBase.configs.community.rules,
			// A self-hosted community node: it needs zod, yaml, the OpenAI and Anthropic SDKs at run time.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			// Published under its contributors; no single maintainer's e-mail address belongs in the manifest.
			'@n8n/community-nodes/valid-author': 'off',
			// No public repository address is assigned to the project yet.
			'@n8n/community-nodes/require-homepage': 'off',
		},
		languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
	},
	{
		files: ['credentials/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// Both off in @n8n/node-cli's own config (n8n's reference set-up for community nodes); kept as there.
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// These three are off in @n8n/node-cli's own config (n8n's reference set-up); kept as there. The
			// two below check inputs/outputs against one input and one output; Extract Signal has two outputs.
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			// maxValue bounds numeric options such as concurrency and retries.
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
		},
	},
	{
		// The CLI, the benchmarks and the test model server talk to a terminal.
		files: ['bin/**/*.ts', 'bench/**/*.ts', 'lib/testing/**/*.ts'],
		rules: { 'no-console': 'off' },
	},
	{
		// Tests may use non-null assertions, loose fixtures and require() of built files freely.
		files: ['test/**/*.ts'],
		rules: {
			'@typescript-eslint/no-non-null-assertion': 'off',
			'@typescript-eslint/no-explicit-any': 'off',
			'@typescript-eslint/no-require-imports': 'off',
			'no-console': 'off',
		},
	},
);
