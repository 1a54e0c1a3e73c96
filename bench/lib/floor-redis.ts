// The Redis part of the floor benchmark (bench/floor.ts): GET round trips through ioredis, with the
// connection settings of libs/cache (createRedis), on the stack's Redis.
import { randomBytes } from 'node:crypto';
import { createRedis } from '@sps/cache';
import { log } from './env.js';
import { fmt, nowUs, summariseUs, type LatencySummary } from './floor-stats.js';

export interface RedisFloorResult {
  settings: string;
  value_bytes: number;
  /** one GET at a time */
  sequential: LatencySummary;
  /** `concurrency` callers, each sending its next GET when the previous answer arrives */
  concurrent: LatencySummary & { concurrency: number; requests_per_s: number; duration_s: number };
}

export async function measureRedisFloor(
  url: string,
  options: { sequential: number; warmup: number; concurrency: number; durationS: number; valueBytes: number },
): Promise<RedisFloorResult> {
  const redis = createRedis(url);
  const key = `bench-floor-${randomBytes(3).toString('hex')}`;
  try {
    await new Promise<void>((resolve, reject) => {
      if (redis.status === 'ready') resolve();
      redis.once('ready', resolve);
      redis.once('end', () => reject(new Error('redis connection ended')));
    });
    await redis.set(key, 'x'.repeat(options.valueBytes), 'EX', 600);
    for (let i = 0; i < options.warmup; i++) await redis.get(key);

    const sequential: number[] = [];
    for (let i = 0; i < options.sequential; i++) {
      const t0 = nowUs();
      await redis.getBuffer(key);
      sequential.push(nowUs() - t0);
    }
    const seq = summariseUs(sequential);
    log(`redis GET sequential: ${fmt(seq)}`);

    const concurrent: number[] = [];
    const until = performance.now() + options.durationS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < until) {
          const t0 = nowUs();
          await redis.getBuffer(key);
          concurrent.push(nowUs() - t0);
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const conc = {
      ...summariseUs(concurrent),
      concurrency: options.concurrency,
      requests_per_s: Math.round(concurrent.length / elapsedS),
      duration_s: Math.round(elapsedS * 100) / 100,
    };
    log(`redis GET x${options.concurrency}: ${conc.requests_per_s} GET/s, ${fmt(conc)}`);
    return {
      settings:
        'libs/cache createRedis (ioredis, enableOfflineQueue false, maxRetriesPerRequest 1, commandTimeout 1000, auto-pipelining: commands of one tick share a write): one connection',
      value_bytes: options.valueBytes,
      sequential: seq,
      concurrent: conc,
    };
  } finally {
    await redis.del(key).catch(() => undefined);
    redis.disconnect();
  }
}
