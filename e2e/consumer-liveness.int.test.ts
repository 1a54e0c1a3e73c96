import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPrivateKafka, type PrivateKafka, type RunningService } from '@sps/testing';
import { startPipeline, waitUntil, type Pipeline } from './harness.js';

/** Status of GET `path` on the app's metrics port, or undefined when nothing answers. */
async function probe(port: number, path: string): Promise<number | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

/**
 * A consumer that gives up for good must not leave an idle process behind: the sink, on a broker
 * of the test's own with a retry budget of 2 (KAFKA_CONSUMER_MAX_RETRIES), loses its broker for
 * good (kill -9, never restarted). Its consumer spends the budget and gives up; the process exits
 * non-zero, through the runtime's one exit path, for a supervisor to restart it. Before that its
 * probes on METRICS_PORT answered: live 200, ready 200 once the group had joined.
 */
describe('consumer liveness (private Kafka killed for good; real Postgres)', () => {
  let broker: PrivateKafka;
  let pipeline: Pipeline;
  let sink: RunningService;
  let metricsPort: number;

  beforeAll(async () => {
    broker = await startPrivateKafka();
    pipeline = await startPipeline({ kafkaBrokers: broker.brokers, apps: [] });
    metricsPort = await freePort();
    sink = await pipeline.spawn('sink', {
      METRICS_PORT: String(metricsPort),
      KAFKA_CONSUMER_MAX_RETRIES: '2',
    });
  }, 180_000);
  afterAll(async () => {
    await sink?.stop('SIGKILL');
    await pipeline?.stop();
    await broker?.destroy();
  });

  it('answers live and ready, then exits non-zero once its consumer has given up', async () => {
    expect(await probe(metricsPort, '/health/live')).toBe(200);
    await waitUntil(
      async () => ((await probe(metricsPort, '/health/ready')) === 200 ? true : undefined),
      15_000,
      '/health/ready to answer 200',
    );
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);

    const killedAt = Date.now();
    await broker.kill(); // and never restarted
    // Still running, but no longer ready: the broker does not answer.
    await waitUntil(
      async () => ((await probe(metricsPort, '/health/ready')) === 503 ? true : undefined),
      20_000,
      '/health/ready to answer 503 without its broker',
    );

    const bound = 150_000;
    const code = await Promise.race([
      sink.exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), bound).unref()),
    ]);
    const output = sink.output();
    expect(code, output.slice(-4_000)).not.toBe('still running');
    expect(code).toBe(1);
    expect(output).toMatch(/consumer gave up/);
    expect(output).toMatch(/exiting: consumer group .*sink gave up/);
    expect(output).not.toMatch(/stopped cleanly/);
    console.info(
      `sink exited ${code} ${Math.round((Date.now() - killedAt) / 1000)} s after the broker was killed`,
    );
  }, 240_000);
});
