import { afterEach, describe, expect, it, vi } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { NO_KEY_CONTROLS, type AuthenticatedKey } from '@sps/db';
import { errorEnvelope } from '../src/plugins/error-envelope.js';
import { rateLimit } from '../src/plugins/rate-limit.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await app?.close();
});

async function setup(rateLimitPerHour: number) {
  const principal: AuthenticatedKey = {
    apiKeyId: crypto.randomUUID(),
    tenantId: 'acme',
    name: 'test',
    rateLimitPerHour,
    controls: { ...NO_KEY_CONTROLS },
  };
  const server = Fastify();
  app = server;
  await server.register(errorEnvelope);
  server.decorateRequest('principal', null as unknown as AuthenticatedKey);
  server.addHook('onRequest', async (request) => {
    request.principal = principal;
  });
  // Redis is down: the in-memory insurance limiter counts (as while Redis is away in production).
  await server.register(rateLimit, { redis: { status: 'end' } as never });
  server.get('/read', async (request) => ({ points: request.rateLimitPoints }));
  return server;
}

describe('rate limit on arrival', () => {
  it('charges the requests of one key arriving together in one call, each answered as if charged alone', async () => {
    const server = await setup(3);
    const consume = vi.spyOn(RateLimiterRedis.prototype, 'consume');
    const answers = await Promise.all(Array.from({ length: 5 }, () => server.inject({ url: '/read' })));
    expect(consume).toHaveBeenCalledTimes(1);
    expect(consume.mock.calls[0]![1]).toBe(5);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429, 429]);
    expect(answers.slice(0, 3).map((a) => a.headers['ratelimit-remaining'])).toEqual(['2', '1', '0']);
    expect(answers.slice(0, 3).map((a) => a.json())).toEqual([{ points: 1 }, { points: 1 }, { points: 1 }]);
    for (const refused of answers.slice(3)) {
      expect(refused.json().error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { limit: 3 } });
      expect(refused.headers['x-ratelimit-remaining']).toBe('0');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
    }
    // A later request is counted on from there (all five points were charged, as one by one).
    const later = await server.inject({ url: '/read' });
    expect(later.statusCode).toBe(429);
    expect(consume).toHaveBeenCalledTimes(2);
  });

  it('answers a request arriving alone as before', async () => {
    const server = await setup(2);
    const first = await server.inject({ url: '/read' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-remaining']).toBe('1');
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect((await server.inject({ url: '/read' })).headers['x-ratelimit-remaining']).toBe('0');
    const third = await server.inject({ url: '/read' });
    expect(third.statusCode).toBe(429);
    expect(third.json().error.message).toMatch(
      /^rate limit of 2 requests per hour exceeded; retry in \d+ s$/,
    );
  });
});
