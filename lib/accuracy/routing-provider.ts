/**
 * A provider that sends each request to the provider of its model: what a consensus across models of
 * several providers (one OpenAI, one Anthropic) runs through in the CLI. Providers are made on first use.
 */
import type { Provider, ProviderRequest, ProviderResponse } from '../providers/types';
import type { ModelSpec, PromptSpec, ProviderName } from '../types';

export class RoutingProvider implements Provider {
	readonly name: ProviderName;
	private readonly made = new Map<string, Provider>();

	/** `primary` serves the prompt's own provider; `make` creates the provider for any other model. */
	constructor(
		private readonly primary: Provider,
		private readonly make: (model: ModelSpec) => Provider,
	) {
		this.name = primary.name;
	}

	/** The provider that serves `model`. */
	providerFor(model: ModelSpec): Provider {
		if (model.provider === this.primary.name) return this.primary;
		const key = `${model.provider}\u0000${model.baseUrl ?? ''}`;
		let p = this.made.get(key);
		if (!p) {
			p = this.make(model);
			this.made.set(key, p);
		}
		return p;
	}

	complete(request: ProviderRequest): Promise<ProviderResponse> {
		return this.providerFor(request.model).complete(request);
	}

	baseUrlFor(model: ModelSpec): string {
		return this.providerFor(model).baseUrlFor?.(model) ?? model.baseUrl ?? '';
	}
}

/** True when a prompt's consensus asks a model of another provider than its own. */
export function needsRouting(spec: PromptSpec): boolean {
	return (spec.consensus?.models ?? []).some((m) => m.provider !== spec.model.provider);
}
