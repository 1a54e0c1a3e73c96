import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { TOPICS, type ResultMessage } from '@sps/contracts';
import { createDatabase, migrateToLatest } from '@sps/db';
import { createProducer } from '@sps/kafka';
import type { RunningService } from '@sps/testing';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';
import {
  committedLag,
  groupAssignments,
  produceRequests,
  promptRequests,
  topicSize,
  waitForCommitted,
} from './kafka-pipeline.js';

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
    let sink: RunningService | undefined;
    try {
      const url = pipeline.endpoints.databaseUrl.replace(/\/[^/]+$/, `/${database}`);
      const sinkDb = createDatabase({ url, poolSize: 2 });
      try {
        await migrateToLatest(sinkDb);
      } finally {
        await sinkDb.destroy();
      }
      sink = await pipeline.spawn('sink', { DATABASE_URL: url });

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
      // Every result is on the results topic: the sink has work it cannot store.
      await waitUntil(
        async () => ((await topicSize(pipeline!.kafka, pipeline!.topics.results)) >= 600 ? true : undefined),
        60_000,
        'all 600 results on the results topic',
      );
      // Deliberately let time pass with the database refusing: long enough for several failed
      // inserts (the sink backs off 200 ms, 400 ms, 800 ms, …); a sink that gave up would have exited.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(sink.process.exitCode, sink.output().slice(-3000)).toBeNull(); // still running, retrying
      // Paused, not skipping: the results of the 300 requests sent after the refusal cannot have
      // been stored, so none of them may have been committed either.
      const lag = await committedLag(pipeline.kafka, pipeline.env.SINK_GROUP_ID!, pipeline.topics.results);
      expect(lag).toBeGreaterThanOrEqual(300);
      await setConnections(true);
      await waitUntil(
        async () => ((await countRows()) >= 600 ? true : undefined),
        90_000,
        'all rows after the outage',
      );
      expect(await countRows()).toBe(600);
      await waitForCommitted(pipeline.kafka, pipeline.env.SINK_GROUP_ID!, pipeline.topics.results);
    } finally {
      // Whatever the outcome: the sink lets go of the database, which is then dropped.
      await sink?.stop();
      await sql.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).execute(pipeline.db);
    }
  });

  it('answers every waiting synchronous call while the processor group rebalances', async () => {
    // Calls outlast the second processor's start and the rebalance it causes by a wide margin.
    const latencyMs = 10_000;
    pipeline = await startPipeline({ latencyMs });
    const groupId = pipeline.env.PROCESSOR_GROUP_ID!;
    let settled = 0;
    const calls = Array.from({ length: 40 }, (_, i) =>
      fetch(`${pipeline!.baseUrl}/v1/analyze`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline!.apiKey}` },
        body: JSON.stringify({ prompt: `rebalance ${i} ${Date.now()}`, options: { timeout_ms: 60_000 } }),
      }).finally(() => (settled += 1)),
    );
    // All 40 are waiting at the provider, held by the one processor, before the second one starts.
    await waitUntil(
      async () => (pipeline!.fake.callsInProgress >= 40 ? true : undefined),
      30_000,
      'all 40 calls at the provider',
      20,
    );
    const before = await groupAssignments(pipeline.kafka, groupId, pipeline.topics.requests);
    expect(before.members).toHaveLength(1);
    const callsBeforeJoin = pipeline.fake.calls;
    const joinStarted = Date.now();
    await pipeline.spawn('processor'); // joins the group: partitions move while calls wait
    const after = await waitUntil(
      async () => {
        const group = await groupAssignments(pipeline!.kafka, groupId, pipeline!.topics.requests);
        return group.state === 'Stable' &&
          group.members.length === 2 &&
          group.members.every((m) => m.partitions.length > 0)
          ? group
          : undefined;
      },
      30_000,
      'two processors sharing the partitions',
      50,
    );
    const joinMs = Date.now() - joinStarted;
    console.log(
      `rebalance: second processor holds partitions ${joinMs} ms after its start; ` +
        after.members.map((m) => `[${m.partitions.join(',')}]`).join(' '),
    );
    // The partitions moved while every call was still waiting for its answer.
    expect(settled, `calls settled before the partitions moved (join took ${joinMs} ms)`).toBe(0);
    const held = after.members.flatMap((m) => m.partitions).sort((a, b) => a - b);
    expect(held).toEqual(Array.from({ length: TOPICS.requests.partitions }, (_, p) => p));
    expect(before.members[0]!.partitions).toHaveLength(TOPICS.requests.partitions);

    const responses = await Promise.all(calls);
    expect(responses.map((r) => r.status)).toEqual(Array(40).fill(200));
    const bodies = await Promise.all(responses.map(json));
    expect(new Set(bodies.map((b) => b.request_id)).size).toBe(40);
    // The new member took over work that was in flight on its partitions (unfinished, so
    // uncommitted): it called the provider again for it.
    expect(pipeline.fake.calls).toBeGreaterThan(callsBeforeJoin);
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
