import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createApiKey } from '@sps/db';
import {
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  ResultWaiter,
  SpsError,
  WebhookVerificationError,
  buildRequestMessage,
  createClient,
  isBatchError,
  isTerminal,
  requestRecord,
  resultsByRequestId,
  verifyWebhook,
  type Job,
  type ResultMessage,
  type RetryInfo,
  type SpsClient,
  type ValueRecord,
} from '@sps/sdk';
import { startPipeline, waitUntil, type Pipeline } from './harness.js';

/** A webhook receiver keeping each delivery's raw body and headers. */
class Receiver {
  readonly received: { headers: IncomingHttpHeaders; body: string }[] = [];
  private server!: Server;
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
  }
  stop = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
}

/** Turns a consumer's callback into the async iterable `resultsByRequestId` reads. */
function recordQueue() {
  const items: ValueRecord[] = [];
  let wake: (() => void) | undefined;
  return {
    push(record: ValueRecord) {
      items.push(record);
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (items.length > 0) yield items.shift()!;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

const invoiceSchema = {
  type: 'object',
  properties: {
    number: { type: 'string' },
    total: { type: 'number' },
    paid: { type: 'boolean' },
  },
  required: ['number', 'total'],
  additionalProperties: false,
} as const;

describe('the TypeScript SDK against the real pipeline (Kafka, Postgres, Redis; fake provider)', () => {
  let pipeline: Pipeline;
  let client: SpsClient;
  let webhookSecret: string;

  beforeAll(async () => {
    pipeline = await startPipeline({
      apps: ['sink', 'processor', 'ingest-api', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWLIST: '127.0.0.1' },
      rateLimitPerHour: 1000,
    });
    client = createClient({ apiKey: pipeline.apiKey, baseUrl: pipeline.baseUrl });
    const row = await pipeline.db
      .selectFrom('api_keys')
      .select('webhook_secret')
      .where('tenant_id', '=', pipeline.tenantId)
      .executeTakeFirstOrThrow();
    webhookSecret = row.webhook_secret!;
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('analyze: data typed by the JSON Schema given, and valid against it', async () => {
    const answer = await client.analyze({
      prompt: `Invoice INV-7 for 120.50 EUR ${randomUUID()}`,
      schema: invoiceSchema,
    });
    // Compile-time: the data's type follows the schema (required keys required, the rest optional).
    expectTypeOf(answer.data).toEqualTypeOf<{ number: string; total: number; paid?: boolean }>();
    expectTypeOf(answer.request_id).toEqualTypeOf<string>();
    expect(answer.validation_status).toBe('passed');
    expect(typeof answer.data.number).toBe('string');
    expect(typeof answer.data.total).toBe('number');
    expect(answer.request_id).toMatch(/^[0-9a-f-]{36}$/);

    const stored = await waitUntil(
      () => client.requests.get(answer.request_id).catch(() => undefined),
      30_000,
      'the stored result',
    );
    expect(stored).toMatchObject({ request_id: answer.request_id, status: 'succeeded' });

    const batch = await client.analyzeBatch({
      prompts: [`first ${randomUUID()}`, `second ${randomUUID()}`],
      schema: invoiceSchema,
    });
    expect(batch.summary).toEqual({ total: 2, successful: 2, failed: 0 });
    for (const item of batch.results) {
      if (isBatchError(item)) throw new Error(item.error.message);
      expectTypeOf(item.data.total).toEqualTypeOf<number>();
      expect(typeof item.data.total).toBe('number');
    }
  });

  it('errors are typed: the envelope code, fields, request id and status', async () => {
    const refused = await client.analyze({ prompt: '' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidRequestError);
    expect(refused).toMatchObject({ code: 'INVALID_REQUEST', status: 400 });
    const error = refused as InvalidRequestError;
    expect(error.fields[0]?.field).toBe('prompt');
    expect(error.requestId).toMatch(/.+/);

    const missing = await client.requests.get(randomUUID()).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('jobs: submitted, watched to completion with jobs.wait, webhook verified (a tampered one refused)', async () => {
    const receiver = new Receiver();
    const url = await receiver.start();
    try {
      const accepted = await client.jobs.submit(
        {
          job_type: 'batch',
          request_params: {
            prompts: ['job one', 'job two', 'job three'].map((p) => `${p} ${randomUUID()}`),
            schema: invoiceSchema,
          },
          webhook_url: url,
        },
        { idempotencyKey: `sdk-${pipeline.prefix}` },
      );
      expect(accepted.status).toBe('pending');
      const again = await client.jobs.submit(
        { job_type: 'analyze', request_params: { prompt: 'ignored: same idempotency key' } },
        { idempotencyKey: `sdk-${pipeline.prefix}` },
      );
      expect(again.job_id).toBe(accepted.job_id);

      const seen: Job[] = [];
      const job = await client.jobs.wait(accepted.job_id, {
        timeoutMs: 60_000,
        onProgress: (view) => seen.push(view),
        // done once it ended and its webhook went out
        until: (view) => isTerminal(view.status) && view.webhook?.status === 'delivered',
      });
      expect(job.status).toBe('completed');
      expect(job.progress).toEqual({ total: 3, completed: 3, failed: 0 });
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(job.results.map((r) => r.index)).toEqual([0, 1, 2]);
      const item = await client.requests.get(job.results[0]!.request_id);
      expect(item.status).toBe('succeeded');

      await waitUntil(async () => (receiver.received.length > 0 ? true : undefined), 30_000, 'the webhook');
      const delivery = receiver.received[0]!;
      const event = verifyWebhook(delivery.headers, delivery.body, webhookSecret);
      expect(event).toMatchObject({
        type: 'job.completed',
        data: {
          job_id: accepted.job_id,
          status: 'completed',
          summary: { total: 3, successful: 3, failed: 0 },
        },
      });
      const tampered = delivery.body.replace('"successful":3', '"successful":4');
      expect(tampered).not.toBe(delivery.body);
      expect(() => verifyWebhook(delivery.headers, tampered, webhookSecret)).toThrow(
        WebhookVerificationError,
      );
      expect(() =>
        verifyWebhook(delivery.headers, delivery.body, `whsec_${Buffer.from('wrong').toString('base64')}`),
      ).toThrow(WebhookVerificationError);

      const listed = await client.jobs.list({ limit: 5 });
      expect(listed.jobs.map((j) => j.job_id)).toContain(accepted.job_id);
      const cancel = await client.jobs.cancel(accepted.job_id).catch((e: unknown) => e);
      expect(cancel).toBeInstanceOf(ConflictError);
    } finally {
      await receiver.stop();
    }
  });

  it('the schema and template registries, and cache purge', async () => {
    const name = `invoice-${pipeline.prefix.replace(/\W/g, '')}`;
    expect((await client.schemas.push({ name, schema: invoiceSchema })).version).toBe(1);
    expect(
      (await client.schemas.push({ name, schema: { ...invoiceSchema, required: ['number'] } })).version,
    ).toBe(2);
    expect((await client.schemas.get(name)).version).toBe(2);
    expect((await client.schemas.get(name, 1)).schema).toMatchObject({ required: ['number', 'total'] });
    expect((await client.schemas.list()).map((s) => s.name)).toContain(name);
    const template = await client.templates.push({
      name: `${name}-t`,
      template: 'Extract the invoice from: {{text}}',
      schema_ref: { name },
    });
    expect(template.parameters).toEqual(['text']);
    const fromTemplate = await client.analyze({
      template: { name: template.name, parameters: { text: 'INV-9, 10 EUR' } },
    });
    expect(fromTemplate.validation_status).toBe('passed');
    expect((await client.templates.list()).map((t) => t.name)).toContain(template.name);
    const purged = await client.cache.purge({ template: template.name });
    expect(purged.deleted).toBeGreaterThanOrEqual(0);
  });

  it('retries a 429, waiting the Retry-After the service sent', async () => {
    const { key, apiKeyId } = await createApiKey(pipeline.db, {
      tenant: `tenant-${pipeline.prefix}`,
      name: 'tiny',
      rateLimitPerHour: 2,
    });
    const retries: RetryInfo[] = [];
    const limited = createClient({
      apiKey: key,
      baseUrl: pipeline.baseUrl,
      retry: { onRetry: (r) => retries.push(r) },
    });
    await limited.schemas.list();
    await limited.schemas.list(); // the hour's 2 points are spent
    // The window would last an hour: shorten what is left of it in Redis to 1.5 s, so the next
    // 429 says Retry-After: 2 and the retry after it fits in the window's end.
    const redis = new Redis(pipeline.endpoints.redisUrl, { lazyConnect: true });
    await redis.connect();
    try {
      const keys = (await redis.keys(`sps:rl:2*${apiKeyId}`)).filter((k) => !k.includes('mem'));
      expect(keys).toHaveLength(1);
      await redis.pexpire(keys[0]!, 1_500);
    } finally {
      redis.disconnect();
    }
    const started = Date.now();
    await limited.schemas.list();
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ status: 429, retryAfter: true, delayMs: 2_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_950);

    // Without retries, the typed error carries the wait.
    const once = createClient({ apiKey: key, baseUrl: pipeline.baseUrl, retry: { maxAttempts: 1 } });
    await once.schemas.list().catch(() => undefined);
    const refused = await once.schemas.list().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', status: 429 });
    expect((refused as SpsError).retryAfterMs).toBeGreaterThan(0);
  });

  it('pipeline round trip: records built by the SDK, produced with kafkajs, results matched by request id', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const messages = [1, 2, 3].map((i) =>
      buildRequestMessage({
        tenantId: pipeline.tenantId,
        prompt: `Where is item ${i}? ${randomUUID()}`,
        schema,
      }),
    );
    const records = messages.map((m) => requestRecord(m, { topicPrefix: pipeline.prefix }));
    expect(records[0]!.topic).toBe(pipeline.topics.requests);
    expect(records[0]!.headers['correlation-id']).toBe(messages[0]!.request_id);
    expect(() => buildRequestMessage({ tenantId: pipeline.tenantId, prompt: '' })).toThrow(SpsError);

    const waiter = new ResultWaiter();
    const queue = recordQueue();
    const consumer = pipeline.kafka.consumer({ groupId: `${pipeline.prefix}sdk-results-${randomUUID()}` });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topics: [pipeline.topics.results], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        waiter.push(message);
        queue.push(message);
      },
    });
    await joined;
    const producer = pipeline.kafka.producer();
    await producer.connect();
    try {
      for (const record of records) {
        await producer.send({
          topic: record.topic,
          acks: -1,
          messages: [{ key: record.key, value: record.value, headers: record.headers }],
        });
      }
      // The consumer helper: results of exactly these ids, each once, then the iteration ends.
      const byId = new Map<string, ResultMessage>();
      for await (const result of resultsByRequestId(
        queue,
        messages.map((m) => m.request_id),
      )) {
        byId.set(result.request_id, result);
      }
      expect([...byId.keys()].sort()).toEqual(messages.map((m) => m.request_id).sort());
      for (const result of byId.values()) {
        expect(result).toMatchObject({ status: 'succeeded', tenant_id: pipeline.tenantId });
        expect(result.output?.validation_status).toBe('passed');
        expect(typeof (result.output?.data as { city: unknown }).city).toBe('string');
      }
      // The callback-driven waiter matches the same ids, whenever they arrived.
      const one = await waiter.wait(messages[1]!.request_id, { timeoutMs: 30_000 });
      expect(one.request_id).toBe(messages[1]!.request_id);
      await expect(waiter.wait(randomUUID(), { timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
      // And the sink stored them: readable through the API by the same ids.
      const stored = await waitUntil(
        () => client.requests.get(messages[0]!.request_id).catch(() => undefined),
        30_000,
        'the stored pipeline result',
      );
      expect(stored.status).toBe('succeeded');
    } finally {
      await producer.disconnect();
      await consumer.disconnect();
    }
  });
});
