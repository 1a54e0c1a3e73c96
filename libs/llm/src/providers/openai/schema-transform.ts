import type { SchemaTransform } from '../../language-model.js';

/**
 * OpenAI strict structured outputs accept a subset of JSON Schema. Placeholder until the strict
 * mapping lands: the schema is sent as is, non-strict; the final validation enforces it either way.
 */
export function transformSchema(schema: Record<string, unknown>): SchemaTransform {
  return { providerSchema: schema, restore: (instance) => instance, notes: [] };
}
