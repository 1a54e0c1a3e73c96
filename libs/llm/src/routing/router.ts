import { ROUTING_POLICIES, ServiceError } from '@sps/contracts';
import { typicalCost, type PriceTable } from './price-table.js';
import type { ResilientProvider } from './resilient-provider.js';

export { ROUTING_POLICIES };
export type RoutingPolicy = (typeof ROUTING_POLICIES)[number];

export interface RouteSelection {
  /** A configured provider name: only that provider is used. */
  provider?: string;
  /** Overrides the provider's configured model for this request. */
  model?: string;
  policy?: RoutingPolicy;
}

/**
 * Orders the configured providers for one request; the engine tries them in that order.
 * Providers whose circuit is open go last (a half-open probe still happens after the cool-down).
 */
export class ProviderRouter {
  constructor(
    readonly providers: ResilientProvider[],
    private readonly prices: PriceTable,
    private readonly defaultPolicy: RoutingPolicy = 'priority',
  ) {}

  order(selection: RouteSelection = {}): ResilientProvider[] {
    if (selection.provider) {
      const chosen = this.providers.filter((p) => p.name === selection.provider);
      if (chosen.length === 0) {
        const known = this.providers.map((p) => p.name).join(', ');
        throw new ServiceError(
          'INVALID_REQUEST',
          `options.provider: '${selection.provider}' is not configured (configured: ${known})`,
        );
      }
      return chosen;
    }
    const ranked = this.rank(selection.policy ?? this.defaultPolicy);
    return [...ranked.filter((p) => !p.isOpen), ...ranked.filter((p) => p.isOpen)];
  }

  /** Closes every provider's client (HTTP connections, local model); for shutdown. */
  async close(): Promise<void> {
    await Promise.all(this.providers.map((provider) => provider.model.close?.()));
  }

  private rank(policy: RoutingPolicy): ResilientProvider[] {
    switch (policy) {
      case 'latency':
        return this.byKey((p) => p.observedLatencyMs);
      case 'cost':
        return this.byKey((p) => typicalCost(this.prices, p.model.model));
      case 'least-busy':
        return this.byKey((p) => p.inFlight);
      case 'priority':
        return [...this.providers];
    }
  }

  // A method, not a named arrow made on every call: under tsx (how the image runs the apps) each
  // named closure is also a defineProperty call for its name, once per request here.
  private byKey(key: (p: ResilientProvider) => number): ResilientProvider[] {
    return this.providers
      .map((provider, index) => ({ provider, index, key: key(provider) }))
      .sort((a, b) => a.key - b.key || a.index - b.index)
      .map((entry) => entry.provider);
  }
}
