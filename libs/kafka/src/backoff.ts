import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  /** First wait (ms). */
  baseMs: number;
  /** Longest wait (ms). */
  capMs: number;
}

/** "Full jitter" exponential backoff: a random wait in [0, min(cap, base·2^attempt)]. */
export function backoffDelay(
  attempt: number,
  { baseMs, capMs }: BackoffOptions,
  random = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling * random()));
}

/** Sleeps, but wakes at once when `signal` aborts (so that shutdown is never held by a backoff). */
export async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
