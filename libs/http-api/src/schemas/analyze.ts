import { Type, type Static } from '@sinclair/typebox';
import { LIMITS, OutputFormat, PromptOptions, UserSchema } from '@sps/contracts';
import { SchemaRef, TemplateRef } from '../schema-ref.js';
import { exactlyOneOf, notBoth } from './common.js';

export const AnalyzeBody = Type.Object(
  {
    prompt: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.promptMaxChars, pattern: '\\S' })),
    template: Type.Optional(TemplateRef),
    format: Type.Optional(OutputFormat),
    schema: Type.Optional(UserSchema),
    schema_ref: Type.Optional(SchemaRef),
    options: Type.Optional(Type.Partial(PromptOptions)),
  },
  {
    additionalProperties: false,
    description: 'a prompt or a template (exactly one); a schema or a schema_ref (at most one)',
    ...exactlyOneOf('prompt', 'template'),
    ...notBoth('schema', 'schema_ref'),
    examples: [
      {
        prompt: 'Extract key details from this invoice: Invoice #12345, Date: 2025-01-15, Amount: $1,250.00',
        format: 'json',
        options: { cache_ttl: 3600 },
      },
    ],
  },
);
export type AnalyzeBody = Static<typeof AnalyzeBody>;

/** Seed 4.1 StructuredResponse: the analysis fields when no schema was given, plus `data` always. */
export const StructuredResponse = Type.Object(
  {
    request_id: Type.String({ format: 'uuid' }),
    data: Type.Unknown({ description: 'the validated instance (JSON), or its XML text when format is xml' }),
    intent: Type.Optional(Type.String()),
    subject: Type.Optional(Type.String()),
    entities: Type.Optional(Type.Unknown()),
    confidence: Type.Optional(Type.Number()),
    output_format: Type.String(),
    original_language: Type.String(),
    validation_status: Type.Union([Type.Literal('passed'), Type.Literal('failed'), Type.Literal('skipped')]),
    processing_time_ms: Type.Integer(),
    provider_used: Type.String(),
    model: Type.String(),
    cached: Type.Boolean(),
    repaired: Type.Boolean(),
  },
  { $id: 'StructuredResponse', title: 'StructuredResponse' },
);
export type StructuredResponse = Static<typeof StructuredResponse>;
