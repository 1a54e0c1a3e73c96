import type { SchemaTransform } from '../../language-model.js';

/**
 * Anthropic's native structured outputs: `output_config.format` of type `json_schema` constrains
 * the answer text to the (transformed) schema. Without a native schema, the JSON is asked for in
 * the prompt and extracted from the text.
 */
export function toOutputConfig(schema: SchemaTransform) {
  if (!schema.providerSchema) return {};
  return { output_config: { format: { type: 'json_schema' as const, schema: schema.providerSchema } } };
}

/** The answer's text blocks, joined. */
export function answerText(content: { type: string; text?: string }[]): string {
  return content
    .filter((block) => block.type === 'text')
    .map((block) => block.text ?? '')
    .join('');
}
