import { Type } from '@sinclair/typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** One provider call of a stored request (GET /v1/requests/{id}); rows older than a field give it null. */
export const RequestAttempt = Type.Object({
  provider: Type.String(),
  model: Type.String(),
  outcome: Type.String({ description: 'valid, repaired, invalid or error' }),
  error_class: Type.Optional(Type.String()),
  tokens_in: Type.Integer(),
  tokens_out: Type.Integer(),
  cost_usd: Type.Number(),
  unpriced: Type.Optional(Type.Boolean({ description: 'the model has no price: cost_usd 0 means unknown' })),
  latency_ms: Nullable(Type.Integer()),
});

/** One line of GET /v1/requests: what a list shows, not the answer itself (GET /v1/requests/{id}). */
export const RequestSummary = Type.Object({
  request_id: Type.String({ format: 'uuid' }),
  job_id: Nullable(Type.String()),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  prompt_preview: Type.String({ description: 'the first 200 characters of the prompt' }),
  validation_status: Nullable(Type.String()),
  provider_used: Nullable(Type.String()),
  model: Nullable(Type.String()),
  processing_time_ms: Type.Integer(),
  tokens_used: Type.Integer(),
  cost_usd: Type.Number(),
  cached: Type.Boolean(),
  repaired: Type.Boolean(),
  error_code: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});

export const RequestList = Type.Object({ requests: Type.Array(RequestSummary) });

export const RequestListQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) },
  { additionalProperties: false },
);

const Spend = Type.Object({
  tokens: Type.Integer(),
  cost_usd: Type.Number(),
});
const CountedSpend = Type.Composite([Type.Object({ requests: Type.Integer() }), Spend]);

/** GET /v1/usage: what the caller's tenant and key used this UTC day and month, and the key's budgets. */
export const UsageView = Type.Object({
  day_start: Type.String({ format: 'date-time' }),
  month_start: Type.String({ format: 'date-time' }),
  tenant: Type.Object({ day: CountedSpend, month: CountedSpend }),
  key: Type.Object({
    name: Type.String(),
    day: Spend,
    month: Spend,
    budgets: Type.Object({
      daily_tokens: Nullable(Type.Integer()),
      monthly_tokens: Nullable(Type.Integer()),
      daily_cost_usd: Nullable(Type.Number()),
      monthly_cost_usd: Nullable(Type.Number()),
    }),
  }),
});

export const SchemaCheckBody = Type.Object(
  { schema: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);

/** The verdict of POST /v1/schema-check: the same checks as a request's schema, nothing stored or run. */
export const SchemaCheckResult = Type.Object({
  valid: Type.Boolean(),
  error: Nullable(
    Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  ),
});
