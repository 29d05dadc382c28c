import type { ICredentialType, Icon, INodeProperties } from 'n8n-workflow';

/**
 * Where the prompt registry lives. Today: a folder on the n8n host (the format `prompt-release init` creates).
 * A database store will add fields here; nodes/shared/registry.ts is the one place that turns this into a store.
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
			displayName: 'Registry Folder',
			name: 'registryPath',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. /data/prompts',
			description:
				'Absolute path of the prompt registry folder on the n8n host (in Docker: a path inside the container, e.g. a mounted volume). It holds one folder per prompt with prompt.yaml, versions/, fixtures/ and releases.yaml.',
		},
	];
}
