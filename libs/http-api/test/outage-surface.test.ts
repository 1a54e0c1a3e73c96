import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaCompiler } from '@sps/llm';
import { createLogger, createMetricsRegistry } from '@sps/observability';
import { buildServer, type ApiServer } from '../src/index.js';
import type { DependencyCheck } from '../src/routes/health.js';

/** A database whose every query fails as a refused connection does, or finds nothing. */
function fakeDatabase(state: { down: boolean; queries: number }) {
  const chain: Record<string, unknown> = {};
  for (const method of ['select', 'where']) chain[method] = () => chain;
  chain.executeTakeFirst = async () => {
    state.queries += 1;
    if (state.down)
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    return undefined;
  };
  return { selectFrom: () => chain } as never;
}

const up = async () => undefined;
const down = async () => Promise.reject(new Error('down'));
const optional = (check: () => Promise<unknown>): DependencyCheck =>
  Object.assign(() => check(), { optional: true });

async function server(state: { down: boolean; queries: number }, checks: Record<string, DependencyCheck>) {
  return buildServer({
    logger: createLogger({ service: 'test', level: 'silent' }),
    db: fakeDatabase(state),
    redis: {} as never,
    pipeline: {} as never,
    registry: createMetricsRegistry('test'),
    healthChecks: checks,
    version: 'test',
    schemaCompiler: new SchemaCompiler(),
  });
}

describe('authentication while the database is away, and failed authentications', () => {
  const state = { down: true, queries: 0 };
  let app: ApiServer;
  beforeAll(async () => {
    app = await server(state, { postgres: up });
  });
  afterAll(() => app.close());

  it('answers an unknown key 503 in the error envelope, with Retry-After, not 401 nor 500', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/analyze',
      headers: { authorization: 'Bearer sk_never_seen' },
      payload: { prompt: 'x' },
    });
    expect(response.statusCode).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(response.json().error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/API keys cannot be checked/),
      request_id: expect.any(String),
    });
  });

  it('limits failed authentications per address: 20 × 401, then 429 with Retry-After, without queries', async () => {
    state.down = false;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the outage backoff
    const statuses: number[] = [];
    let last;
    const before = state.queries;
    for (let i = 0; i < 25; i++) {
      last = await app.inject({
        url: '/v1/jobs/00000000-0000-4000-8000-000000000000',
        headers: { authorization: `Bearer sk_random_${i}` },
        remoteAddress: '198.51.100.7',
      });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([...Array(20).fill(401), ...Array(5).fill(429)]);
    expect(state.queries - before).toBe(20);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect(last!.json().error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    // Another address is not limited.
    const other = await app.inject({
      url: '/v1/jobs/00000000-0000-4000-8000-000000000000',
      headers: { authorization: 'Bearer sk_random_other' },
      remoteAddress: '198.51.100.8',
    });
    expect(other.statusCode).toBe(401);
  });
});

describe('health: live and ready', () => {
  const state = { down: false, queries: 0 };
  it.each([
    ['all up', 200, 'healthy', 200, { postgres: up, kafka: up, redis: optional(up) }],
    ['redis down', 200, 'degraded', 503, { postgres: up, kafka: up, redis: optional(down) }],
    ['kafka down', 503, 'unavailable', 503, { postgres: up, kafka: down, redis: optional(up) }],
    ['postgres down', 503, 'unavailable', 503, { postgres: down, kafka: up, redis: optional(up) }],
  ] as const)('%s: ready %i (%s), /v1/health %i, live 200', async (_, ready, status, health, checks) => {
    const app = await server(state, checks);
    try {
      const readiness = await app.inject({ url: '/v1/health/ready' });
      expect(readiness.statusCode).toBe(ready);
      expect(readiness.json()).toMatchObject({ status, ready: ready === 200 });
      expect(readiness.json().dependencies).toEqual(
        Object.fromEntries(Object.keys(checks).map((name) => [name, expect.stringMatching(/^(up|down)$/)])),
      );
      expect((await app.inject({ url: '/v1/health' })).statusCode).toBe(health);
      const live = await app.inject({ url: '/v1/health/live' });
      expect(live.statusCode).toBe(200);
      expect(live.json()).toMatchObject({ status: 'alive', version: 'test' });
    } finally {
      await app.close();
    }
  });

  it('documents 200 and 503 for both probes', async () => {
    const app = await server(state, { postgres: up });
    try {
      const spec = (await app.inject({ url: '/openapi.json' })).json();
      expect(Object.keys(spec.paths['/v1/health/ready'].get.responses)).toEqual(['200', '503']);
      expect(Object.keys(spec.paths['/v1/health/live'].get.responses)).toEqual(['200']);
      expect(spec.paths['/v1/health/ready'].get.security).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
