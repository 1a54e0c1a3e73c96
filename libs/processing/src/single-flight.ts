/**
 * Identical work run once: while a call for a key is under way, later calls for the same key
 * share its outcome (value or rejection) instead of running again. The call is registered in the
 * same synchronous step as the check, so two callers can never both run it; it is forgotten the
 * moment it settles, so finished work is not remembered here (that is the cache's job).
 */
export class SingleFlight<V> {
  private readonly calls = new Map<string, Promise<V>>();

  /** Whether a call for `key` is under way. */
  has(key: string): boolean {
    return this.calls.has(key);
  }

  get size(): number {
    return this.calls.size;
  }

  /** Runs `work` for `key`, or shares the outcome of the call already under way (`shared`). */
  async do(key: string, work: () => Promise<V>): Promise<{ value: V; shared: boolean }> {
    const pending = this.calls.get(key);
    if (pending) return { value: await pending, shared: true };
    const call = work();
    this.calls.set(key, call);
    try {
      return { value: await call, shared: false };
    } finally {
      this.calls.delete(key);
    }
  }
}
