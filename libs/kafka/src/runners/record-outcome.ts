import type { Logger } from '@sps/observability';
import { backoffDelay, sleepUnlessAborted, type BackoffOptions } from '../backoff.js';
import type { DeadLetterReason, DeadLetters } from '../dead-letters.js';
import { classifyError, PermanentError, type ErrorClass } from '../errors.js';
import type { RawRecord } from '../records.js';

export interface RetryPolicy extends BackoffOptions {
  /** Tries of a record whose error nobody classified, before it is dead-lettered. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseMs: 200, capMs: 10_000 };

export interface RefusalHandling {
  deadLetters: DeadLetters;
  /** After a record was dead-lettered: e.g. publish a failed result so the request never reads as missing. */
  onRefused?: (record: RawRecord, reason: DeadLetterReason) => Promise<void>;
  classify?: (error: unknown) => ErrorClass;
  retry: RetryPolicy;
  logger: Logger;
  signal: AbortSignal;
}

/**
 * Runs `work` for one record until it succeeds, it is refused, or the runner stops:
 * transient failures are waited out (backoff with jitter, no limit — the dependency is down, the
 * record is fine), permanent ones dead-letter the record at once, unclassified ones after
 * `maxAttempts`. Returns true when the record is done (handled or dead-lettered) and may be
 * committed; false when the runner stopped first (it will be redelivered).
 */
export async function runToOutcome(
  record: RawRecord,
  work: () => Promise<void>,
  handling: RefusalHandling,
): Promise<boolean> {
  const classify = handling.classify ?? classifyError;
  for (let attempt = 0; ; attempt++) {
    if (handling.signal.aborted) return false;
    try {
      await work();
      return true;
    } catch (error) {
      if (handling.signal.aborted) return false;
      const kind = classify(error);
      const exhausted = kind === 'unknown' && attempt + 1 >= handling.retry.maxAttempts;
      if (kind === 'permanent' || exhausted) {
        const code = error instanceof PermanentError ? error.code : 'RETRIES_EXHAUSTED';
        const reason = describe(error);
        return refuse(record, { code, reason, attempts: attempt + 1 }, handling);
      }
      const wait = backoffDelay(attempt, handling.retry);
      handling.logger.warn(
        {
          err: error,
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          attempt,
          wait,
          kind,
        },
        'handler failed; retrying',
      );
      await sleepUnlessAborted(wait, handling.signal);
    }
  }
}

/** Dead-letters the record (and tells the stage); a DLQ write that fails is retried like a dependency. */
export async function refuse(
  record: RawRecord,
  reason: DeadLetterReason,
  handling: RefusalHandling,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    if (handling.signal.aborted) return false;
    try {
      await handling.deadLetters.send(record, reason);
      break;
    } catch (error) {
      handling.logger.warn({ err: error, attempt }, 'dead-letter write failed; retrying');
      await sleepUnlessAborted(backoffDelay(attempt, handling.retry), handling.signal);
    }
  }
  if (!handling.onRefused) return true;
  for (let attempt = 0; ; attempt++) {
    if (handling.signal.aborted) return false;
    try {
      await handling.onRefused(record, reason);
      return true;
    } catch (error) {
      // The refusal notice is best effort past a few tries: the DLQ already holds the record.
      if (attempt + 1 >= handling.retry.maxAttempts && classify(error, handling) !== 'transient') {
        handling.logger.error({ err: error }, 'could not announce a refused record');
        return true;
      }
      await sleepUnlessAborted(backoffDelay(attempt, handling.retry), handling.signal);
    }
  }
}

function classify(error: unknown, handling: RefusalHandling): ErrorClass {
  return (handling.classify ?? classifyError)(error);
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
