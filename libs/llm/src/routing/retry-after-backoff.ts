import {
  ExponentialBackoff,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
} from 'cockatiel';
import { ProviderError } from '../provider-error.js';

/**
 * Exponential backoff with decorrelated jitter (cockatiel's), never shorter than the
 * provider's `Retry-After`.
 */
export class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly inner: IBackoffFactory<unknown> = new ExponentialBackoff({
      initialDelay: 200,
      maxDelay: 5_000,
    }),
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const innerNext = this.inner.next(context);
    const error = 'error' in context.result ? context.result.error : undefined;
    const retryAfter = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
    return {
      duration: Math.max(innerNext.duration, retryAfter),
      next: (nextContext) => new RetryAfterBackoff(innerNext).next(nextContext),
    };
  }
}
