import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiKey, createDatabase, migrateToLatest } from '@sps/db';
import type { RunningService } from '@sps/testing';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

/** A GET from a given local address (127.0.0.2 is loopback too), so the API sees another client. */
function getFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('outages degrade, never 500 (real Kafka, Postgres, Redis; fake provider)', () => {
  it('serves known keys, answers 503/429 and reports not ready while the API database refuses connections', async () => {
    pipeline = await startPipeline({ apps: ['processor'] });
    // The ingest API gets a database of its own, so that the outage touches nothing else (the
    // processor uses none; no sink runs: the results it would store are not what is tested).
    const database = `api_${pipeline.prefix.replace(/\W/g, '')}`;
    await sql.raw(`CREATE DATABASE ${database}`).execute(pipeline.db);
    const setConnections = async (allow: boolean) => {
      await sql.raw(`ALTER DATABASE ${database} ALLOW_CONNECTIONS ${allow}`).execute(pipeline!.db);
      if (!allow)
        await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database}`.execute(
          pipeline!.db,
        );
    };
    let api: RunningService | undefined;
    try {
      const url = pipeline.endpoints.databaseUrl.replace(/\/[^/]+$/, `/${database}`);
      const apiDb = createDatabase({ url, poolSize: 1 });
      let key: string;
      try {
        await migrateToLatest(apiDb);
        ({ key } = await createApiKey(apiDb, { tenant: `outage-${pipeline.prefix}`, name: 'e2e' }));
      } finally {
        await apiDb.destroy();
      }
      api = await pipeline.spawn('ingest-api', { DATABASE_URL: url });
      const base = pipeline.baseUrl;
      const analyze = (bearer: string, prompt: string) =>
        fetch(`${base}/v1/analyze`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
          body: JSON.stringify({ prompt }),
        });
      const status = async (path: string) => (await fetch(`${base}${path}`)).status;
      const timed = async <T>(run: () => Promise<T>) => {
        const started = performance.now();
        const value = await run();
        return { value, ms: Math.round(performance.now() - started) };
      };

      // Before: the known key is used once (and so cached); ready and live.
      const first = await analyze(key, 'Order 1: two apples');
      expect(first.status, await first.clone().text()).toBe(200);
      const cachedAt = Date.now();
      expect(await status('/v1/health/ready')).toBe(200);
      expect(await status('/v1/health/live')).toBe(200);

      // The database goes away.
      await setConnections(false);
      const awayAt = Date.now();
      const notReady = await waitUntil(
        async () => {
          const response = await fetch(`${base}/v1/health/ready`);
          return response.status === 503 ? json(response) : undefined;
        },
        10_000,
        'ready to say 503',
      );
      const notReadyMs = Date.now() - awayAt;
      expect(notReady).toMatchObject({ status: 'unavailable', ready: false });
      expect(notReady.dependencies).toMatchObject({ postgres: 'down', kafka: 'up', redis: 'up' });
      expect(await status('/v1/health/live')).toBe(200);

      // An unknown key: 503 in the envelope (the key may be valid), never 401 or 500.
      const unknown = await timed(() => analyze(`sk_${randomBytes(24).toString('base64url')}`, 'x'));
      expect(unknown.value.status).toBe(503);
      expect(Number(unknown.value.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await json(unknown.value)).error).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        request_id: expect.any(String),
        timestamp: expect.any(String),
      });

      // The known key keeps working, past the cache's 30 s ttl too (served stale: a lookup is
      // tried, finds the database away, and the cached key is used).
      expect((await analyze(key, 'Order 2: three pears')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cachedAt + 31_000 - Date.now())));
      const failedLookups = () =>
        api!.output().split('API key lookup failed: database unavailable').length - 1;
      const failedBefore = failedLookups();
      const stale = await timed(() => analyze(key, 'Order 3: four plums'));
      expect(stale.value.status, await stale.value.clone().text()).toBe(200);
      expect((await json(stale.value)).request_id).toEqual(expect.any(String));
      // It was looked up (the entry had expired), the lookup failed, the cached key was served.
      await waitUntil(
        async () => (failedLookups() > failedBefore ? true : undefined),
        2_000,
        'the failed lookup',
      );
      expect(await status('/v1/health/ready')).toBe(503);
      expect(await status('/v1/health/live')).toBe(200);

      // Back: ready again, keys looked up again.
      await setConnections(true);
      const backAt = Date.now();
      await waitUntil(
        async () => ((await status('/v1/health/ready')) === 200 ? true : undefined),
        15_000,
        'ready to say 200',
      );
      const readyAgainMs = Date.now() - backAt;
      await new Promise((resolve) => setTimeout(resolve, 1_200)); // past the lookup backoff
      expect((await analyze(key, 'Order 4: five figs')).status).toBe(200);

      // 25 random tokens from one address: 401 up to the limit (20 a minute), then 429.
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof getFrom>> | undefined;
      const burst = await timed(async () => {
        for (let i = 0; i < 25; i++) {
          last = await getFrom('127.0.0.2', `${base}/v1/jobs/00000000-0000-4000-8000-000000000000`, {
            authorization: `Bearer sk_${randomBytes(24).toString('base64url')}`,
          });
          statuses.push(last.status);
        }
      });
      expect(statuses).toEqual([...Array(20).fill(401), ...Array(5).fill(429)]);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(JSON.parse(last!.body).error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
      // Another address is not affected, nor is a known key.
      expect((await analyze(`sk_${randomBytes(24).toString('base64url')}`, 'x')).status).toBe(401);
      expect((await analyze(key, 'Order 5: six limes')).status).toBe(200);

      console.log(
        `outage: ready 503 after ${notReadyMs} ms, 200 again ${readyAgainMs} ms after the database returned; ` +
          `unknown key 503 in ${unknown.ms} ms; known key past its ttl 200 in ${stale.ms} ms; ` +
          `25 random tokens in ${burst.ms} ms (${statuses.filter((s) => s === 429).length} × 429)`,
      );
    } finally {
      // Whatever the outcome: the database accepts connections again, the API lets go, it is dropped.
      await setConnections(true).catch(() => undefined);
      await api?.stop();
      await sql.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).execute(pipeline.db);
    }
  });
});
