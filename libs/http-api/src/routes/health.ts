import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

/**
 * Probes one dependency: resolves when it answers. `optional`: its loss degrades the service
 * without making it unready (Redis: rate limits fall back to memory, the response cache is skipped).
 */
export type DependencyCheck = (() => Promise<unknown>) & { optional?: boolean };

const DependencyStates = Type.Record(Type.String(), Type.Union([Type.Literal('up'), Type.Literal('down')]), {
  description: 'each dependency, up or down',
});

const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded')]),
  version: Type.String(),
  dependencies: DependencyStates,
  uptime_seconds: Type.Integer(),
});

const ReadyResponse = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('unavailable')], {
    description:
      'healthy: every dependency up; degraded: an optional one (Redis) down, still serving; ' +
      'unavailable: a required one (Kafka, Postgres) down',
  }),
  ready: Type.Boolean(),
  version: Type.String(),
  dependencies: DependencyStates,
  uptime_seconds: Type.Integer(),
});

const LiveResponse = Type.Object({
  status: Type.Literal('alive'),
  version: Type.String(),
  uptime_seconds: Type.Integer(),
});

/**
 * GET /v1/health: each dependency up or down (seed 5.1); 503 when any is down.
 * GET /v1/health/live: the process answers (liveness: 200 whatever the dependencies).
 * GET /v1/health/ready: whether to send it traffic (readiness): 200 while every required
 * dependency answers (status `degraded` when only an optional one is down), else 503.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{
  version: string;
  checks: Record<string, DependencyCheck>;
}> = async (app, { version, checks }) => {
  const startedAt = Date.now();
  const uptime = () => Math.floor((Date.now() - startedAt) / 1000);
  const probeAll = async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => ({
        name,
        up: await probe(check),
        optional: check.optional === true,
      })),
    );
    return {
      dependencies: Object.fromEntries(
        entries.map((e) => [e.name, e.up ? ('up' as const) : ('down' as const)]),
      ),
      allUp: entries.every((e) => e.up),
      requiredUp: entries.every((e) => e.up || e.optional),
    };
  };

  app.get(
    '/v1/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Each dependency, up or down; 503 when any is down',
        security: [],
        response: {
          200: { ...HealthResponse, description: 'every dependency is up' },
          503: { ...HealthResponse, description: 'a dependency is down' },
        },
      },
    },
    async (_request, reply) => {
      const { dependencies, allUp } = await probeAll();
      return reply.code(allUp ? 200 : 503).send({
        status: allUp ? 'healthy' : 'degraded',
        version,
        dependencies,
        uptime_seconds: uptime(),
      });
    },
  );

  app.get(
    '/v1/health/live',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is up and answering (dependencies are not probed)',
        security: [],
        response: { 200: { ...LiveResponse, description: 'the process is up' } },
      },
    },
    async () => ({ status: 'alive' as const, version, uptime_seconds: uptime() }),
  );

  app.get(
    '/v1/health/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 while Kafka and Postgres answer (Redis down: degraded, still ready)',
        security: [],
        response: {
          200: { ...ReadyResponse, description: 'ready: every required dependency is up' },
          503: { ...ReadyResponse, description: 'not ready: Kafka or Postgres is down' },
        },
      },
    },
    async (_request, reply) => {
      const { dependencies, allUp, requiredUp } = await probeAll();
      return reply.code(requiredUp ? 200 : 503).send({
        status: !requiredUp ? 'unavailable' : allUp ? 'healthy' : 'degraded',
        ready: requiredUp,
        version,
        dependencies,
        uptime_seconds: uptime(),
      });
    },
  );
};

async function probe(check: DependencyCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), 2_000);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
