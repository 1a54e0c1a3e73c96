import { Type } from '@sinclair/typebox';
import { ERROR_CODES } from '@sps/contracts';

/** Seed 5.2 envelope, used by every error response. */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.Unsafe<string>({ type: 'string', enum: ERROR_CODES }),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      request_id: Type.String(),
      timestamp: Type.String({ format: 'date-time' }),
    }),
  },
  { $id: 'ErrorEnvelope', title: 'Error' },
);

/** What each error status means, as the OpenAPI document describes it (the body is always the envelope). */
const MEANING: Record<number, string> = {
  400:
    'INVALID_REQUEST (details.fields names each field and why: schema violations, text with U+0000 ' +
    'or an unpaired surrogate, nesting too deep, limits), INVALID_SCHEMA or CONTRACT_VIOLATION',
  401: 'UNAUTHORIZED: no API key, or an unknown, revoked or expired one',
  403: "FORBIDDEN: the request asks for a provider or model outside the key's allowlist",
  404: 'NOT_FOUND: no such resource for this tenant (or a schema_ref / template that names none)',
  409: 'CONFLICT (the state does not allow it) or CANCELLED',
  413: 'PAYLOAD_TOO_LARGE: the body is larger than the configured limit',
  415: 'INVALID_REQUEST: the body is not application/json',
  422: "VALIDATION_FAILED: the model's answer did not satisfy the schema, repairs and retries included",
  429:
    "RATE_LIMIT_EXCEEDED (the key's hourly limit) or BUDGET_EXCEEDED (its daily or monthly token or " +
    'cost budget); Retry-After gives the seconds to wait',
  500: 'INTERNAL_ERROR: an unexpected server error',
  502: 'LLM_PROVIDER_ERROR: every provider attempt failed',
  503: 'SERVICE_UNAVAILABLE: a dependency (Kafka, the database, the cache) cannot take the request now',
  504: 'TIMEOUT: no answer within the deadline; the result can be read later at GET /v1/requests/{id}',
};

/** The error responses of a route, each the envelope, with what the status means. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    [...new Set(statuses)]
      .sort((a, b) => a - b)
      .map((status) => [status, Type.Ref('ErrorEnvelope', { description: MEANING[status] ?? 'error' })]),
  );

/**
 * Statuses every route behind an API key can answer, whatever it does: 400 (the text-hygiene rule
 * applies to every query string and path, so any route can refuse its input), 401, 429 and 500.
 */
export const AUTHENTICATED_ERRORS = [400, 401, 429, 500] as const;

/** ...and a route with a JSON body: also 413 and 415. */
export const BODY_ERRORS = [...AUTHENTICATED_ERRORS, 413, 415] as const;

/** The error responses of an authenticated route without a body, plus its own. */
export const authenticatedErrors = (...own: number[]) => errorResponses(...AUTHENTICATED_ERRORS, ...own);

/** The error responses of an authenticated route with a JSON body, plus its own. */
export const bodyErrors = (...own: number[]) => errorResponses(...BODY_ERRORS, ...own);
