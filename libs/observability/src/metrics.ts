import { Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry };

/** One registry per app instance (never the global one), with process metrics and an app label. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
