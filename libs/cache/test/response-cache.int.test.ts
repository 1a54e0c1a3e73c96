import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTestEndpoints, type TestEndpoints } from '@sps/testing';
import { cacheIndexes, createRedis, redisReady, ResponseCache, type Redis } from '../src/index.js';

/** The response cache on a real Redis connection, auto-pipelined as createRedis makes it. */
describe('ResponseCache (real Redis)', () => {
  let endpoints: TestEndpoints;
  let redis: Redis;
  let namespace: string;
  let cache: ResponseCache<{ n: number }>;

  beforeAll(async () => {
    endpoints = await resolveTestEndpoints();
    redis = createRedis(endpoints.redisUrl);
    await redisReady(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await endpoints?.release();
  });

  const fresh = () => {
    namespace = `test:resp:${randomBytes(4).toString('hex')}:`;
    cache = new ResponseCache(redis, namespace);
  };

  it('stores an entry with its TTL, filed under each of its indexes for the longest TTL', async () => {
    fresh();
    const stored = await cache.set('k1', { n: 1 }, 120, cacheIndexes('t1', { schema: 's' }));
    expect(stored).toBe(true);
    expect(await cache.get('k1')).toEqual({ status: 'hit', value: { n: 1 } });
    expect(await redis.ttl(`${namespace}k1`)).toBeGreaterThan(115);
    expect(await redis.ttl(`${namespace}k1`)).toBeLessThanOrEqual(120);
    for (const index of ['tenant:t1', 'tenant:t1:schema:s']) {
      expect(await redis.smembers(`${namespace}index:${index}`)).toEqual(['k1']);
      expect(await redis.ttl(`${namespace}index:${index}`)).toBeGreaterThan(86_390);
    }
  });

  it('purges by index only what was filed under it', async () => {
    fresh();
    await cache.set('a', { n: 1 }, 60, cacheIndexes('t1', { schema: 's' }));
    await cache.set('b', { n: 2 }, 60, cacheIndexes('t1'));
    await cache.set('c', { n: 3 }, 60, cacheIndexes('t2', { schema: 's' }));
    expect(await cache.purge('tenant:t1:schema:s')).toBe(1);
    expect((await cache.get('a')).status).toBe('miss');
    expect((await cache.get('b')).status).toBe('hit');
    expect((await cache.get('c')).status).toBe('hit'); // another tenant's, same schema name
    expect(await cache.purge('tenant:t1')).toBe(1); // `a` is already gone
    expect((await cache.get('b')).status).toBe('miss');
    expect((await cache.get('c')).status).toBe('hit');
  });

  it('stores, in one tick, as many entries as are written, and again after Redis forgot its scripts', async () => {
    fresh();
    const writes = (from: number) =>
      Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          cache.set(`k${from + i}`, { n: from + i }, 60, cacheIndexes('t1')),
        ),
      );
    expect(await writes(0)).toEqual(Array(50).fill(true));
    await redis.script('FLUSH'); // as after a restart or a failover: EVALSHA answers NOSCRIPT
    expect(await writes(50)).toEqual(Array(50).fill(true));
    expect(await redis.scard(`${namespace}index:tenant:t1`)).toBe(100);
    expect(await cache.get('k99')).toEqual({ status: 'hit', value: { n: 99 } });
  });

  it('reports a write it could not make as not stored, never throws', async () => {
    const down = createRedis('redis://127.0.0.1:1');
    const unreachable = new ResponseCache<{ n: number }>(down, 'test:down:');
    expect(await unreachable.set('k', { n: 1 }, 60, cacheIndexes('t1'))).toBe(false);
    expect(await unreachable.get('k')).toEqual({ status: 'unavailable' });
    down.disconnect();
  });
});
