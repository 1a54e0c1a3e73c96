import { Type, type Static } from '@sinclair/typebox';

export const LIMITS = {
  promptMaxChars: 10_000,
  schemaMaxBytes: 50 * 1024,
  schemaMaxDepth: 10,
  batchMaxItems: 100,
} as const;

export const OutputFormat = Type.Union([Type.Literal('json'), Type.Literal('xml')], {
  default: 'json',
  description: 'json returns the validated instance; xml returns the same instance serialised as XML',
});

export const ROUTING_POLICIES = ['priority', 'latency', 'cost', 'least-busy'] as const;

/** Seed 4.1 PromptOptions, extended with what the pipeline needs. Unknown options are rejected. */
export const PromptOptions = Type.Object(
  {
    include_confidence: Type.Boolean({ default: true }),
    language_detection: Type.Boolean({ default: true }),
    cache_ttl: Type.Integer({ minimum: 60, maximum: 86_400, default: 3600, description: 'seconds' }),
    bypass_cache: Type.Boolean({ default: false }),
    provider: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'configured provider name' }),
    ),
    model: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'overrides the provider model' }),
    ),
    routing: Type.Optional(
      Type.Unsafe<(typeof ROUTING_POLICIES)[number]>({
        type: 'string',
        enum: ROUTING_POLICIES,
        description: 'provider order: priority (configured order, default), latency (EWMA), cost, least-busy',
      }),
    ),
    temperature: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
    max_tokens: Type.Integer({ minimum: 100, maximum: 4096, default: 2048 }),
    timeout_ms: Type.Integer({
      minimum: 1000,
      maximum: 120_000,
      default: 30_000,
      description: 'deadline for a synchronous answer',
    }),
    redact_pii: Type.Boolean({ default: false }),
    restore_pii: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type PromptOptions = Static<typeof PromptOptions>;

/** A JSON Schema supplied by the caller; compiled and bounded by the processor. */
export const UserSchema = Type.Record(Type.String(), Type.Unknown(), {
  description: 'JSON Schema (draft-04 to 2020-12) the answer must satisfy',
});

/** `sps.requests.v1`: what ingest-api and data pipelines produce. */
export const PromptRequestMessage = Type.Object(
  {
    request_id: Type.String({ format: 'uuid' }),
    tenant_id: Type.String({ minLength: 1, maxLength: 64 }),
    api_key_id: Type.Optional(Type.String({ format: 'uuid' })),
    job_id: Type.Optional(Type.String({ format: 'uuid' })),
    item_index: Type.Optional(Type.Integer({ minimum: 0 })),
    prompt: Type.String({ minLength: 1, maxLength: LIMITS.promptMaxChars }),
    format: Type.Optional(OutputFormat),
    schema: Type.Optional(UserSchema),
    options: Type.Optional(Type.Partial(PromptOptions)),
    labels: Type.Optional(
      Type.Object(
        { schema: Type.Optional(Type.String()), template: Type.Optional(Type.String()) },
        {
          additionalProperties: false,
          description: 'registry names the cached answer is filed under (DELETE /v1/cache)',
        },
      ),
    ),
    created_at: Type.Optional(Type.String({ format: 'date-time' })),
    deadline_at: Type.Optional(
      Type.String({ format: 'date-time', description: 'answered TIMEOUT without a provider call once past' }),
    ),
  },
  { additionalProperties: false, $id: 'sps.requests.v1' },
);
export type PromptRequestMessage = Static<typeof PromptRequestMessage>;
