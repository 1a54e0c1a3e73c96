import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ServiceError } from '@sps/contracts';

const WINDOW_SECONDS = 3600;

/**
 * Per-key hourly limit (the key's `rate_limit_per_hour`) counted in Redis with
 * rate-limiter-flexible, so every API instance shares the count. While Redis is down an
 * in-memory limiter per instance takes over: limits loosen, requests keep flowing.
 */
export const rateLimit = fp<{ redis: Redis }>(async (app, { redis }) => {
  const limiters = new Map<number, RateLimiterRedis>();
  const limiterFor = (points: number) => {
    let limiter = limiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: redis,
        useRedisPackage: false,
        keyPrefix: `sps:rl:${points}`,
        points,
        duration: WINDOW_SECONDS,
        insuranceLimiter: new RateLimiterMemory({
          points,
          duration: WINDOW_SECONDS,
          keyPrefix: `sps:rl-mem:${points}`,
        }),
      });
      limiters.set(points, limiter);
    }
    return limiter;
  };

  app.addHook('onRequest', async (request, reply) => {
    if (!request.principal) return; // unknown route
    const limit = request.principal.rateLimitPerHour;
    try {
      const state = await limiterFor(limit).consume(request.principal.apiKeyId);
      setHeaders(reply, limit, state);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      setHeaders(reply, limit, rejection);
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      reply.header('retry-after', retryAfter);
      throw new ServiceError(
        'RATE_LIMIT_EXCEEDED',
        `rate limit of ${limit} requests per hour exceeded; retry in ${retryAfter} s`,
        {
          limit,
          retry_after_seconds: retryAfter,
        },
      );
    }
  });
});

function setHeaders(reply: FastifyReply, limit: number, state: RateLimiterRes): void {
  reply.header('ratelimit-limit', limit);
  reply.header('ratelimit-remaining', Math.max(0, state.remainingPoints));
  reply.header('ratelimit-reset', Math.ceil(state.msBeforeNext / 1000));
}
