import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** What a probe answers: `ok` decides the status (200 or 503), `checks` says why. */
export interface HealthReport {
  ok: boolean;
  checks?: Record<string, string>;
}

/**
 * The probes served beside /metrics: `GET /health/live` (is the process worth keeping?) and
 * `GET /health/ready` (may it be counted on for work?). Kubernetes probes these exact paths.
 */
export interface HealthEndpoints {
  live(): HealthReport | Promise<HealthReport>;
  ready(): HealthReport | Promise<HealthReport>;
}

/**
 * A bare /metrics endpoint for apps that have no HTTP server of their own, with the health probes
 * when `health` is given.
 */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = '0.0.0.0',
  health?: HealthEndpoints,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body))
        .catch(() => res.writeHead(500).end());
      return;
    }
    const probe =
      path === '/health/live' ? health?.live : path === '/health/ready' ? health?.ready : undefined;
    if (!probe) {
      res.writeHead(404).end();
      return;
    }
    Promise.resolve()
      .then(() => probe.call(health))
      .catch((error: unknown): HealthReport => ({ ok: false, checks: { probe: String(error) } }))
      .then((report) => {
        const body = JSON.stringify({
          status: report.ok ? 'ok' : 'unavailable',
          checks: report.checks ?? {},
        });
        res
          .writeHead(report.ok ? 200 : 503, {
            'content-type': 'application/json',
            'cache-control': 'no-store',
          })
          .end(body);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
