import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultMessage } from '@sps/contracts';
import { createDatabase, migrateToLatest } from '@sps/db';
import { createProducer } from '@sps/kafka';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';
import { produceRequests, promptRequests } from './kafka-pipeline.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

describe('degrading instead of failing (real Kafka, Postgres, Redis; fake provider)', () => {
  it('pauses the sink while its database refuses connections, then resumes and loses nothing', async () => {
    pipeline = await startPipeline({ apps: ['processor'], latencyMs: 20 });
    // The sink gets a database of its own, so that the outage touches nothing else.
    const database = `sink_${pipeline.prefix.replace(/\W/g, '')}`;
    await sql.raw(`CREATE DATABASE ${database}`).execute(pipeline.db);
    const url = pipeline.endpoints.databaseUrl.replace(/\/[^/]+$/, `/${database}`);
    const sinkDb = createDatabase({ url, poolSize: 2 });
    await migrateToLatest(sinkDb);
    await sinkDb.destroy();
    const sink = await pipeline.spawn('sink', { DATABASE_URL: url });

    const setConnections = async (allow: boolean) => {
      await sql.raw(`ALTER DATABASE ${database} ALLOW_CONNECTIONS ${allow}`).execute(pipeline!.db);
      if (!allow)
        await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database}`.execute(
          pipeline!.db,
        );
    };
    const countRows = async () => {
      const probe = createDatabase({ url, poolSize: 1 });
      try {
        const { rows } = await sql<{ n: string }>`select count(*) as n from request_logs`.execute(probe);
        return Number(rows[0]!.n);
      } finally {
        await probe.destroy();
      }
    };

    const requests = promptRequests(pipeline.tenantId, 600, (i) => `Receipt ${i}: ${i % 9} items`);
    await produceRequests(pipeline.kafka, pipeline.topics.requests, requests.slice(0, 300));
    await waitUntil(async () => ((await countRows()) >= 100 ? true : undefined), 60_000, 'first rows');
    await setConnections(false);
    await produceRequests(pipeline.kafka, pipeline.topics.requests, requests.slice(300));
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(sink.process.exitCode, sink.output().slice(-3000)).toBeNull(); // still running, retrying
    await setConnections(true);
    await waitUntil(
      async () => ((await countRows()) >= 600 ? true : undefined),
      90_000,
      'all rows after the outage',
    );
    expect(await countRows()).toBe(600);
    expect(sink.output()).toMatch(/insert failed; retrying the batch/);
    await sink.stop();
    await sql.raw(`DROP DATABASE ${database} WITH (FORCE)`).execute(pipeline.db);
  });

  it('answers every waiting synchronous call while the processor group rebalances', async () => {
    pipeline = await startPipeline({ latencyMs: 1_500 });
    const calls = Array.from({ length: 40 }, (_, i) =>
      fetch(`${pipeline!.baseUrl}/v1/analyze`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline!.apiKey}` },
        body: JSON.stringify({ prompt: `rebalance ${i} ${Date.now()}`, options: { timeout_ms: 60_000 } }),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await pipeline.spawn('processor'); // joins the group: partitions move while calls wait
    const responses = await Promise.all(calls);
    expect(responses.map((r) => r.status)).toEqual(Array(40).fill(200));
    const bodies = await Promise.all(responses.map(json));
    expect(new Set(bodies.map((b) => b.request_id)).size).toBe(40);
  });
});

describe('sink backlog', () => {
  it('stores a backlog larger than one statement can carry', async () => {
    pipeline = await startPipeline({ apps: [] });
    const producer = createProducer(pipeline.kafka);
    await producer.connect();
    const ids: string[] = [];
    // One partition's worth of 6,000 results: past Postgres's 65,535 parameters for one INSERT.
    for (let batch = 0; batch < 6; batch++) {
      const messages = Array.from({ length: 1_000 }, () => {
        const id = randomUUID();
        ids.push(id);
        const result: ResultMessage = {
          request_id: id,
          tenant_id: pipeline!.tenantId,
          status: 'succeeded',
          prompt: 'backlog',
          request_params: {},
          attempts: [],
          processing_time_ms: 1,
          completed_at: new Date().toISOString(),
        };
        return { key: 'one-partition', value: JSON.stringify(result) };
      });
      await producer.send({ topic: pipeline.topics.results, acks: -1, messages });
    }
    await producer.disconnect();
    await pipeline.spawn('sink');
    const count = async () =>
      Number(
        (
          await sql<{
            n: string;
          }>`select count(*) as n from request_logs where request_id = any(${ids}::uuid[])`.execute(
            pipeline!.db,
          )
        ).rows[0]!.n,
      );
    await waitUntil(async () => ((await count()) >= 6_000 ? true : undefined), 60_000, 'the whole backlog');
    expect(await count()).toBe(6_000);
  });
});
