export type ProviderErrorClass =
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'bad_request'
  | 'auth'
  | 'network'
  | 'circuit_open'
  | 'overloaded'
  | 'unknown';

/** A provider failure, classified so that routing can decide to retry, fall back or give up. */
export class ProviderError extends Error {
  constructor(
    readonly errorClass: ProviderErrorClass,
    message: string,
    readonly provider: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return ['rate_limited', 'server_error', 'timeout', 'network'].includes(this.errorClass);
  }
}
