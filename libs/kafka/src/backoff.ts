import { setTimeout as sleep } from 'node:timers/promises';
import { setMaxListeners } from 'node:events';

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

/**
 * The runner's shutdown switch. Every record waiting out a backoff listens on its signal (one
 * listener each, removed when the wait ends), so up to the in-flight bound listen at once: not a
 * leak, and Node's warning past 10 listeners would only be noise.
 */
export function shutdownController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
