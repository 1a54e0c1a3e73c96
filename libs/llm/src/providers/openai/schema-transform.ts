/**
 * OpenAI's `json_schema` response format. Strict mode accepts a subset of JSON Schema; the
 * mapping to that subset is the next issue's work — until then the schema is sent non-strict
 * and the full schema is enforced afterwards by ajv either way.
 */
export function toOpenAIResponseFormat(name: string, schema: Record<string, unknown>) {
  return {
    type: 'json_schema' as const,
    json_schema: { name: sanitizeName(name), schema, strict: false },
  };
}

function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'response';
}
