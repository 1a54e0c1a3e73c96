import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADERS } from '@sps/contracts';
import { createProducer, headerValue } from '@sps/kafka';
import { freePort } from '@sps/testing';
import { startPipeline, waitUntil, type Pipeline } from './harness.js';
import { ResultsFollower, collectResults, produceRequests, promptRequests } from './kafka-pipeline.js';

let pipeline: Pipeline | undefined;
const cleanups: (() => void)[] = [];
/** Runs after the test whatever its outcome, so that nothing it started outlives it. */
const stopAfterTest = (cleanup: () => void) => cleanups.push(cleanup);
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await pipeline?.stop();
  pipeline = undefined;
});

async function rowsFor(p: Pipeline, ids: string[]): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from request_logs where request_id = any(${ids}::uuid[])`.execute(p.db);
  return Number(rows[0]!.n);
}

describe('processor at scale (real Kafka, Postgres, Redis; fake provider)', () => {
  it('keeps hundreds of requests of one partition in flight: 500 × 500 ms in under 5 s', async () => {
    pipeline = await startPipeline({
      apps: ['processor'],
      latencyMs: 500,
      partitions: { requests: 1 },
      env: { PROCESSOR_MAX_IN_FLIGHT: '256' },
    });
    const requests = promptRequests(pipeline.tenantId, 500, (i) => `Order ${i}: 3 boxes of item ${i}`);
    const follower = await new ResultsFollower(pipeline.kafka, pipeline.topics.results).start();
    const started = Date.now();
    await produceRequests(pipeline.kafka, pipeline.topics.requests, requests);
    const produced = Date.now() - started;
    await follower.waitForCount(500);
    const elapsed = Date.now() - started;
    await follower.stop();
    console.log(
      `500 requests on one partition at 500 ms each: produced in ${produced} ms, all results in ${elapsed} ms`,
    );
    expect(follower.values().every((r) => r.status === 'succeeded')).toBe(true);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('survives SIGKILL mid-run: exactly one row per request, repeated provider calls within the in-flight bound', async () => {
    const maxInFlight = 100;
    pipeline = await startPipeline({
      apps: ['sink'],
      latencyMs: 50,
      env: { PROCESSOR_MAX_IN_FLIGHT: String(maxInFlight) },
    });
    const first = await pipeline.spawn('processor');
    const requests = promptRequests(pipeline.tenantId, 2_000, (i) => `Invoice line ${i}: ${i % 7} widgets`);
    const ids = requests.map((r) => r.request_id);
    await produceRequests(pipeline.kafka, pipeline.topics.requests, requests);
    await waitUntil(
      async () => ((await rowsFor(pipeline!, ids)) >= 400 ? true : undefined),
      60_000,
      '400 rows',
    );
    first.process.kill('SIGKILL');
    await first.exited;
    await pipeline.spawn('processor');
    await waitUntil(
      async () => ((await rowsFor(pipeline!, ids)) >= 2_000 ? true : undefined),
      120_000,
      'all rows',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // let redelivered duplicates reach the sink
    expect(await rowsFor(pipeline, ids)).toBe(2_000);
    const repeated = pipeline.fake.calls - 2_000;
    console.log(
      `SIGKILL after 400+ rows: ${pipeline.fake.calls} provider calls for 2000 requests, ${repeated} repeated (bound ${maxInFlight})`,
    );
    expect(repeated).toBeGreaterThanOrEqual(0);
    expect(repeated).toBeLessThanOrEqual(maxInFlight);
  });

  it('coalesces 100 identical requests into one provider call and answers all 100', async () => {
    pipeline = await startPipeline({ apps: ['processor'], latencyMs: 300 });
    const question = `The same question, asked a hundred times (${Date.now()})`;
    const requests = promptRequests(pipeline.tenantId, 100, () => question);
    const results = collectResults(pipeline.kafka, pipeline.topics.results, 100);
    await produceRequests(pipeline.kafka, pipeline.topics.requests, requests);
    const received = await results;
    expect(received.size).toBe(100);
    expect([...received.values()].every((r) => r.status === 'succeeded')).toBe(true);
    const computed = [...received.values()].filter((r) => r.attempts.length > 0);
    expect(pipeline.fake.calls, JSON.stringify(computed.map((r) => r.attempts))).toBe(1);
  });

  it('sends bad messages to the DLQ with the reason and processes what follows them on the partition', async () => {
    pipeline = await startPipeline({ apps: ['processor'] });
    const [good] = promptRequests(pipeline.tenantId, 1, () => 'a good request behind two bad ones');
    const producer = createProducer(pipeline.kafka);
    await producer.connect();
    await producer.send({
      topic: pipeline.topics.requests,
      acks: -1,
      messages: [
        { key: 'same-partition', value: 'this is {not json' },
        {
          key: 'same-partition',
          value: JSON.stringify({ request_id: randomUUID(), tenant_id: 't', prompt: '' }),
        },
        { key: 'same-partition', value: JSON.stringify(good) },
      ],
    });
    await producer.disconnect();
    const results = await collectResults(pipeline.kafka, pipeline.topics.results, 2);
    expect(results.get(good!.request_id)?.status).toBe('succeeded');
    const refused = [...results.values()].find((r) => r.request_id !== good!.request_id);
    expect(refused?.error?.code).toBe('CONTRACT_VIOLATION');

    const letters: { reason?: string; code?: string; value: string }[] = [];
    const consumer = pipeline.kafka.consumer({ groupId: `${pipeline.prefix}dlq-reader` });
    await consumer.connect();
    await consumer.subscribe({ topics: [pipeline.topics.requestsDlq], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        letters.push({
          reason: headerValue(message.headers, HEADERS.dlqReason),
          code: headerValue(message.headers, HEADERS.dlqErrorCode),
          value: message.value!.toString(),
        });
      },
    });
    await waitUntil(async () => (letters.length >= 2 ? true : undefined), 30_000, 'two dead letters');
    await consumer.disconnect();
    expect(letters.map((l) => l.code)).toEqual(['CONTRACT_VIOLATION', 'CONTRACT_VIOLATION']);
    expect(letters[0]!.reason).toMatch(/not JSON/);
    expect(letters[1]!.reason).toMatch(/prompt/);
    expect(JSON.parse(letters[0]!.value).original_value).toBe('this is {not json');
  });

  it('keeps answering while Redis is down, and caches again once it is back', async () => {
    const port = await freePort();
    const startRedis = () =>
      spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
    let redis = startRedis();
    stopAfterTest(() => redis.kill('SIGKILL'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    pipeline = await startPipeline({ apps: ['processor'], env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    const follower = await new ResultsFollower(pipeline.kafka, pipeline.topics.results).start();
    const ask = async (prompt: string) => {
      const [request] = promptRequests(pipeline!.tenantId, 1, () => prompt);
      await produceRequests(pipeline!.kafka, pipeline!.topics.requests, [request!]);
      return follower.waitFor(request!.request_id);
    };
    expect((await ask('cached before the outage')).output?.cached).toBe(false);
    expect((await ask('cached before the outage')).output?.cached).toBe(true);

    redis.kill('SIGKILL');
    await new Promise((resolve) => redis.once('exit', resolve));
    const during = await Promise.all([ask('asked during the outage'), ask('asked during the outage too')]);
    expect(during.every((r) => r.status === 'succeeded')).toBe(true);

    redis = startRedis();
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the client reconnects by itself
    expect((await ask('cached after the outage')).output?.cached).toBe(false);
    expect((await ask('cached after the outage')).output?.cached).toBe(true);
    await follower.stop();
  });

  it('on SIGTERM under load finishes in-flight work, commits it, and loses nothing', async () => {
    pipeline = await startPipeline({
      apps: ['sink'],
      latencyMs: 200,
      env: { PROCESSOR_MAX_IN_FLIGHT: '200' },
    });
    const first = await pipeline.spawn('processor');
    const requests = promptRequests(pipeline.tenantId, 1_500, (i) => `Shipment ${i}: ${i % 5} pallets`);
    const ids = requests.map((r) => r.request_id);
    await produceRequests(pipeline.kafka, pipeline.topics.requests, requests);
    await waitUntil(
      async () => ((await rowsFor(pipeline!, ids)) >= 300 ? true : undefined),
      60_000,
      '300 rows',
    );
    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/stopped cleanly/);
    const callsBeforeTakeover = pipeline.fake.calls;
    await pipeline.spawn('processor');
    await waitUntil(
      async () => ((await rowsFor(pipeline!, ids)) >= 1_500 ? true : undefined),
      120_000,
      'all rows',
    );
    const repeated = pipeline.fake.calls - 1_500;
    console.log(
      `SIGTERM: ${callsBeforeTakeover} calls before take-over, ${pipeline.fake.calls} in all, ${repeated} repeated`,
    );
    expect(await rowsFor(pipeline, ids)).toBe(1_500);
    expect(repeated).toBe(0);
  });
});
