import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { createRedis, redisReady, type Redis } from '@sps/cache';
import { NO_KEY_CONTROLS, type AuthenticatedKey } from '@sps/db';
import { resolveTestEndpoints, type TestEndpoints } from '@sps/testing';
import { KeyRateLimiter } from '../src/plugins/rate-limit.js';

/**
 * The rate limit on a real Redis connection shared with other commands (ingest-api's: the edge
 * cache reads on it), with auto-pipelining as libs/cache configures it.
 */
describe('KeyRateLimiter on a shared, auto-pipelined Redis connection', () => {
  let endpoints: TestEndpoints;
  let redis: Redis;

  beforeAll(async () => {
    endpoints = await resolveTestEndpoints();
    redis = createRedis(endpoints.redisUrl);
    await redisReady(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await endpoints?.release();
  });

  it('charges a key with a limit not seen before while a read of the same tick is pipelined (the process used to crash)', async () => {
    const limiter = new KeyRateLimiter(redis);
    const app = Fastify();
    const seen: {
      request: Parameters<KeyRateLimiter['charge']>[0];
      reply: Parameters<KeyRateLimiter['charge']>[1];
    }[] = [];
    app.get('/', async (request, reply) => {
      seen.push({ request, reply });
      return {};
    });
    await app.inject({ url: '/' });
    const { request, reply } = seen[0]!;
    const limits = [7_777, 8_888, 9_999];
    const results = await Promise.all(
      limits.flatMap((limit) => {
        const principal: AuthenticatedKey = {
          apiKeyId: crypto.randomUUID(),
          tenantId: 'acme',
          name: 't',
          rateLimitPerHour: limit,
          controls: { ...NO_KEY_CONTROLS },
        };
        request.principal = principal;
        request.rateLimitPoints = 0;
        // The read opens this tick's pipeline; the charge of a new limit builds its limiter after it.
        const read = redis.get(`sps:test:absent:${principal.apiKeyId}`);
        const charge = limiter.charge(request, reply, 3);
        return [read, charge];
      }),
    );
    expect(results).toHaveLength(6);
    expect(results.filter((value) => value === null)).toHaveLength(3);
    await app.close();
  }, 10_000);
});
