import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../src/single-flight.js';

/** A promise the test settles by hand. */
function gate<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('runs identical work once while it is under way and shares its value', async () => {
    const flights = new SingleFlight<number>();
    const held = gate<number>();
    let runs = 0;
    const work = () => (runs++, held.promise);
    const first = flights.do('k', work);
    const second = flights.do('k', work);
    const third = flights.do('k', work);
    expect(flights.has('k')).toBe(true);
    held.resolve(7);
    expect(await Promise.all([first, second, third])).toEqual([
      { value: 7, shared: false },
      { value: 7, shared: true },
      { value: 7, shared: true },
    ]);
    expect(runs).toBe(1);
    // Forgotten once settled: the same work later runs again.
    expect(flights.has('k')).toBe(false);
    expect(await flights.do('k', async () => (runs++, 8))).toEqual({ value: 8, shared: false });
    expect(runs).toBe(2);
  });

  it('hands a failure to every caller that shared the flight, and forgets it', async () => {
    const flights = new SingleFlight<number>();
    const held = gate<number>();
    const first = flights.do('k', () => held.promise);
    const second = flights.do('k', () => Promise.resolve(1));
    held.reject(new Error('provider down'));
    await expect(first).rejects.toThrow('provider down');
    await expect(second).rejects.toThrow('provider down');
    expect(flights.size).toBe(0);
  });

  it('keeps different keys apart', async () => {
    const flights = new SingleFlight<string>();
    const [a, b] = await Promise.all([flights.do('a', async () => 'A'), flights.do('b', async () => 'B')]);
    expect([a, b]).toEqual([
      { value: 'A', shared: false },
      { value: 'B', shared: false },
    ]);
  });
});
