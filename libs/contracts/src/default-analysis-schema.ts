/**
 * The analysis answered when a request carries no schema (seed 4.1, StructuredResponse's
 * model-produced fields). The service adds output_format, validation_status and timing itself.
 */
export const DEFAULT_ANALYSIS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'analysis',
  type: 'object',
  properties: {
    intent: { type: 'string', description: 'primary action: create, analyze, extract, translate, ...' },
    subject: { type: 'string', description: 'main topic or object' },
    entities: {
      type: 'object',
      properties: {
        key_details: { type: 'array', items: { type: 'string' } },
        source: { type: ['string', 'null'] },
        target: { type: ['string', 'null'] },
      },
      required: ['key_details'],
      additionalProperties: false,
    },
    original_language: { type: 'string', description: 'ISO 639-1 code of the prompt' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
  required: ['intent', 'subject', 'entities', 'original_language', 'confidence'],
  additionalProperties: false,
} as const;
