import type { SchemaTransform } from '../../language-model.js';

/** `json_schema` (strict) when the schema maps natively, else plain JSON mode with the schema in the prompt. */
export function toResponseFormat(name: string, schema: SchemaTransform) {
  if (!schema.providerSchema) return { type: 'json_object' as const };
  return {
    type: 'json_schema' as const,
    json_schema: {
      name: name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'response',
      schema: schema.providerSchema,
      strict: true,
    },
  };
}
