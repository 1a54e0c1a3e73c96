import type { DlqErrorCode } from '@sps/contracts';

/**
 * The record itself is refused (a contract violation, a value a database rejects, a record over the
 * broker's size limit): trying again cannot help, so the runner dead-letters that record alone.
 */
export class PermanentError extends Error {
  constructor(
    readonly code: DlqErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** A dependency is down or busy: wait with backoff and try the same work again, in order. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export type ErrorClass = 'permanent' | 'transient' | 'unknown';

/** Network-level failures of any client (pg, ioredis, fetch, kafkajs): the other side is away. */
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * Tells a dependency that is down (retry without limit, with backoff) from data it refuses
 * (dead-letter) from the rest (retry a bounded number of times, then dead-letter). A stage may
 * add its own rules (the sink reads SQLSTATEs) in front of this one.
 */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof PermanentError) return 'permanent';
  if (error instanceof TransientError) return 'transient';
  const e = error as { code?: unknown; retriable?: unknown; name?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return 'unknown';
  if (typeof e.code === 'string' && TRANSIENT_NODE_CODES.has(e.code)) return 'transient';
  // kafkajs marks its errors retriable or not; a non-retriable one on a single record is that record's.
  if (typeof e.name === 'string' && e.name.startsWith('KafkaJS')) {
    if (e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSConnectionError')
      return 'transient';
    if (e.retriable === true) return 'transient';
  }
  if (e.cause && e.cause !== error) {
    const inner = classifyError(e.cause);
    if (inner !== 'unknown') return inner;
  }
  return 'unknown';
}
