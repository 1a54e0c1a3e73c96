import type { Redis } from 'ioredis';

export type CacheOutcome<T> = { status: 'hit'; value: T } | { status: 'miss' } | { status: 'unavailable' };

/**
 * JSON values under a namespaced key with a TTL. Every failure of Redis is reported as
 * `unavailable`, never thrown: without a cache the service is slower, not broken.
 */
export class ResponseCache<T> {
  constructor(
    private readonly redis: Redis,
    private readonly namespace = 'sps:resp:',
  ) {}

  async get(key: string): Promise<CacheOutcome<T>> {
    try {
      const raw = await this.redis.get(this.namespace + key);
      return raw === null ? { status: 'miss' } : { status: 'hit', value: JSON.parse(raw) as T };
    } catch {
      return { status: 'unavailable' };
    }
  }

  async set(key: string, value: T, ttlSeconds: number): Promise<boolean> {
    try {
      await this.redis.set(this.namespace + key, JSON.stringify(value), 'EX', ttlSeconds);
      return true;
    } catch {
      return false;
    }
  }
}
