import { describe, expect, it } from 'vitest';
import type { AuthenticatedKey } from '@sps/db';
import { KeyCache, isUnavailable, type KeyCacheOptions } from '../src/plugins/key-cache.js';

const KEY: AuthenticatedKey = { apiKeyId: 'k1', tenantId: 't1', name: 'main', rateLimitPerHour: 1000 };
const CLIENT = '203.0.113.9';

/** A connection refused, as pg reports it (no SQLSTATE). */
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
/** ALTER DATABASE ... ALLOW_CONNECTIONS false, as Postgres reports it. */
const notAccepting = () =>
  Object.assign(new Error('database "x" is not currently accepting connections'), {
    code: '55000',
    severity: 'FATAL',
  });

/** A KeyCache over a scripted database and a clock the test moves. */
function setup(options: Partial<KeyCacheOptions> = {}) {
  const state = {
    now: 1_000_000,
    keys: new Map<string, AuthenticatedKey>([['good', KEY]]),
    down: undefined as (() => Error) | undefined,
    hang: false,
    queries: 0,
    errors: [] as { unavailable: boolean }[],
  };
  const cache = new KeyCache({
    now: () => state.now,
    lookup: async (hash) => {
      state.queries += 1;
      if (state.hang) return new Promise(() => {});
      if (state.down) throw state.down();
      return state.keys.get(hash);
    },
    onLookupError: (_error, unavailable) => state.errors.push({ unavailable }),
    ...options,
  });
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return { state, cache, flush };
}

describe('KeyCache: valid keys', () => {
  it('looks a key up once per ttl', async () => {
    const { state, cache } = setup();
    expect(await cache.authenticate('good', CLIENT)).toEqual({ kind: 'valid', key: KEY, stale: false });
    state.now += 10_000;
    expect(await cache.authenticate('good', CLIENT)).toMatchObject({ kind: 'valid' });
    expect(state.queries).toBe(1);
  });

  it('refreshes a hot key in the background past half its ttl, and drops it once revoked', async () => {
    const { state, cache, flush } = setup();
    await cache.authenticate('good', CLIENT);
    state.now += 16_000;
    state.keys.delete('good'); // revoked
    // Still fresh: answered at once from the cache, the refresh runs behind it.
    expect(await cache.authenticate('good', CLIENT)).toMatchObject({ kind: 'valid' });
    await flush();
    expect(state.queries).toBe(2);
    expect(await cache.authenticate('good', CLIENT)).toEqual({ kind: 'unknown' });
  });

  it('looks an expired entry up again: a revoked key stops working within the ttl', async () => {
    const { state, cache } = setup();
    await cache.authenticate('good', CLIENT);
    state.keys.delete('good');
    state.now += 30_000;
    expect(await cache.authenticate('good', CLIENT)).toEqual({ kind: 'unknown' });
  });

  it('shares one lookup between concurrent requests for the same key', async () => {
    const { state, cache } = setup();
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => cache.authenticate('good', CLIENT)));
    expect(verdicts.every((v) => v.kind === 'valid')).toBe(true);
    expect(state.queries).toBe(1);
  });
});

describe('KeyCache: the database away', () => {
  it.each([
    ['refusing connections', refused],
    ['not accepting connections', notAccepting],
  ])('serves a known key stale while the database is %s', async (_, failure) => {
    const { state, cache } = setup();
    await cache.authenticate('good', CLIENT);
    state.now += 45_000; // past the ttl
    state.down = failure;
    expect(await cache.authenticate('good', CLIENT)).toEqual({ kind: 'valid', key: KEY, stale: true });
    expect(state.errors).toEqual([{ unavailable: true }]);
    // Within the backoff, no request waits for a lookup again.
    expect(await cache.authenticate('good', CLIENT)).toMatchObject({ kind: 'valid', stale: true });
    expect(state.queries).toBe(2);
    // Back: the next lookup after the backoff refreshes it.
    state.down = undefined;
    state.now += 1_000;
    expect(await cache.authenticate('good', CLIENT)).toEqual({ kind: 'valid', key: KEY, stale: false });
    expect(state.queries).toBe(3);
  });

  it('answers an unknown key unavailable, not unknown, and does not count it as a failure', async () => {
    const { state, cache } = setup({ failureLimit: 2 });
    state.down = refused;
    for (let i = 0; i < 5; i++)
      expect(await cache.authenticate(`random-${i}`, CLIENT)).toEqual({
        kind: 'unavailable',
        retryAfterSeconds: 1,
      });
    // One lookup found the database away; the others, within the backoff, did not query.
    expect(state.queries).toBe(1);
    state.down = undefined;
    state.now += 1_000;
    expect(await cache.authenticate('good', CLIENT)).toMatchObject({ kind: 'valid' });
  });

  it('treats a lookup that does not answer in time as the database being away', async () => {
    const { state, cache } = setup({ lookupTimeoutMs: 20 });
    state.hang = true;
    expect(await cache.authenticate('good', CLIENT)).toMatchObject({ kind: 'unavailable' });
  });

  it('stops serving a stale key after maxStaleMs', async () => {
    const { state, cache } = setup({ maxStaleMs: 60_000 });
    await cache.authenticate('good', CLIENT);
    state.down = refused;
    state.now += 30_000 + 59_000;
    expect(await cache.authenticate('good', CLIENT)).toMatchObject({ kind: 'valid', stale: true });
    state.now += 2_000;
    expect(await cache.authenticate('good', CLIENT)).toMatchObject({ kind: 'unavailable' });
  });

  it('lets a query error that is not an outage through (a bug is a 500)', async () => {
    const { state, cache } = setup();
    state.down = () =>
      Object.assign(new Error('column "x" does not exist'), { code: '42703', severity: 'ERROR' });
    await expect(cache.authenticate('good', CLIENT)).rejects.toThrow(/column "x"/);
    expect(state.errors).toEqual([{ unavailable: false }]);
  });
});

describe('KeyCache: failed authentications', () => {
  it('remembers an unknown key briefly: a repeated wrong key costs one query', async () => {
    const { state, cache } = setup();
    expect(await cache.authenticate('wrong', CLIENT)).toEqual({ kind: 'unknown' });
    expect(await cache.authenticate('wrong', CLIENT)).toEqual({ kind: 'unknown' });
    expect(state.queries).toBe(1);
    state.now += 5_000;
    state.keys.set('wrong', KEY); // created since
    expect(await cache.authenticate('wrong', CLIENT)).toMatchObject({ kind: 'valid' });
    expect(state.queries).toBe(2);
  });

  it('limits failures per client: random tokens cost at most the limit in queries, then 429', async () => {
    const { state, cache } = setup();
    const verdicts = [];
    for (let i = 0; i < 25; i++) verdicts.push(await cache.authenticate(`random-${i}`, CLIENT));
    expect(verdicts.slice(0, 20).every((v) => v.kind === 'unknown')).toBe(true);
    expect(verdicts.slice(20)).toEqual(Array(5).fill({ kind: 'limited', retryAfterSeconds: 60 }));
    expect(state.queries).toBe(20);
    // Another client is not affected; a cached valid key is served even to the limited one.
    expect(await cache.authenticate('random-x', '198.51.100.1')).toEqual({ kind: 'unknown' });
    state.now += 30_000;
    expect(await cache.authenticate('random-y', CLIENT)).toEqual({ kind: 'limited', retryAfterSeconds: 30 });
    // The window ends: the client may try again.
    state.now += 30_000;
    expect(await cache.authenticate('random-z', CLIENT)).toEqual({ kind: 'unknown' });
  });

  it('serves a known key to a client that has failed too often', async () => {
    const { cache } = setup({ failureLimit: 1 });
    await cache.authenticate('good', CLIENT);
    expect(await cache.authenticate('wrong', CLIENT)).toEqual({ kind: 'unknown' });
    expect(await cache.authenticate('wrong', CLIENT)).toMatchObject({ kind: 'limited' });
    expect(await cache.authenticate('good', CLIENT)).toMatchObject({ kind: 'valid' });
  });

  it('bounds its memory: the oldest entries go first', async () => {
    const { state, cache } = setup({ maxEntries: 3, failureLimit: 1_000 });
    for (let i = 0; i < 10; i++) await cache.authenticate(`random-${i}`, `client-${i}`);
    const queries = state.queries;
    await cache.authenticate('random-9', 'client-9'); // still remembered
    expect(state.queries).toBe(queries);
    await cache.authenticate('random-0', 'client-0'); // forgotten: looked up again
    expect(state.queries).toBe(queries + 1);
  });
});

describe('isUnavailable', () => {
  it.each([
    [refused(), true],
    [notAccepting(), true],
    [new Error('timeout exceeded when trying to connect'), true],
    [new Error('Connection terminated unexpectedly'), true],
    [Object.assign(new Error('terminating connection'), { code: '57P01', severity: 'FATAL' }), true],
    [Object.assign(new Error('too many clients'), { code: '53300', severity: 'FATAL' }), true],
    [Object.assign(new Error('syntax error'), { code: '42601', severity: 'ERROR' }), false],
  ])('%s → %s', (error, expected) => {
    expect(isUnavailable(error)).toBe(expected);
  });
});
