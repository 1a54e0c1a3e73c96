import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { scriptedDatabase } from '@sps/testing';
import { NO_KEY_CONTROLS, type AuthenticatedKey, type KeyControls } from '@sps/db';
import { admission } from '../src/plugins/admission.js';
import { errorEnvelope } from '../src/plugins/error-envelope.js';
import { rateLimit } from '../src/plugins/rate-limit.js';

/** A database that knows only request_logs sums: the usage given, or a failure. */
function usageDatabase() {
  const state: { usage: Record<string, string> | Error } = {
    usage: { day_tokens: '0', day_cost: '0', month_tokens: '0', month_cost: '0' },
  };
  const { db, queries } = scriptedDatabase(async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (state.usage instanceof Error) throw state.usage;
    return [state.usage];
  });
  return Object.assign(state, { db, queries });
}

const NOW = new Date('2025-03-14T18:00:00.000Z');
let app: FastifyInstance | undefined;
afterEach(() => app?.close());

async function setup(
  key: { rateLimitPerHour?: number; controls?: Partial<KeyControls> } = {},
  usageCacheMs = 5_000,
) {
  const driver = usageDatabase();
  const db = driver.db;
  const principal: AuthenticatedKey = {
    apiKeyId: crypto.randomUUID(),
    tenantId: 'acme',
    name: 'test',
    rateLimitPerHour: key.rateLimitPerHour ?? 1000,
    controls: { ...NO_KEY_CONTROLS, ...key.controls },
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
  await server.register(admission, { db: db as never, usageCacheMs, now: () => NOW });
  server.post<{ Body: { prompts: number; options?: Record<string, unknown> } }>(
    '/queue',
    async (request, reply) => ({
      options: (await server.admission.admit(request, reply, request.body)) ?? null,
    }),
  );
  server.get('/read', async () => ({ ok: true }));
  const queue = (prompts: number, options?: Record<string, unknown>) =>
    server.inject({ method: 'POST', url: '/queue', payload: { prompts, options } });
  return { server, driver, queue };
}

describe('admission', () => {
  it('charges a request of N prompts N points in all, and refuses whole what does not fit', async () => {
    const { server, queue } = await setup({ rateLimitPerHour: 10 });
    const read = await server.inject({ url: '/read' });
    expect(read.headers['x-ratelimit-remaining']).toBe('9');
    expect(read.headers['ratelimit-remaining']).toBe('9');
    const five = await queue(5);
    expect(five.statusCode).toBe(200);
    expect(five.headers['x-ratelimit-remaining']).toBe('4');
    expect(five.headers['x-ratelimit-limit']).toBe('10');

    const six = await queue(6);
    expect(six.statusCode).toBe(429);
    expect(six.json().error).toMatchObject({
      code: 'RATE_LIMIT_EXCEEDED',
      details: { limit: 10, requested: 6, remaining: 3 },
    });
    expect(Number(six.headers['retry-after'])).toBeGreaterThan(3500);
    expect(six.headers['x-ratelimit-remaining']).toBe('3'); // its own point only

    const three = await queue(3);
    expect(three.statusCode).toBe(200);
    expect(three.headers['x-ratelimit-remaining']).toBe('0');
  });

  it('refuses, without Retry-After, a request larger than the hourly limit itself', async () => {
    const { queue } = await setup({ rateLimitPerHour: 10 });
    const big = await queue(11);
    expect(big.statusCode).toBe(429);
    expect(big.headers['retry-after']).toBeUndefined();
    expect(big.json().error.details).toEqual({ limit: 10, requested: 11 });
    expect(big.headers['x-ratelimit-remaining']).toBe('9');
  });

  it('checks the allowlists first: 403 FORBIDDEN, nothing charged beyond the request', async () => {
    const { queue, driver } = await setup({
      rateLimitPerHour: 100,
      controls: { allowedModels: ['m1', 'm2'], dailyTokenBudget: 10 },
    });
    const refused = await queue(50, { model: 'm3' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      code: 'FORBIDDEN',
      details: { fields: [{ field: 'options.model', reason: 'not allowed for this key; allowed: m1, m2' }] },
    });
    expect(driver.queries).toHaveLength(0);
    const pinned = await queue(1);
    expect(pinned.json()).toEqual({ options: { model: 'm1' } });
    expect(pinned.headers['x-ratelimit-remaining']).toBe('98');
  });

  it('looks usage up only for keys with a budget', async () => {
    const { queue, driver } = await setup({ controls: { allowedProviders: ['openai'] } });
    expect((await queue(3)).json()).toEqual({ options: { provider: 'openai' } });
    expect(driver.queries).toHaveLength(0);
  });

  it('refuses a spent budget with 429 BUDGET_EXCEEDED and Retry-After until the reset, one query per burst', async () => {
    const { queue, driver } = await setup({ controls: { dailyTokenBudget: 1000 } }, 200);
    driver.usage = { day_tokens: '1000', day_cost: '0.5', month_tokens: '1000', month_cost: '0.5' };
    const burst = await Promise.all(Array.from({ length: 5 }, () => queue(1)));
    expect(burst.map((r) => r.statusCode)).toEqual([429, 429, 429, 429, 429]);
    expect(driver.queries).toHaveLength(1);
    // Only the day is read when only a daily budget is set: one indexed range of the key's rows.
    expect(driver.queries[0]!.sql).toContain('"api_key_id" = $');
    expect(driver.queries[0]!.parameters).toContainEqual(new Date('2025-03-14T00:00:00.000Z'));
    const [first] = burst;
    expect(first!.headers['retry-after']).toBe(String(6 * 3600));
    expect(first!.json().error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { budget: 'daily_tokens', limit: 1000, used: 1000, resets_at: '2025-03-15T00:00:00.000Z' },
    });

    // Past the cache lifetime the usage is read again.
    driver.usage = { day_tokens: '999', day_cost: '0', month_tokens: '999', month_cost: '0' };
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await queue(1)).statusCode).toBe(200);
    expect(driver.queries).toHaveLength(2);
  });

  it('reads the month from its first instant when a monthly budget is set', async () => {
    const { queue, driver } = await setup({ controls: { monthlyCostBudgetUsd: 20 } });
    driver.usage = { day_tokens: '0', day_cost: '0', month_tokens: '0', month_cost: '20.000001' };
    const refused = await queue(1);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.details).toMatchObject({
      budget: 'monthly_cost_usd',
      resets_at: '2025-04-01T00:00:00.000Z',
    });
    expect(driver.queries[0]!.parameters).toContainEqual(new Date('2025-03-01T00:00:00.000Z'));
  });

  it('when usage cannot be read: the last usage known decides, else the request is admitted', async () => {
    const { queue, driver } = await setup({ controls: { dailyTokenBudget: 100 } }, 0);
    driver.usage = new Error('database down');
    expect((await queue(1)).statusCode).toBe(200);
    driver.usage = { day_tokens: '150', day_cost: '0', month_tokens: '150', month_cost: '0' };
    expect((await queue(1)).statusCode).toBe(429);
    driver.usage = new Error('database down');
    expect((await queue(1)).statusCode).toBe(429);
  });
});
