import { setMaxListeners } from 'node:events';

/**
 * Signals that abort when a deadline passes, one per slice of time instead of one per request: every
 * deadline in the same `sliceMs` shares the signal (and the timer) of that slice, which aborts at
 * the slice's end, at most `sliceMs` after the deadline. Requests arrive with deadlines spread
 * over time, so at a thousand requests a second a 50 ms slice turns fifty AbortControllers and
 * timers into one: creating an AbortSignal was the single largest cost of the processor's own
 * code (bench/processor-cost.ts profile, stop 18). A slice's signal lives until its end, whether or
 * not its requests finished earlier; that is one controller and one unreferenced timer per slice
 * with a deadline still ahead, bounded by the longest timeout over `sliceMs`. Listeners must be
 * removed by whoever adds them (cockatiel and the resilient provider do): the signal is shared.
 */
export class DeadlineSignals {
  private readonly slices = new Map<number, AbortController>();

  constructor(private readonly sliceMs = 50) {}

  /** A signal that aborts (TimeoutError) once `deadline` (epoch ms) has passed, at most `sliceMs` late. */
  at(deadline: number): AbortSignal {
    const end = Math.ceil(deadline / this.sliceMs) * this.sliceMs;
    const existing = this.slices.get(end);
    if (existing) return existing.signal;
    const slice = new AbortController();
    // Every request of the slice listens on it while its call runs (the resilient provider, and
    // cockatiel while a call is queued or waits to retry): dozens at once is the design, not the leak
    // Node's warning after 10 listeners is about (each warning also costs an Error and a stderr write).
    setMaxListeners(0, slice.signal);
    this.slices.set(end, slice);
    setTimeout(abortSlice, Math.max(end - Date.now(), 1), this.slices, end, slice).unref();
    return slice.signal;
  }

  /** Slices whose deadline is still ahead (for tests). */
  get pending(): number {
    return this.slices.size;
  }
}

function abortSlice(slices: Map<number, AbortController>, end: number, slice: AbortController): void {
  slices.delete(end);
  slice.abort(new DOMException('deadline passed', 'TimeoutError'));
}
