import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS, HEADERS, type ResultMessage, type WebhookDeliveryMessage } from '@sps/contracts';
import { createJob } from '@sps/db';
import { createProducer, type Kafka } from '@sps/kafka';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';
import { promptRequests } from './kafka-pipeline.js';

interface ReadRecord {
  key: string;
  partition: number;
  value: string;
  headers: Record<string, string>;
  at: number;
}

/** Every record of a topic from the beginning, until `enough` says so (or the timeout). */
async function readTopic(
  kafka: Kafka,
  topic: string,
  enough: (records: ReadRecord[]) => boolean,
  timeoutMs = 30_000,
) {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      records.push({
        key: message.key?.toString() ?? '',
        partition,
        value: message.value?.toString() ?? '',
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        at: Date.now(),
      });
    },
  });
  try {
    await waitUntil(async () => (enough(records) ? true : undefined), timeoutMs, `records on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

async function produce(
  kafka: Kafka,
  topic: string,
  messages: { key: string; value: string; headers?: Record<string, string>; partition?: number }[],
) {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

describe('a bad record fails alone (real Kafka, Postgres, Redis; fake provider)', () => {
  let pipeline: Pipeline;
  const call = (path: string, body: unknown) =>
    fetch(`${pipeline.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pipeline.apiKey}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const readRequest = async (id: string) => {
    const response = await fetch(`${pipeline.baseUrl}/v1/requests/${id}`, {
      headers: { authorization: `Bearer ${pipeline.apiKey}` },
    });
    return response.status === 200 ? json(response) : undefined;
  };

  beforeAll(async () => {
    pipeline = await startPipeline({
      apps: ['sink', 'processor', 'ingest-api', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWLIST: '127.0.0.1', WEBHOOK_RETRY_DELAYS_MS: '1000' },
      rateLimitPerHour: 100_000,
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('refuses NUL and lone surrogates at the API with 400 naming the field', async () => {
    const nul = await call('/v1/analyze', { prompt: 'a\u0000b' });
    expect(nul.status).toBe(400);
    const body = await json(nul);
    expect(body.error.details.fields[0]).toEqual({ field: 'prompt', reason: 'contains U+0000 (NUL)' });
    const surrogate = await call('/v1/analyze', '{"prompt":"x\\ud800y"}');
    expect(surrogate.status).toBe(400);
    expect((await json(surrogate)).error.details.fields[0].field).toBe('prompt');
    const schema = await call('/v1/schemas', {
      name: `nul-${Date.now()}`,
      schema: { type: 'object', properties: { 'a\u0000': {} } },
    });
    expect(schema.status).toBe(400);
    // A pattern the linear-time engine cannot run is refused up front, naming the keyword's path.
    const backreference = await call('/v1/analyze', {
      prompt: 'pairs',
      schema: { type: 'object', properties: { code: { type: 'string', pattern: '^(\\w)\\1$' } } },
    });
    expect(backreference.status).toBe(400);
    const refused = await json(backreference);
    expect(refused.error.code).toBe('INVALID_SCHEMA');
    expect(refused.error.message).toContain('/properties/code/pattern');
  });

  it('answers a pipeline request with NUL in its prompt as failed, with the reason, without stalling its partition', async () => {
    const [bad, ...good] = promptRequests(pipeline.tenantId, 11, (i) => `nul neighbour ${i} ${Date.now()}`);
    bad!.prompt = 'before\u0000after';
    const key = 'one-partition';
    await produce(
      pipeline.kafka,
      pipeline.topics.requests,
      [bad!, ...good].map((r) => ({ key, value: JSON.stringify(r) })),
    );
    const started = Date.now();
    for (const request of good)
      await waitUntil(() => readRequest(request.request_id), 10_000, `request ${request.request_id}`);
    expect(Date.now() - started).toBeLessThan(10_000);
    const failed = await waitUntil(() => readRequest(bad!.request_id), 10_000, 'the refused request');
    expect(failed.status).toBe('failed');
    expect(failed.error.code).toBe('CONTRACT_VIOLATION');
    expect(failed.error.message).toContain('prompt: contains U+0000 (NUL)');
    const letters = await readTopic(pipeline.kafka, pipeline.topics.requestsDlq, (r) =>
      r.some((l) => l.value.includes(bad!.request_id)),
    );
    const letter = letters.find((l) => l.value.includes(bad!.request_id))!;
    expect(letter.headers[DLQ_HEADERS.errorCode]).toBe('CONTRACT_VIOLATION');
    expect(letter.headers[DLQ_HEADERS.stage]).toBe('processor');
    expect(JSON.parse(letter.value)).toEqual(bad); // the original, untouched, for replay
  });

  it('validates a catastrophic pattern in linear time: the request ends in its budget, others keep their latency', async () => {
    const analyze = async (prompt: string, schema?: unknown) => {
      const started = performance.now();
      const response = await call('/v1/analyze', {
        prompt,
        ...(schema ? { schema } : {}),
        options: { bypass_cache: true, timeout_ms: 10_000 },
      });
      return { status: response.status, body: await json(response), ms: performance.now() - started };
    };
    const baseline = [];
    for (let i = 0; i < 10; i++) baseline.push(await analyze(`usual latency ${i} ${Date.now()}`));
    const tag = `catastrophic-${Date.now()}`;
    // Every attempt (first answer and re-asks) answers 50 a's against (a+)+b: 2^50 steps on a backtracking engine.
    pipeline.fake.script(
      ...Array.from({ length: 6 }, () => ({
        kind: 'text' as const,
        text: JSON.stringify({ code: 'a'.repeat(50) }),
        forPrompt: tag,
      })),
    );
    const schema = {
      type: 'object',
      properties: { code: { type: 'string', pattern: '(a+)+b' } },
      required: ['code'],
    };
    const [hostile, ...meanwhile] = await Promise.all([
      analyze(`${tag} give me a code`, schema),
      ...Array.from({ length: 10 }, (_, i) => analyze(`meanwhile ${i} ${Date.now()}`)),
    ]);
    expect(hostile!.status).toBe(422);
    expect(hostile!.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(hostile!.body.error)).toContain('pattern');
    expect(hostile!.ms).toBeLessThan(5_000);
    expect(meanwhile.every((r) => r.status === 200)).toBe(true);
    const worst = (list: { ms: number }[]) => Math.max(...list.map((r) => r.ms));
    console.info('catastrophic pattern', {
      hostile_ms: Math.round(hostile!.ms),
      baseline_worst_ms: Math.round(worst(baseline)),
      meanwhile_worst_ms: Math.round(worst(meanwhile)),
    });
    // Eleven calls at once instead of one at a time: allow the queueing, not a frozen event loop.
    expect(worst(meanwhile)).toBeLessThan(worst(baseline) * 3 + 500);
  });

  it('stores every result of a sink partition around ones Postgres refuses; those read as failed', async () => {
    const result = (id: string, fields: Partial<ResultMessage> = {}): ResultMessage => ({
      request_id: id,
      tenant_id: pipeline.tenantId,
      status: 'succeeded',
      prompt: 'sink neighbour',
      request_params: {},
      attempts: [],
      processing_time_ms: 5,
      completed_at: new Date().toISOString(),
      ...fields,
    });
    const nulId = randomUUID();
    const rangeId = randomUUID();
    const goodIds = Array.from({ length: 40 }, () => randomUUID());
    // All on one partition, the refused ones in the middle: NUL (SQLSTATE 22P05) and 3e9 in an int4 (22003).
    const records = [
      ...goodIds.slice(0, 20).map((id) => result(id)),
      result(nulId, { prompt: 'a\u0000b' }),
      result(rangeId, { processing_time_ms: 3_000_000_000 }),
      ...goodIds.slice(20).map((id) => result(id)),
    ];
    const started = Date.now();
    await produce(
      pipeline.kafka,
      pipeline.topics.results,
      records.map((r) => ({ key: 'same-partition', value: JSON.stringify(r) })),
    );
    for (const id of goodIds) await waitUntil(() => readRequest(id), 10_000, `result ${id}`);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const [id, reason] of [
      [nulId, /0x00/],
      [rangeId, /out of range/],
    ] as const) {
      const row = await waitUntil(() => readRequest(id), 10_000, `refused result ${id}`);
      expect(row.status).toBe('failed');
      expect(row.error.message).toMatch(/could not be stored/);
      expect(row.error.message).toMatch(reason);
    }
    const letters = await readTopic(pipeline.kafka, pipeline.topics.resultsDlq, (r) => r.length >= 2);
    expect(letters).toHaveLength(2);
    expect(letters.map((l) => l.headers[DLQ_HEADERS.errorCode])).toEqual(['DATA_REFUSED', 'DATA_REFUSED']);
    expect(letters.map((l) => (JSON.parse(l.value) as ResultMessage).request_id).sort()).toEqual(
      [nulId, rangeId].sort(),
    );
    expect(pipeline.services.sink!.process.exitCode).toBeNull();
  });

  it('delivers 100 replies of ~46 KB produced at once to one reply partition', async () => {
    const blob = 'x'.repeat(46_000);
    pipeline.fake.script(
      ...Array.from({ length: 100 }, () => ({ kind: 'text' as const, text: JSON.stringify({ blob }) })),
    );
    const requests = promptRequests(pipeline.tenantId, 100, (i) => `big reply ${i} ${Date.now()}`).map(
      (r) => ({
        ...r,
        schema: { type: 'object', properties: { blob: { type: 'string' } }, required: ['blob'] },
        options: { ...r.options, bypass_cache: true },
      }),
    );
    await produce(
      pipeline.kafka,
      pipeline.topics.requests,
      requests.map((r) => ({
        key: r.request_id,
        value: JSON.stringify(r),
        headers: { [HEADERS.replyTopic]: pipeline.topics.replies, [HEADERS.replyPartition]: '5' },
      })),
    );
    const ids = new Set(requests.map((r) => r.request_id));
    const replies = await readTopic(
      pipeline.kafka,
      pipeline.topics.replies,
      (records) => records.filter((r) => ids.has(r.key)).length >= 100,
      60_000,
    );
    const ours = replies.filter((r) => ids.has(r.key));
    expect(new Set(ours.map((r) => r.key)).size).toBe(100);
    expect(new Set(ours.map((r) => r.partition))).toEqual(new Set([5]));
    expect(ours.every((r) => (JSON.parse(r.value) as ResultMessage).status === 'succeeded')).toBe(true);
    expect(ours.every((r) => r.value.length > 46_000)).toBe(true);
  });

  it('dead-letters a request whose reply address points nowhere; its neighbours are answered', async () => {
    const requests = promptRequests(pipeline.tenantId, 3, (i) => `reply address ${i} ${Date.now()}`);
    const [badPartition, badTopic, fine] = requests as [
      (typeof requests)[0],
      (typeof requests)[0],
      (typeof requests)[0],
    ];
    await produce(pipeline.kafka, pipeline.topics.requests, [
      {
        key: 'k',
        value: JSON.stringify(badPartition),
        headers: { [HEADERS.replyTopic]: pipeline.topics.replies, [HEADERS.replyPartition]: '999' },
      },
      {
        key: 'k',
        value: JSON.stringify(badTopic),
        headers: { [HEADERS.replyTopic]: 'somebody.elses.topic', [HEADERS.replyPartition]: '0' },
      },
      {
        key: 'k',
        value: JSON.stringify(fine),
        headers: { [HEADERS.replyTopic]: pipeline.topics.replies, [HEADERS.replyPartition]: '0' },
      },
    ]);
    const ok = await waitUntil(() => readRequest(fine.request_id), 15_000, 'the well-addressed request');
    expect(ok.status).toBe('succeeded');
    for (const request of [badPartition, badTopic]) {
      const row = await waitUntil(() => readRequest(request.request_id), 15_000, 'a refused reply address');
      expect(row.status).toBe('failed');
      expect(row.error.message).toMatch(/INVALID_REPLY_ADDRESS: reply-(partition|topic)/);
    }
    const letters = await readTopic(pipeline.kafka, pipeline.topics.requestsDlq, (r) =>
      [badPartition, badTopic].every((b) => r.some((l) => l.value.includes(b.request_id))),
    );
    const ours = letters.filter(
      (l) => l.value.includes(badPartition.request_id) || l.value.includes(badTopic.request_id),
    );
    expect(ours.map((l) => l.headers[DLQ_HEADERS.errorCode])).toEqual([
      'INVALID_REPLY_ADDRESS',
      'INVALID_REPLY_ADDRESS',
    ]);
  });

  it('six not-yet-due webhook retries: no crash, and a 1 s retry queued behind 1 h ones arrives on time', async () => {
    const arrivals: { at: number; jobId: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        arrivals.push({
          at: Date.now(),
          jobId: (JSON.parse(body) as { data: { job_id: string } }).data.job_id,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
      const keyRow = await pipeline.db
        .selectFrom('api_keys')
        .select('id')
        .where('tenant_id', '=', pipeline.tenantId)
        .executeTakeFirstOrThrow();
      const jobs = [];
      for (let i = 0; i < 7; i++) {
        const { job } = await createJob(pipeline.db, {
          tenantId: pipeline.tenantId,
          apiKeyId: keyRow.id,
          jobType: 'analyze',
          requestParams: { prompt: 'x' },
          totalItems: 1,
          webhookUrl: url,
        });
        jobs.push(job);
      }
      const retry = (jobId: string, dueAt: number): WebhookDeliveryMessage => ({
        event: {
          event_id: randomUUID(),
          type: 'job.completed',
          job_id: jobId,
          tenant_id: pipeline.tenantId,
          status: 'completed',
          webhook_url: url,
          summary: { total: 1, successful: 1, failed: 0 },
          occurred_at: new Date().toISOString(),
        },
        attempt: 2,
        due_at: new Date(dueAt).toISOString(),
      });
      const now = Date.now();
      const hourLater = now + 3_600_000;
      const dueSoon = now + 1_000;
      // All on one partition of the 1 s tier, the 1 s retry last: behind six that are due in an hour.
      await produce(pipeline.kafka, pipeline.topics.webhookRetry1s, [
        ...jobs.slice(0, 6).map((job) => ({
          key: 'one',
          partition: 0,
          value: JSON.stringify(retry(job.id, hourLater)),
          headers: { [HEADERS.dueAt]: new Date(hourLater).toISOString() },
        })),
        {
          key: 'one',
          partition: 0,
          value: JSON.stringify(retry(jobs[6]!.id, dueSoon)),
          headers: { [HEADERS.dueAt]: new Date(dueSoon).toISOString() },
        },
      ]);
      await waitUntil(async () => (arrivals.length > 0 ? true : undefined), 10_000, 'the 1 s retry');
      expect(arrivals.map((a) => a.jobId)).toEqual([jobs[6]!.id]);
      console.info('1 s retry behind six 1 h ones', { late_ms: arrivals[0]!.at - dueSoon });
      // On time: released by its due time and its tier (1 s after it was written), plus delivery.
      expect(arrivals[0]!.at - dueSoon).toBeLessThan(1_500);
      // The hour-long ones moved on to the tier that fits what they have left (10 min), not delivered.
      const moved = await readTopic(pipeline.kafka, pipeline.topics.webhookRetry10m, (r) => r.length >= 6);
      expect(moved).toHaveLength(6);
      expect(arrivals).toHaveLength(1);
      const dispatcher = pipeline.services['webhook-dispatcher']!;
      expect(dispatcher.process.exitCode).toBeNull();
      expect(dispatcher.output()).not.toMatch(/consumer crashed|consumer gave up/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // These jobs were made by hand: end them, so no resumer or sweeper of a later test acts on them.
      await pipeline.db
        .updateTable('jobs')
        .set({
          status: 'completed',
          completed_at: new Date(),
          items_published_at: new Date(),
          event_emitted_at: new Date(),
        })
        .where('tenant_id', '=', pipeline.tenantId)
        .execute();
    }
  });
});
