import type { ICredentialType, Icon, INodeProperties } from 'n8n-workflow';

const postgresOnly = { show: { storage: ['postgres'] } };

/**
 * Where the prompt registry lives: a folder on the n8n host (one n8n process), or PostgreSQL (n8n queue mode:
 * the main instance and every worker see the same channels, canary outcomes and corrections). The PostgreSQL
 * fields follow n8n's own Postgres credential (packages/nodes-base/credentials/Postgres.credentials.ts).
 * nodes/shared/registry.ts is the one place that turns this into a store. Credentials saved before Storage
 * existed have no `storage` value and keep meaning a folder.
 */
// TODO(documentationUrl): add the package's public README URL (#credentials) once the repository is published.
// eslint-disable-next-line n8n-nodes-base/cred-class-field-documentation-url-missing
export class PromptRegistryApi implements ICredentialType {
	name = 'promptRegistryApi';

	// The product name users see in the credential list; it is not an HTTP API.
	// eslint-disable-next-line n8n-nodes-base/cred-class-field-display-name-missing-api
	displayName = 'Prompt Registry';

	icon: Icon = { light: 'file:promptRegistry.svg', dark: 'file:promptRegistry.dark.svg' };

	properties: INodeProperties[] = [
		{
			displayName: 'Storage',
			name: 'storage',
			type: 'options',
			options: [
				{ name: 'Folder', value: 'folder', description: 'A registry folder on the n8n host (one n8n instance)' },
				{ name: 'PostgreSQL', value: 'postgres', description: 'A PostgreSQL schema shared by the main instance and all workers (queue mode)' },
			],
			default: 'folder',
		},
		{
			displayName: 'Registry Folder',
			name: 'registryPath',
			type: 'string',
			default: '',
			required: true,
			displayOptions: { show: { storage: ['folder'] } },
			placeholder: 'e.g. /data/prompts',
			description:
				'Absolute path of the prompt registry folder on the n8n host (in Docker: a path inside the container, e.g. a mounted volume). It holds one folder per prompt with prompt.yaml, versions/, fixtures/ and releases.yaml.',
		},
		{ displayName: 'Host', name: 'host', type: 'string', default: 'localhost', displayOptions: postgresOnly },
		{ displayName: 'Database', name: 'database', type: 'string', default: 'postgres', displayOptions: postgresOnly },
		{ displayName: 'User', name: 'user', type: 'string', default: 'postgres', displayOptions: postgresOnly },
		{ displayName: 'Password', name: 'password', type: 'string', typeOptions: { password: true }, default: '', displayOptions: postgresOnly },
		// A boolean switch, not a secret (the same field as n8n's own Postgres credential).
		// eslint-disable-next-line @n8n/community-nodes/credential-password-field
		{
			displayName: 'Ignore SSL Issues (Insecure)',
			name: 'allowUnauthorizedCerts',
			type: 'boolean',
			default: false,
			description: 'Whether to connect even if SSL certificate validation is not possible',
			displayOptions: postgresOnly,
		},
		{
			displayName: 'SSL',
			name: 'ssl',
			type: 'options',
			options: [
				{ name: 'Allow', value: 'allow', description: 'Plain connection; SSL (certificate not checked) only if the server insists' },
				{ name: 'Disable', value: 'disable', description: 'No SSL' },
				{ name: 'Prefer', value: 'prefer', description: 'SSL (certificate not checked) if the server supports it, else plain (psql default)' },
				{ name: 'Require', value: 'require', description: 'SSL; the certificate is not checked (as libpq require)' },
				{ name: 'Verify CA', value: 'verify-ca', description: 'SSL; the certificate must be signed by a trusted CA (host name not checked)' },
				{ name: 'Verify Full', value: 'verify-full', description: 'SSL; trusted CA and matching host name' },
			],
			default: 'disable',
			description: 'SSL mode, with the meaning libpq (psql) gives it',
			displayOptions: { show: { storage: ['postgres'], allowUnauthorizedCerts: [false] } },
		},
		{ displayName: 'Port', name: 'port', type: 'number', default: 5432, displayOptions: postgresOnly },
		{
			displayName: 'Schema',
			name: 'schema',
			type: 'string',
			default: 'prompt_release',
			placeholder: 'e.g. prompts',
			description: 'The PostgreSQL schema holding the registry tables (created by "prompt-release db migrate"; lower-case letters, digits and _)',
			displayOptions: postgresOnly,
		},
	];
}
