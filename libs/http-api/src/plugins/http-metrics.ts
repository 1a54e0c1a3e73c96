import fp from 'fastify-plugin';
import { Gauge, Histogram, type Registry } from 'prom-client';

/** Request counts, durations per route and requests in flight, exposed with everything else at GET /v1/metrics. */
export const httpMetrics = fp<{ registry: Registry }>(async (app, { registry }) => {
  const duration = new Histogram({
    name: 'sps_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'sps_http_requests_in_flight',
    help: 'HTTP requests received and not yet answered (or abandoned)',
    registers: [registry],
  });
  app.addHook('onRequest', async (_request, reply) => {
    inFlight.inc();
    // 'close' comes once per response, answered or abandoned by the client alike.
    reply.raw.once('close', () => inFlight.dec());
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
