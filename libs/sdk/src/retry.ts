import { retryAfterMs } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included (default 4; 1 = no retry). */
  maxAttempts?: number;
  /** First backoff when the answer has no Retry-After (default 500 ms), doubled per attempt, full jitter. */
  baseDelayMs?: number;
  /** Longest backoff without Retry-After (default 8 s). */
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the error is returned at once (default 60 s). */
  maxRetryAfterMs?: number;
  /** Told before each wait (for logs and progress lines). */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  attempt: number;
  status: number;
  delayMs: number;
  /** Whether the delay is the server's Retry-After (else jittered backoff). */
  retryAfter: boolean;
  method: string;
  url: string;
}

/** Statuses worth another attempt: the service asks to come back later, nothing was done. */
const RETRYABLE = new Set([429, 503]);

/**
 * A fetch that retries 429 and 503: after the Retry-After the service sent when it sent one, else
 * after an exponential backoff with full jitter; at most `maxAttempts` in all. A 429 without
 * Retry-After (more prompts than the key may ever send in an hour) and a Retry-After past
 * `maxRetryAfterMs` (a spent budget) are not retried: waiting would not help, or not soon.
 */
export function retryingFetch(
  base: (request: Request) => Promise<Response>,
  options: RetryOptions = {},
  random: () => number = Math.random,
): (request: Request) => Promise<Response> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const baseDelay = options.baseDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 8_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 60_000;
  return async (request) => {
    for (let attempt = 1; ; attempt++) {
      const response = await base(attempt < maxAttempts ? request.clone() : request);
      if (attempt >= maxAttempts || !RETRYABLE.has(response.status)) return response;
      const told = retryAfterMs(response.headers.get('retry-after'));
      if (response.status === 429 && told === undefined) return response;
      if (told !== undefined && told > maxRetryAfter) return response;
      const delayMs = told ?? Math.round(random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1)));
      await response.body?.cancel().catch(() => undefined);
      options.onRetry?.({
        attempt,
        status: response.status,
        delayMs,
        retryAfter: told !== undefined,
        method: request.method,
        url: request.url,
      });
      await sleep(delayMs, request.signal);
    }
  };
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
