import fp from 'fastify-plugin';
import { Histogram, type Registry } from 'prom-client';

/** Request counts and durations per route, exposed with everything else at GET /v1/metrics. */
export const httpMetrics = fp<{ registry: Registry }>(async (app, { registry }) => {
  const duration = new Histogram({
    name: 'sps_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/v1/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
});
