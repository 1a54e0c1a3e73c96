import { Type, type Static } from '@sinclair/typebox';
import { ERROR_CODES } from './error-codes.js';

export const ProviderAttempt = Type.Object({
  provider: Type.String(),
  model: Type.String(),
  outcome: Type.Union([
    Type.Literal('valid'),
    Type.Literal('repaired'),
    Type.Literal('invalid'),
    Type.Literal('error'),
  ]),
  error_class: Type.Optional(Type.String()),
  tokens_in: Type.Integer({ minimum: 0 }),
  tokens_out: Type.Integer({ minimum: 0 }),
  cost_usd: Type.Number({ minimum: 0 }),
  unpriced: Type.Optional(
    Type.Literal(true, {
      description:
        'the model has no price (LLM_PRICES): cost_usd is 0 because the price is unknown, not because the call was free',
    }),
  ),
  latency_ms: Type.Integer({ minimum: 0 }),
});
export type ProviderAttempt = Static<typeof ProviderAttempt>;

export const ResultError = Type.Object({
  code: Type.Unsafe<(typeof ERROR_CODES)[number]>({ type: 'string', enum: ERROR_CODES }),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type ResultError = Static<typeof ResultError>;

export const StructuredOutput = Type.Object({
  data: Type.Unknown({ description: 'the validated instance, or its XML text when output_format is xml' }),
  output_format: Type.Union([Type.Literal('json'), Type.Literal('xml')]),
  validation_status: Type.Union([Type.Literal('passed'), Type.Literal('failed'), Type.Literal('skipped')]),
  provider_used: Type.String(),
  model: Type.String(),
  cached: Type.Boolean(),
  repaired: Type.Boolean(),
  original_language: Type.String({ description: 'ISO 639-1, or und' }),
});
export type StructuredOutput = Static<typeof StructuredOutput>;

/** `sps.results.v1` and `sps.replies.v1`: exactly one per request, success or failure. */
export const ResultMessage = Type.Object(
  {
    request_id: Type.String(),
    tenant_id: Type.String(),
    api_key_id: Type.Optional(Type.String()),
    job_id: Type.Optional(Type.String()),
    item_index: Type.Optional(Type.Integer()),
    status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
    output: Type.Optional(StructuredOutput),
    error: Type.Optional(ResultError),
    prompt: Type.String({ description: 'the prompt as sent to providers (after redaction)' }),
    request_params: Type.Record(Type.String(), Type.Unknown()),
    attempts: Type.Array(ProviderAttempt),
    processing_time_ms: Type.Integer({ minimum: 0 }),
    completed_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'sps.results.v1' },
);
export type ResultMessage = Static<typeof ResultMessage>;
