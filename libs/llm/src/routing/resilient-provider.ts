import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  TaskCancelledError,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  CircuitState,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../language-model.js';
import { ProviderError } from '../provider-error.js';
import { RetryAfterBackoff } from './retry-after-backoff.js';

export interface ResilienceSettings {
  timeoutMs: number;
  /** Further calls after a transient failure (429, 5xx, timeout, network). */
  maxRetries: number;
  /** Retry-After longer than this is not waited for: the router falls back instead. */
  maxRetryWaitMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  maxConcurrency: number;
  maxQueued: number;
  requestsPerMinute?: number;
}

export const DEFAULT_RESILIENCE: ResilienceSettings = {
  timeoutMs: 30_000,
  maxRetries: 2,
  maxRetryWaitMs: 10_000,
  breakerThreshold: 5,
  breakerCooldownMs: 30_000,
  maxConcurrency: 256,
  maxQueued: 1_000,
};

/** Failures that say something about the provider's health (not about the request). */
const isProviderFault = (error: unknown) =>
  error instanceof ProviderError &&
  ['rate_limited', 'server_error', 'timeout', 'network'].includes(error.errorClass);

/**
 * One provider behind its policies: retries with jittered backoff honouring Retry-After, a
 * consecutive-failure circuit breaker, a per-call timeout, a concurrency limit and an optional
 * requests-per-minute budget. Keeps the statistics the routing policies order by.
 */
export class ResilientProvider {
  readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy;
  private readonly budget: RateLimiterMemory | undefined;
  private latencyEwmaMs: number | undefined;
  private active = 0;

  constructor(
    readonly model: LanguageModel,
    readonly settings: ResilienceSettings,
  ) {
    this.breaker = circuitBreaker(handleWhen(isProviderFault), {
      halfOpenAfter: settings.breakerCooldownMs,
      breaker: new ConsecutiveBreaker(settings.breakerThreshold),
    });
    const retryPolicy = retry(
      handleWhen(
        (error) =>
          isProviderFault(error) && ((error as ProviderError).retryAfterMs ?? 0) <= settings.maxRetryWaitMs,
      ),
      { maxAttempts: settings.maxRetries, backoff: new RetryAfterBackoff() },
    );
    // No cockatiel timeout policy: it aborts its controller after every call, even a successful
    // one (a DOMException and an abort event into the SDK per call). The per-call timeout is the
    // call's own signal instead (see `call`).
    this.policy = wrap(retryPolicy, this.breaker, bulkhead(settings.maxConcurrency, settings.maxQueued));
    this.budget = settings.requestsPerMinute
      ? new RateLimiterMemory({ points: settings.requestsPerMinute, duration: 60 })
      : undefined;
  }

  get name(): string {
    return this.model.provider;
  }

  get observedLatencyMs(): number {
    return this.latencyEwmaMs ?? 0;
  }

  get inFlight(): number {
    return this.active;
  }

  get isOpen(): boolean {
    return this.breaker.state === CircuitState.Open || this.breaker.state === CircuitState.Isolated;
  }

  /**
   * Calls the provider under its policies. `onCall` sees each underlying call (retries
   * included) so that every attempt is recorded. Errors come out as ProviderError.
   */
  async call(
    request: GenerateRequest,
    onCall: (outcome: { result?: GenerateResult; error?: ProviderError; latencyMs: number }) => void,
  ): Promise<GenerateResult> {
    try {
      await this.spendBudget();
    } catch (error) {
      onCall({ error: error as ProviderError, latencyMs: 0 });
      throw error;
    }
    this.active += 1;
    try {
      // The request's deadline is the policies' signal: retries stop once it has passed, a call
      // queued in the bulkhead past it is refused.
      return await this.policy.execute(async ({ signal: deadline }) => {
        // One signal per call, aborted by the deadline or by the per-call timeout, and dropped
        // afterwards: never aborted after the call, nothing left on the deadline signal (the SDKs
        // leave their listener on the signal they are given, so the deadline is never given to them).
        const call = new AbortController();
        const onDeadline = () => call.abort(deadline.reason);
        if (deadline.aborted) call.abort(deadline.reason);
        else deadline.addEventListener('abort', onDeadline);
        const timer = setTimeout(abortCall, this.settings.timeoutMs, call);
        const started = performance.now();
        try {
          const result = await this.model.generate({ ...request, signal: call.signal });
          const latencyMs = performance.now() - started;
          this.observeLatency(latencyMs);
          onCall({ result, latencyMs });
          return result;
        } catch (error) {
          const providerError = asProviderError(error, this.name, call.signal.aborted);
          onCall({ error: providerError, latencyMs: performance.now() - started });
          throw providerError;
        } finally {
          clearTimeout(timer);
          deadline.removeEventListener('abort', onDeadline);
        }
      }, request.signal);
    } catch (error) {
      const providerError = asProviderError(error, this.name, false);
      // Refusals made without calling (open circuit, full bulkhead) are attempts too.
      if (error instanceof BrokenCircuitError || error instanceof BulkheadRejectedError)
        onCall({ error: providerError, latencyMs: 0 });
      throw providerError;
    } finally {
      this.active -= 1;
    }
  }

  private async spendBudget(): Promise<void> {
    if (!this.budget) return;
    try {
      await this.budget.consume(this.name);
    } catch (rejection) {
      const wait = rejection instanceof RateLimiterRes ? rejection.msBeforeNext : undefined;
      throw new ProviderError('rate_limited', 'requests-per-minute budget spent', this.name, undefined, wait);
    }
  }

  private observeLatency(ms: number): void {
    this.latencyEwmaMs = this.latencyEwmaMs === undefined ? ms : 0.8 * this.latencyEwmaMs + 0.2 * ms;
  }
}

const abortCall = (call: AbortController) => call.abort();

function asProviderError(error: unknown, provider: string, timedOut: boolean): ProviderError {
  if (error instanceof ProviderError)
    return timedOut && error.errorClass !== 'timeout'
      ? new ProviderError('timeout', 'per-call timeout', provider)
      : error;
  if (error instanceof BrokenCircuitError)
    return new ProviderError('circuit_open', 'circuit breaker open', provider);
  if (error instanceof BulkheadRejectedError)
    return new ProviderError('overloaded', 'concurrency limit and queue full', provider);
  // The bulkhead refuses a queued call whose deadline passed while it waited.
  if (error instanceof TaskCancelledError)
    return new ProviderError('timeout', 'deadline passed before the call', provider);
  return new ProviderError('unknown', error instanceof Error ? error.message : String(error), provider);
}
