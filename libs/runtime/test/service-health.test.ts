import type { AddressInfo } from 'node:net';
import { createMetricsRegistry, startMetricsServer } from '@sps/observability';
import { describe, expect, it } from 'vitest';
import { ServiceHealth } from '../src/index.js';

describe('ServiceHealth', () => {
  it('is live at once and ready only once started, with every required check up', async () => {
    const health = new ServiceHealth(200);
    let postgresUp = true;
    health.addCheck('postgres', async () => {
      if (!postgresUp) throw new Error('refused');
    });
    health.addCheck(
      'redis',
      Object.assign(async () => Promise.reject(new Error('gone')), { optional: true }),
    );
    expect(health.live().ok).toBe(true);
    expect((await health.ready()).ok).toBe(false); // not started
    health.markStarted();
    const ready = await health.ready();
    expect(ready.ok).toBe(true);
    expect(ready.checks).toMatchObject({ postgres: 'up', redis: 'degraded: gone', service: 'started' });
    postgresUp = false;
    expect(await health.ready()).toMatchObject({ ok: false, checks: { postgres: 'down: refused' } });
  });

  it('is not ready while a group restarts, and no longer live once one gave up', async () => {
    const health = new ServiceHealth();
    health.markStarted();
    health.groupStatus('g', 'joined');
    expect((await health.ready()).ok).toBe(true);
    health.groupStatus('g', 'restarting');
    expect((await health.ready()).ok).toBe(false);
    expect(health.live().ok).toBe(true);
    health.groupStatus('g', 'gave-up');
    expect(health.live()).toEqual({ ok: false, checks: { process: 'consumer group g gave up' } });
  });

  it('times out a check that does not answer', async () => {
    const health = new ServiceHealth(50);
    health.addCheck('kafka', () => new Promise(() => undefined));
    health.markStarted();
    expect(await health.ready()).toMatchObject({
      ok: false,
      checks: { kafka: 'down: no answer within 50 ms' },
    });
  });
});

describe('metrics server with health probes', () => {
  it('serves /metrics, /health/live and /health/ready (200 or 503), 404 elsewhere', async () => {
    const health = new ServiceHealth();
    const server = await startMetricsServer(createMetricsRegistry('test'), 0, '127.0.0.1', health);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      const notReady = await fetch(`${base}/health/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ status: 'unavailable', checks: { service: 'starting' } });
      health.markStarted();
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      health.markDead('consumer group g gave up');
      expect((await fetch(`${base}/health/live`)).status).toBe(503);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/health/live`, { method: 'POST' })).status).toBe(405);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
