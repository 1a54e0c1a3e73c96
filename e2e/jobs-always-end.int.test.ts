import { createServer, type IncomingMessage, type Server } from 'node:http';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { jobItemRequestId, type JobEventMessage } from '@sps/contracts';
import { jobItemMessages } from '@sps/http-api';
import { jobEventId } from '@sps/results-sink';
import { endTenantJobs, startPrivateKafka, type PrivateKafka } from '@sps/testing';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';
import { produceRequests } from './kafka-pipeline.js';

/** A webhook receiver that answers 200 and records every delivery. */
class Receiver {
  readonly received: { headers: IncomingMessage['headers']; body: string }[] = [];
  private server: Server | undefined;
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body });
        res.writeHead(200).end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  }
  stop = () => new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
}

const post = (pipeline: Pipeline, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${pipeline.baseUrl}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${pipeline.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const jobRow = (pipeline: Pipeline, jobId: string) =>
  pipeline.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();

async function countRows(pipeline: Pipeline, jobId: string) {
  const { rows } = await sql<{ rows: string; requests: string; indexes: string }>`
    select count(*) as rows, count(distinct request_id) as requests, count(distinct item_index) as indexes
    from request_logs where job_id = ${jobId}`.execute(pipeline.db);
  const row = rows[0]!;
  return { rows: Number(row.rows), requests: Number(row.requests), indexes: Number(row.indexes) };
}

/**
 * Reads the job-events topic from the beginning with a group of its own; `events(jobId)` is every
 * event seen so far for that job.
 */
async function watchJobEvents(pipeline: Pipeline, name: string) {
  const seen: JobEventMessage[] = [];
  const consumer = pipeline.kafka.consumer({ groupId: `${pipeline.prefix}${name}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [pipeline.topics.jobEvents], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) =>
      void seen.push(JSON.parse(message.value!.toString()) as JobEventMessage),
  });
  return {
    events: (jobId: string) => seen.filter((event) => event.job_id === jobId),
    stop: () => consumer.disconnect(),
  };
}

/** Inserts a job row as POST /v1/jobs would have stored it, with the given overrides. */
async function insertJob(
  pipeline: Pipeline,
  prompts: string[],
  fields: { created_at?: unknown; expires_at?: unknown; status?: 'pending' | 'processing' } = {},
) {
  const key = await pipeline.db
    .selectFrom('api_keys')
    .select('id')
    .where('tenant_id', '=', pipeline.tenantId)
    .executeTakeFirstOrThrow();
  const row = await pipeline.db
    .insertInto('jobs')
    .values({
      tenant_id: pipeline.tenantId,
      api_key_id: key.id,
      job_type: 'batch',
      request_params: JSON.stringify({ prompts, labels: {} }),
      total_items: prompts.length,
      status: fields.status ?? 'pending',
      ...(fields.created_at ? { created_at: fields.created_at as Date } : {}),
      ...(fields.expires_at ? { expires_at: fields.expires_at as Date } : {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Ends this tenant's jobs still running, so that no other instance's resumer or sweeper acts on them later. */
async function neutraliseJobs(pipeline: Pipeline | undefined): Promise<void> {
  if (!pipeline) return;
  await endTenantJobs(pipeline.db, pipeline.tenantId).catch(() => undefined);
}

describe('jobs always end, with exactly one outcome event', () => {
  it('a job whose publication the broker cut short is published again on resubmission, and ends once', async () => {
    const N = 600;
    let broker: PrivateKafka | undefined;
    let pipeline: Pipeline | undefined;
    let events: Awaited<ReturnType<typeof watchJobEvents>> | undefined;
    const receiver = new Receiver();
    try {
      broker = await startPrivateKafka();
      pipeline = await startPipeline({
        kafkaBrokers: broker.brokers,
        apps: ['sink', 'processor', 'ingest-api', 'webhook-dispatcher'],
        // The resumer stays out of the way: here the resubmission is what publishes the job again.
        env: { WEBHOOK_ALLOWLIST: '127.0.0.1', JOB_RESUME_AFTER_MS: '600000' },
      });
      const p = pipeline;
      const url = await receiver.start();
      const key = `always-end-${p.prefix}`;
      const body = {
        job_type: 'batch',
        request_params: {
          prompts: Array.from({ length: N }, (_, i) => `Invoice ${i}: ${'line item, '.repeat(20)}`),
        },
        webhook_url: url,
      };

      // The broker dies as soon as the job is stored, while its items are being published.
      const first = post(p, body, { 'idempotency-key': key });
      const stored = await waitUntil(
        () =>
          p.db
            .selectFrom('jobs')
            .select(['id', 'items_published_at'])
            .where('tenant_id', '=', p.tenantId)
            .where('idempotency_key', '=', key)
            .executeTakeFirst(),
        30_000,
        'the job stored',
        1,
      );
      await broker.kill();
      const refused = await first;
      const refusal = await json(refused);
      expect(refused.status, JSON.stringify(refusal)).toBe(503);
      expect(refusal.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(refusal.error.message).toContain(stored.id);
      expect((await jobRow(p, stored.id)).items_published_at).toBeNull();
      const before = await countRows(p, stored.id);

      await broker.restart();
      // Where the kill landed: how many of the items Kafka had taken (0 < queued < N: half way).
      const admin = p.kafka.admin();
      await admin.connect();
      const queued = await waitUntil(
        () =>
          admin
            .fetchTopicOffsets(p.topics.requests)
            .then((offsets) => offsets.reduce((sum, o) => sum + Number(o.high), 0))
            .catch(() => undefined),
        60_000,
        'the requests topic readable again',
        500,
      ).finally(() => admin.disconnect());
      expect(queued).toBeLessThan(N);

      // As if the first attempt had got its first items out: the same messages (same request ids),
      // run and stored before the resubmission; the job is processing, still unpublished.
      const PARTIAL = 100;
      await produceRequests(
        p.kafka,
        p.topics.requests,
        jobItemMessages(await jobRow(p, stored.id)).slice(0, PARTIAL),
      );
      const partly = await waitUntil(
        async () => {
          const job = await jobRow(p, stored.id);
          return job.completed_items + job.failed_items >= PARTIAL ? job : undefined;
        },
        60_000,
        'the first items stored',
        200,
      );
      expect(partly.status).toBe('processing');
      expect(partly.items_published_at).toBeNull();
      // Resubmitted until the API's producer is back with the broker.
      const accepted = await waitUntil(
        async () => {
          const response = await post(p, body, { 'idempotency-key': key });
          return response.status === 202 ? json(response) : undefined;
        },
        120_000,
        'the resubmission accepted',
        1_000,
      );
      expect(accepted.job_id).toBe(stored.id);
      expect((await jobRow(p, stored.id)).items_published_at).not.toBeNull();

      const done = await waitUntil(
        async () => {
          const job = await jobRow(p, stored.id);
          return job.status === 'completed' && job.webhook_status === 'delivered' ? job : undefined;
        },
        180_000,
        'the job completed and its webhook delivered',
        250,
      );
      expect(done.completed_items + done.failed_items).toBe(N);
      expect(await countRows(p, stored.id)).toEqual({ rows: N, requests: N, indexes: N });
      expect(done.event_emitted_at).not.toBeNull(); // so no sweeper emits it again later

      events = await watchJobEvents(p, 'count-events');
      await waitUntil(
        async () => (events!.events(stored.id).length > 0 ? true : undefined),
        30_000,
        'the job event',
      );
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // room for a duplicate to show
      const outcome = events.events(stored.id);
      expect(outcome).toHaveLength(1);
      expect(outcome[0]).toMatchObject({
        event_id: jobEventId(stored.id, 'completed'),
        type: 'job.completed',
        summary: { total: N },
      });
      expect(receiver.received).toHaveLength(1);
      const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
      expect([...ids]).toEqual([jobEventId(stored.id, 'completed')]);
      console.info(
        `[jobs-always-end] ${N} items; ${queued} queued and ${before.rows} stored when the broker was killed; ` +
          `${partly.completed_items + partly.failed_items} stored before the resubmission; ` +
          `${outcome.length} event; ${receiver.received.length} delivery`,
      );
    } finally {
      await events?.stop().catch(() => undefined);
      await receiver.stop();
      await neutraliseJobs(pipeline);
      await pipeline?.stop().catch(() => undefined);
      await broker?.destroy();
    }
  }, 420_000);

  describe('with the resumer and the sweeper on short intervals', () => {
    let pipeline: Pipeline | undefined;
    const start = async () =>
      (pipeline ??= await startPipeline({
        apps: ['sink', 'processor', 'ingest-api'],
        env: { JOB_RESUME_INTERVAL_MS: '300', JOB_RESUME_AFTER_MS: '2000', SINK_SWEEP_INTERVAL_MS: '500' },
      }));
    const stop = async () => {
      await neutraliseJobs(pipeline);
      await pipeline?.stop().catch(() => undefined);
      pipeline = undefined;
    };
    afterAll(stop);

    it('publishes a job stored by a request that crashed before publishing, with nobody resubmitting', async () => {
      let events: Awaited<ReturnType<typeof watchJobEvents>> | undefined;
      try {
        const p = await start();
        events = await watchJobEvents(p, 'resumed');
        const prompts = Array.from({ length: 20 }, (_, i) => `Stalled receipt ${i} ${p.prefix}`);
        // As left by a crash between createJob and the publication: stored, never published.
        const jobId = await insertJob(p, prompts, { created_at: sql`now() - interval '5 seconds'` });
        const done = await waitUntil(
          async () => {
            const job = await jobRow(p, jobId);
            return job.status === 'completed' ? job : undefined;
          },
          60_000,
          'the resumed job completed',
          200,
        );
        expect(done.items_published_at).not.toBeNull();
        expect(await countRows(p, jobId)).toEqual({ rows: 20, requests: 20, indexes: 20 });
        await waitUntil(
          async () => (events!.events(jobId).length > 0 ? true : undefined),
          30_000,
          'its job event',
        );
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        expect(events.events(jobId).map((e) => e.event_id)).toEqual([jobEventId(jobId, 'completed')]);
      } finally {
        await events?.stop().catch(() => undefined);
      }
    }, 180_000);

    it('expires a job past its expires_at and emits exactly one job.expired event', async () => {
      let events: Awaited<ReturnType<typeof watchJobEvents>> | undefined;
      try {
        const p = await start();
        events = await watchJobEvents(p, 'expired');
        const jobId = await insertJob(p, ['never runs'], {
          status: 'processing',
          created_at: sql`now() - interval '25 hours'`,
          expires_at: sql`now() - interval '1 hour'`,
        });
        // Published long ago (so the resumer leaves it alone), its item lost.
        await p.db
          .updateTable('jobs')
          .set({ items_published_at: sql`now()` })
          .where('id', '=', jobId)
          .execute();
        const expired = await waitUntil(
          async () => {
            const job = await jobRow(p, jobId);
            return job.status === 'expired' && job.event_emitted_at ? job : undefined;
          },
          30_000,
          'the job expired and its event emitted',
          100,
        );
        expect(expired.completed_at).not.toBeNull();
        await waitUntil(
          async () => (events!.events(jobId).length > 0 ? true : undefined),
          30_000,
          'the job.expired event',
        );
        await new Promise((resolve) => setTimeout(resolve, 3_000)); // several more sweeps
        const outcome = events.events(jobId);
        expect(outcome).toHaveLength(1);
        expect(outcome[0]).toMatchObject({
          event_id: jobEventId(jobId, 'expired'),
          type: 'job.expired',
          status: 'expired',
          summary: { total: 1, successful: 0, failed: 0 },
        });

        // Its item, arriving after the expiry, is stored and counted but does not revive the job.
        await produceRequests(p.kafka, p.topics.requests, [
          {
            request_id: jobItemRequestId(jobId, 0),
            tenant_id: p.tenantId,
            job_id: jobId,
            item_index: 0,
            prompt: 'never runs',
            options: { timeout_ms: 120_000 },
          },
        ]);
        await waitUntil(
          async () => ((await countRows(p, jobId)).rows === 1 ? true : undefined),
          30_000,
          'the late item stored',
        );
        const after = await jobRow(p, jobId);
        expect(after.status).toBe('expired');
        expect(after.completed_items + after.failed_items).toBe(1);
        expect(new Date(after.completed_at!).getTime()).toBe(new Date(expired.completed_at!).getTime());
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        expect(events.events(jobId)).toHaveLength(1);
      } finally {
        await events?.stop().catch(() => undefined);
      }
    }, 180_000);
  });
});
