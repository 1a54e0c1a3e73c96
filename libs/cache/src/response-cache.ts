import type { Redis } from 'ioredis';

// The longest TTL a request may ask for (seed 4.1): index sets live as long as their entries can.
const MAX_TTL_SECONDS = 86_400;

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

  /** Stores a value, filed under each index so that it can be purged by index later. */
  async set(key: string, value: T, ttlSeconds: number, indexes: string[] = []): Promise<boolean> {
    try {
      // Plain commands, not a pipeline of their own: the connection auto-pipelines, so the writes
      // of every request finishing in this tick leave in one socket write (an explicit pipeline per
      // write was a write syscall each: ≈ 11 % of the processor's CPU at 256 clients). No MULTI
      // either: the index entries need no atomicity (an index naming a key that expired, or a key
      // missing from an index, is harmless).
      const writes: Promise<unknown>[] = [
        this.redis.set(this.namespace + key, JSON.stringify(value), 'EX', ttlSeconds),
      ];
      for (const index of indexes) {
        const indexKey = this.indexKey(index);
        writes.push(this.redis.sadd(indexKey, key), this.redis.expire(indexKey, MAX_TTL_SECONDS));
      }
      await Promise.all(writes);
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes every entry filed under an index; returns how many were removed. */
  async purge(index: string): Promise<number> {
    const keys = await this.redis.smembers(this.indexKey(index));
    let removed = 0;
    for (let i = 0; i < keys.length; i += 500) {
      removed += await this.redis.unlink(...keys.slice(i, i + 500).map((key) => this.namespace + key));
    }
    await this.redis.unlink(this.indexKey(index));
    return removed;
  }

  private indexKey(index: string): string {
    return `${this.namespace}index:${index}`;
  }
}

/** The indexes a tenant's cached answer is filed under: all of the tenant's, and per schema/template name. */
export function cacheIndexes(
  tenantId: string,
  labels: { schema?: string; template?: string } = {},
): string[] {
  return [
    `tenant:${tenantId}`,
    ...(labels.schema ? [`tenant:${tenantId}:schema:${labels.schema}`] : []),
    ...(labels.template ? [`tenant:${tenantId}:template:${labels.template}`] : []),
  ];
}
