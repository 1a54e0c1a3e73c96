import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '@sps/contracts';
import { createProducer, headerValue } from '@sps/kafka';
import { freePort } from '@sps/testing';
import { startPipeline, waitForPort, waitUntil, type Pipeline } from './harness.js';
import {
  ResultsFollower,
  collectResults,
  committedLag,
  produceRequests,
  promptRequests,
  waitForCommitted,
} from './kafka-pipeline.js';

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
    const total = 2_000;
    const maxInFlight = 100;
    // 2,000 calls of 300 ms, 100 at a time: about 6 s of work, so the kill below lands mid-run, and
    // each call outlasts the time the kill takes to reach the fake provider as closed connections.
    pipeline = await startPipeline({
      apps: ['sink'],
      latencyMs: 300,
      env: { PROCESSOR_MAX_IN_FLIGHT: String(maxInFlight) },
    });
    const first = await pipeline.spawn('processor');
    const requests = promptRequests(pipeline.tenantId, total, (i) => `Invoice line ${i}: ${i % 7} widgets`);
    const ids = requests.map((r) => r.request_id);
    await produceRequests(pipeline.kafka, pipeline.topics.requests, requests);
    await waitUntil(
      async () => (pipeline!.fake.calls >= total / 4 ? true : undefined),
      60_000,
      'a quarter of the provider calls',
      5,
    );
    const callsAtKill = pipeline.fake.calls;
    const waitingAtKill = pipeline.fake.callsInProgress;
    first.process.kill('SIGKILL');
    await first.exited;
    // The kill hit work in flight: calls were waiting at the provider, most of the work was still to do.
    expect(waitingAtKill).toBeGreaterThan(0);
    expect(callsAtKill).toBeLessThan(total);
    // Calls the kill cut off never got their answer to the processor: they must be made again.
    await waitUntil(
      async () => (pipeline!.fake.callsInProgress === 0 ? true : undefined),
      10_000,
      'the killed processor’s connections to close',
      10,
    );
    const cutOff = pipeline.fake.callsAbandoned;
    expect(cutOff).toBeGreaterThan(0);

    await pipeline.spawn('processor');
    await waitUntil(
      async () => ((await rowsFor(pipeline!, ids)) >= total ? true : undefined),
      120_000,
      'all rows',
    );
    // Once the group has committed everything, no redelivery (and so no further call) can follow.
    await waitForCommitted(pipeline.kafka, pipeline.env.PROCESSOR_GROUP_ID!, pipeline.topics.requests);
    expect(await rowsFor(pipeline, ids)).toBe(total); // request_id is unique: one row each, none lost

    const callsPerPrompt = new Map<string, number>();
    for (const { prompt } of pipeline.fake.requests)
      callsPerPrompt.set(prompt, (callsPerPrompt.get(prompt) ?? 0) + 1);
    expect(requests.filter((r) => !callsPerPrompt.has(r.prompt)).map((r) => r.prompt)).toEqual([]);
    const repeated = pipeline.fake.calls - total;
    console.log(
      `SIGKILL after ${callsAtKill} calls (${waitingAtKill} waiting, ${cutOff} cut off): ` +
        `${pipeline.fake.calls} provider calls for ${total} requests, ${repeated} repeated (bound ${maxInFlight})`,
    );
    // Finished work is committed or cached, so only work in flight at the kill is redone: every
    // cut-off call once more, and never more than the processor holds in flight.
    expect(repeated).toBeGreaterThanOrEqual(cutOff);
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
          reason: headerValue(message.headers, DLQ_HEADERS.reason),
          code: headerValue(message.headers, DLQ_HEADERS.errorCode),
          value: message.value!.toString(),
        });
      },
    });
    await waitUntil(async () => (letters.length >= 2 ? true : undefined), 30_000, 'two dead letters');
    await consumer.disconnect();
    expect(letters.map((l) => l.code)).toEqual(['CONTRACT_VIOLATION', 'CONTRACT_VIOLATION']);
    expect(letters[0]!.reason).toMatch(/not JSON/);
    expect(letters[1]!.reason).toMatch(/prompt/);
    expect(letters[0]!.value).toBe('this is {not json'); // the refused record as it was read
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
    await waitForPort(port);
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
    await waitForPort(port);
    // The processor's client reconnects by itself, on its own backoff: ask fresh questions until
    // a repeat is served from the cache again.
    let round = 0;
    await waitUntil(
      async () => {
        const prompt = `cached after the outage (${round++})`;
        expect((await ask(prompt)).output?.cached).toBe(false);
        return (await ask(prompt)).output?.cached ? true : undefined;
      },
      30_000,
      'caching again after the outage',
      200,
    );
    await follower.stop();
  });

  it('on SIGTERM under load finishes in-flight work, commits it, and loses nothing', async () => {
    const total = 1_500;
    // 1,500 calls of 200 ms, 200 at a time: about 1.5 s of work, so the SIGTERM below lands mid-run.
    pipeline = await startPipeline({
      apps: ['sink'],
      latencyMs: 200,
      env: { PROCESSOR_MAX_IN_FLIGHT: '200' },
    });
    const first = await pipeline.spawn('processor');
    const requests = promptRequests(pipeline.tenantId, total, (i) => `Shipment ${i}: ${i % 5} pallets`);
    const ids = requests.map((r) => r.request_id);
    await produceRequests(pipeline.kafka, pipeline.topics.requests, requests);
    await waitUntil(
      async () => (pipeline!.fake.calls >= total / 5 ? true : undefined),
      60_000,
      'a fifth of the provider calls',
      5,
    );
    const callsAtTerm = pipeline.fake.calls;
    const waitingAtTerm = pipeline.fake.callsInProgress;
    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/stopped cleanly/);
    // The signal hit work in flight, and every call then waiting was answered before the exit.
    expect(waitingAtTerm).toBeGreaterThan(0);
    expect(callsAtTerm).toBeLessThan(total);
    expect(pipeline.fake.callsAbandoned).toBe(0);
    // What it committed is exactly what it finished: each request it started made one call and
    // finished within the grace period, and nothing past that was committed.
    const callsBeforeTakeover = pipeline.fake.calls;
    expect(callsBeforeTakeover).toBeLessThan(total);
    const lag = await committedLag(
      pipeline.kafka,
      pipeline.env.PROCESSOR_GROUP_ID!,
      pipeline.topics.requests,
    );
    expect(total - lag).toBe(callsBeforeTakeover);

    await pipeline.spawn('processor');
    await waitUntil(
      async () => ((await rowsFor(pipeline!, ids)) >= total ? true : undefined),
      120_000,
      'all rows',
    );
    await waitForCommitted(pipeline.kafka, pipeline.env.PROCESSOR_GROUP_ID!, pipeline.topics.requests);
    const repeated = pipeline.fake.calls - total;
    console.log(
      `SIGTERM after ${callsAtTerm} calls (${waitingAtTerm} waiting): ${callsBeforeTakeover} calls before take-over, ${pipeline.fake.calls} in all, ${repeated} repeated`,
    );
    expect(await rowsFor(pipeline, ids)).toBe(total);
    const prompts = pipeline.fake.requests.map((r) => r.prompt);
    expect(new Set(prompts).size).toBe(total); // every request called the provider...
    expect(repeated).toBe(0); // ...exactly once
  });
});
