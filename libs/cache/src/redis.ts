import { Redis } from 'ioredis';

export type { Redis };

/**
 * A Redis connection that fails fast while Redis is down (no offline queue, one retry per
 * command) and reconnects forever in the background, so callers can treat "down" as "no cache".
 * Commands issued in the same tick go out as one pipeline (auto-pipelining): the cache lookups of
 * the records a fetched batch hands over together, or of concurrent API calls, cost one round trip.
 */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  });
  // Connection errors surface on each command; an unhandled 'error' event would crash the process.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Resolves once the connection is ready (at once if it is): for tools and tests that need Redis
 * before they start. The apps never wait for it: without Redis they run without a cache.
 */
export function redisReady(redis: Redis): Promise<void> {
  return new Promise((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', resolve)));
}
