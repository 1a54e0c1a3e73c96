import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export type DependencyCheck = () => Promise<unknown>;

const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded')]),
  version: Type.String(),
  dependencies: Type.Record(Type.String(), Type.Union([Type.Literal('up'), Type.Literal('down')])),
  uptime_seconds: Type.Integer(),
});

/** GET /v1/health: each dependency up or down (seed 5.1); 503 when any is down. */
export const healthRoutes: FastifyPluginAsyncTypebox<{
  version: string;
  checks: Record<string, DependencyCheck>;
}> = async (app, { version, checks }) => {
  const startedAt = Date.now();
  app.get(
    '/v1/health',
    { schema: { tags: ['health'], security: [], response: { 200: HealthResponse, 503: HealthResponse } } },
    async (_request, reply) => {
      const entries = await Promise.all(
        Object.entries(checks).map(
          async ([name, check]) => [name, (await probe(check)) ? 'up' : 'down'] as const,
        ),
      );
      const dependencies = Object.fromEntries(entries);
      const healthy = entries.every(([, state]) => state === 'up');
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'healthy' : 'degraded',
        version,
        dependencies,
        uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
      });
    },
  );
};

async function probe(check: DependencyCheck): Promise<boolean> {
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000)),
    ]);
    return true;
  } catch {
    return false;
  }
}
