import { describe, expect, it } from 'vitest';
import { DeadlineSignals } from '../src/deadline-signals.js';

describe('DeadlineSignals', () => {
  it('gives deadlines in the same slice one signal, and other slices their own', () => {
    const deadlines = new DeadlineSignals(50);
    const base = Math.ceil((Date.now() + 60_000) / 50) * 50; // a slice's end
    const signal = deadlines.at(base - 49);
    expect(deadlines.at(base - 1)).toBe(signal);
    expect(deadlines.at(base)).toBe(signal);
    expect(deadlines.at(base + 1)).not.toBe(signal);
    expect(deadlines.at(base - 50)).not.toBe(signal);
    expect(deadlines.pending).toBe(3);
  });

  it('aborts with a TimeoutError once the deadline has passed, never before it, at most a slice late', async () => {
    const deadlines = new DeadlineSignals(40);
    const deadline = Date.now() + 100;
    const signal = deadlines.at(deadline);
    const abortedAt = await new Promise<number>((resolve) =>
      signal.addEventListener('abort', () => resolve(Date.now()), { once: true }),
    );
    expect(abortedAt).toBeGreaterThanOrEqual(deadline);
    expect(abortedAt).toBeLessThan(deadline + 40 + 30); // the slice, and a timer's lateness on a busy machine
    expect(signal.reason).toBeInstanceOf(DOMException);
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
    expect(deadlines.pending).toBe(0); // the slice is forgotten once it fired
    // A later deadline in a slice that already fired gets a new signal, not the aborted one.
    const next = deadlines.at(Date.now() + 1_000);
    expect(next).not.toBe(signal);
    expect(next.aborted).toBe(false);
  });

  it('takes as many listeners as requests share a slice, without a leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const signal = new DeadlineSignals().at(Date.now() + 60_000);
      const listeners = Array.from({ length: 200 }, () => () => undefined);
      for (const listener of listeners) signal.addEventListener('abort', listener);
      for (const listener of listeners) signal.removeEventListener('abort', listener);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.map((warning) => warning.name)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('keeps no process alive for a deadline still ahead', () => {
    // Resources that keep the event loop alive: an unreferenced timer is not one of them.
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    const deadlines = new DeadlineSignals();
    deadlines.at(Date.now() + 3_600_000);
    expect(deadlines.pending).toBe(1);
    expect(timers()).toBe(before);
    setTimeout(() => undefined, 10); // what a referenced one looks like
    expect(timers()).toBe(before + 1);
  });
});
