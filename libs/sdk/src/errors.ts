import type { components } from './generated/api.js';

/** The service's error codes (the `error.code` of its envelope), plus the SDK's own for transport failures. */
export type ErrorCode = components['schemas']['ErrorEnvelope']['error']['code'] | 'NETWORK_ERROR';

/** One refused field of a request: `details.fields` of a 400/403 envelope. */
export interface FieldError {
  field: string;
  reason: string;
}

/**
 * An error the service answered (its envelope: `code`, `message`, `details`, `request_id`), or a
 * transport failure (`code` NETWORK_ERROR, `status` 0). Subclasses make `instanceof` checks easy;
 * `code` is always the envelope's own.
 */
export class SpsError extends Error {
  override readonly name: string = 'SpsError';
  /** The envelope's code (RATE_LIMIT_EXCEEDED, VALIDATION_FAILED, …). */
  readonly code: ErrorCode;
  /** HTTP status, or 0 when no answer arrived. */
  readonly status: number;
  /** The request id the service gave this call (x-request-id / the envelope's request_id). */
  readonly requestId: string | undefined;
  /** `details.fields`: each refused field and why (empty when the error names none). */
  readonly fields: FieldError[];
  /** The envelope's `details`, as sent. */
  readonly details: Record<string, unknown> | undefined;
  /** Retry-After in milliseconds, when the answer had one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    code: ErrorCode;
    message: string;
    status: number;
    requestId?: string;
    details?: Record<string, unknown>;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.details = init.details;
    this.retryAfterMs = init.retryAfterMs;
    const fields = init.details?.fields;
    this.fields = Array.isArray(fields)
      ? fields.filter(
          (f): f is FieldError =>
            typeof f === 'object' && f !== null && typeof (f as FieldError).field === 'string',
        )
      : [];
  }
}

/** 400: the request was refused (INVALID_REQUEST, INVALID_SCHEMA); `fields` says where. */
export class InvalidRequestError extends SpsError {
  override readonly name = 'InvalidRequestError';
}
/** 401 UNAUTHORIZED: no key, or an unknown, revoked or expired one. */
export class AuthenticationError extends SpsError {
  override readonly name = 'AuthenticationError';
}
/** 403 FORBIDDEN: a provider or model outside the key's allowlist. */
export class PermissionDeniedError extends SpsError {
  override readonly name = 'PermissionDeniedError';
}
/** 404 NOT_FOUND. */
export class NotFoundError extends SpsError {
  override readonly name = 'NotFoundError';
}
/** 409 CONFLICT or CANCELLED. */
export class ConflictError extends SpsError {
  override readonly name = 'ConflictError';
}
/** 422 VALIDATION_FAILED: the model's answer never satisfied the schema. */
export class ValidationFailedError extends SpsError {
  override readonly name = 'ValidationFailedError';
}
/** 429 RATE_LIMIT_EXCEEDED or BUDGET_EXCEEDED (still refused after the client's retries). */
export class RateLimitError extends SpsError {
  override readonly name = 'RateLimitError';
}
/** 502 LLM_PROVIDER_ERROR: every provider attempt failed. */
export class ProviderError extends SpsError {
  override readonly name = 'ProviderError';
}
/** 503 SERVICE_UNAVAILABLE (still, after the client's retries), or no answer at all (NETWORK_ERROR). */
export class ServiceUnavailableError extends SpsError {
  override readonly name = 'ServiceUnavailableError';
}
/** 504 TIMEOUT: no answer within the deadline; `details.request_id` can be read later (requests.get). */
export class TimeoutError extends SpsError {
  override readonly name = 'TimeoutError';
}

const BY_STATUS: Record<number, typeof SpsError> = {
  400: InvalidRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: ValidationFailedError,
  429: RateLimitError,
  502: ProviderError,
  503: ServiceUnavailableError,
  504: TimeoutError,
};

type Envelope = {
  error?: { code?: string; message?: string; details?: Record<string, unknown>; request_id?: string };
};

/** The typed error for an answer that is not a success. */
export function errorFromResponse(response: Response, body: unknown): SpsError {
  const envelope = (typeof body === 'object' && body !== null ? body : {}) as Envelope;
  const error = envelope.error;
  const Class = BY_STATUS[response.status] ?? SpsError;
  return new Class({
    code: (error?.code as ErrorCode | undefined) ?? fallbackCode(response.status),
    message: error?.message ?? `HTTP ${response.status} ${response.statusText}`.trim(),
    status: response.status,
    requestId: error?.request_id ?? response.headers.get('x-request-id') ?? undefined,
    details: error?.details,
    retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
  });
}

function fallbackCode(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMIT_EXCEEDED';
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  if (status === 504) return 'TIMEOUT';
  return status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_REQUEST';
}

/** Retry-After (delta-seconds or an HTTP date) in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
