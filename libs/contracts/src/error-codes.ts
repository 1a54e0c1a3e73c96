/** Every error the service reports carries one of these codes (seed 5.2, extended). */
export const ERROR_HTTP_STATUS = {
  INVALID_REQUEST: 400,
  INVALID_SCHEMA: 400,
  UNAUTHORIZED: 401,
  /** The key may not use what the request asks for (a provider or model outside its allowlist). */
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  VALIDATION_FAILED: 422,
  RATE_LIMIT_EXCEEDED: 429,
  /** The key's daily or monthly token or cost budget is spent; Retry-After names the reset. */
  BUDGET_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  LLM_PROVIDER_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  CONTRACT_VIOLATION: 400,
  CANCELLED: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_HTTP_STATUS;
export const ERROR_CODES = Object.keys(ERROR_HTTP_STATUS) as ErrorCode[];

export interface ErrorDetail {
  path: string;
  message: string;
  schema_path?: string;
}

/** An error as a value: a code, a human message and optional structured details. */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ServiceError';
  }

  get httpStatus(): number {
    return ERROR_HTTP_STATUS[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}
