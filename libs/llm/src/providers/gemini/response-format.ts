import type { SchemaTransform } from '../../language-model.js';

/**
 * Gemini's native structured output: JSON mime type plus `responseJsonSchema` (the JSON Schema
 * subset), or JSON mode alone when the schema can't be sent natively.
 */
export function toGenerationConfig(schema: SchemaTransform) {
  return {
    responseMimeType: 'application/json',
    ...(schema.providerSchema ? { responseJsonSchema: schema.providerSchema } : {}),
  };
}
