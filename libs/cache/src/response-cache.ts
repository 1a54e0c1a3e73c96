import type { Redis } from 'ioredis';

// The longest TTL a request may ask for (seed 4.1): index sets live as long as their entries can.
const MAX_TTL_SECONDS = 86_400;

/**
 * An entry and its index entries in one command: KEYS[1] the entry, KEYS[2..] its index sets;
 * ARGV the value, its TTL, the entry's name in the indexes and the indexes' TTL. One command, one
 * reply and one promise a write instead of three (SET, SADD, EXPIRE): the processor writes one per
 * answer. ioredis sends it as EVALSHA and loads the script itself when Redis does not know it.
 */
const STORE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
return 1`;

type StoringRedis = Redis & {
  spsCacheStore(keyCount: number, ...keysThenArgs: (string | number)[]): Promise<unknown>;
};

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
      // No pipeline of its own: the connection auto-pipelines, so the writes of every request
      // finishing in this tick leave in one socket write (an explicit pipeline per write was a write
      // syscall each: ≈ 11 % of the processor's CPU at 256 clients). The script is not a
      // transaction the index entries need (an index naming a key that expired, or a key missing
      // from an index, is harmless); it is one command instead of three.
      await this.storing().spsCacheStore(
        1 + indexes.length,
        this.namespace + key,
        ...indexes.map((index) => this.indexKey(index)),
        JSON.stringify(value),
        ttlSeconds,
        key,
        MAX_TTL_SECONDS,
      );
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

  /**
   * The connection with the store script defined on it: ioredis keeps custom commands per client,
   * and defining it again for another cache on the same connection is harmless. Defined on the
   * first write, not in the constructor: a cache that only reads or purges never needs it.
   */
  private storing(): StoringRedis {
    if (!('spsCacheStore' in this.redis)) this.redis.defineCommand('spsCacheStore', { lua: STORE_SCRIPT });
    return this.redis as StoringRedis;
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
