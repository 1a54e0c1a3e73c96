import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@sps/db';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';

/** A webhook receiver that answers from a script of status codes, then 200. */
class Receiver {
  readonly received: { headers: IncomingMessage['headers']; body: string; status: number }[] = [];
  private server!: Server;
  constructor(private readonly statuses: number[]) {}
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const status = this.statuses.shift() ?? 200;
        this.received.push({ headers: req.headers, body, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
  }
  stop = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
}

describe('public API (real Kafka, Postgres, Redis; fake provider)', () => {
  let pipeline: Pipeline;
  let otherKey: string;
  let webhookSecret: string;
  const call = (method: string, path: string, body?: unknown, key = pipeline.apiKey, headers: Record<string, string> = {}) =>
    fetch(`${pipeline.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });

  beforeAll(async () => {
    const env = { WEBHOOK_ALLOWLIST: '127.0.0.1', WEBHOOK_RETRY_DELAYS_MS: '300,300,300' };
    pipeline = await startPipeline({ apps: ['sink', 'processor', 'ingest-api', 'webhook-dispatcher'], env, rateLimitPerHour: 1000 });
    otherKey = (await createApiKey(pipeline.db, { tenant: `other-${pipeline.prefix}`, name: 'other' })).key;
    const row = await pipeline.db.selectFrom('api_keys').select('webhook_secret').where('tenant_id', '=', pipeline.tenantId).executeTakeFirstOrThrow();
    webhookSecret = row.webhook_secret!;
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('answers a batch in input order with a summary, per-item errors included', async () => {
    pipeline.fake.script({ kind: 'valid' }, { kind: 'violating' }, { kind: 'violating' }, { kind: 'violating' });
    const response = await call('POST', '/v1/analyze/batch', {
      prompts: [`first ${Date.now()}`, `second ${Date.now()}`],
      schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
      options: { bypass_cache: true },
    });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.summary).toEqual({ total: 2, successful: 1, failed: 1 });
    expect(body.results).toHaveLength(2);
    expect(body.results.filter((r: { error?: unknown }) => r.error)[0].error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a batch over 100 prompts, naming the field', async () => {
    const response = await call('POST', '/v1/analyze/batch', { prompts: Array.from({ length: 101 }, (_, i) => `p${i}`) });
    expect(response.status).toBe(400);
    expect((await json(response)).error.details.fields[0].field).toBe('prompts');
  });

  it('runs a job, honours Idempotency-Key, lists and isolates it, and signs its webhook', async () => {
    const receiver = new Receiver([]);
    const url = await receiver.start();
    const body = { job_type: 'batch', request_params: { prompts: ['job item one', 'job item two', 'job item three'] }, webhook_url: url };
    const first = await call('POST', '/v1/jobs', body, undefined, { 'idempotency-key': `idem-${pipeline.prefix}` });
    expect(first.status).toBe(202);
    const { job_id } = await json(first);
    const again = await call('POST', '/v1/jobs', body, undefined, { 'idempotency-key': `idem-${pipeline.prefix}` });
    expect((await json(again)).job_id).toBe(job_id);

    const done = await waitUntil(async () => {
      const job = await json(await call('GET', `/v1/jobs/${job_id}`));
      return job.status === 'completed' && job.webhook?.status === 'delivered' ? job : undefined;
    }, 60_000, 'job completed and delivered');
    expect(done.progress).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(done.results.map((r: { index: number }) => r.index)).toEqual([0, 1, 2]);
    expect(done.webhook.deliveries).toHaveLength(1);

    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    const verified = new Webhook(webhookSecret).verify(delivery!.body, delivery!.headers as Record<string, string>) as { type: string; data: { job_id: string } };
    expect(verified).toMatchObject({ type: 'job.completed', data: { job_id } });
    await receiver.stop();

    const listed = await json(await call('GET', '/v1/jobs?limit=1'));
    expect(listed.jobs[0].job_id).toBe(job_id);
    expect(await call('GET', `/v1/jobs/${job_id}`, undefined, otherKey).then((r) => r.status)).toBe(404);
    const requestId = done.results[0].request_id;
    expect(await call('GET', `/v1/requests/${requestId}`).then((r) => r.status)).toBe(200);
    expect(await call('GET', `/v1/requests/${requestId}`, undefined, otherKey).then((r) => r.status)).toBe(404);
    expect(await call('DELETE', `/v1/jobs/${job_id}`).then((r) => r.status)).toBe(409);
    expect(await call('DELETE', `/v1/jobs/${job_id}`, undefined, otherKey).then((r) => r.status)).toBe(404);
  });

  it('retries a failing receiver: three failures then one success, four attempts listed', async () => {
    const receiver = new Receiver([500, 503, 500]);
    const url = await receiver.start();
    const { job_id } = await json(await call('POST', '/v1/jobs', { job_type: 'analyze', request_params: { prompt: `retry me ${Date.now()}` }, webhook_url: url }));
    const job = await waitUntil(async () => {
      const view = await json(await call('GET', `/v1/jobs/${job_id}`));
      return view.webhook?.status === 'delivered' ? view : undefined;
    }, 60_000, 'delivered after retries');
    expect(job.webhook.deliveries.map((d: { attempt: number; outcome: string }) => [d.attempt, d.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'delivered'],
    ]);
    expect(receiver.received.filter((r) => r.status === 200)).toHaveLength(1);
    await receiver.stop();
  });

  it('sends a delivery that always fails to the webhook DLQ', async () => {
    const receiver = new Receiver([500, 500, 500, 500, 500, 500]);
    const url = await receiver.start();
    const { job_id } = await json(await call('POST', '/v1/jobs', { job_type: 'analyze', request_params: { prompt: `never delivered ${Date.now()}` }, webhook_url: url }));
    const job = await waitUntil(async () => {
      const view = await json(await call('GET', `/v1/jobs/${job_id}`));
      return view.webhook?.status === 'failed' ? view : undefined;
    }, 60_000, 'webhook failed');
    expect(job.webhook.deliveries).toHaveLength(4);
    const consumer = pipeline.kafka.consumer({ groupId: `${pipeline.prefix}wh-dlq` });
    const letters: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [pipeline.topics.webhooksDlq], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void letters.push(message.value!.toString()) });
    await waitUntil(async () => (letters.some((l) => l.includes(job_id)) ? true : undefined), 30_000, 'webhook dead letter');
    await consumer.disconnect();
    await receiver.stop();
  });

  it('refuses webhook targets in private ranges that are not allowlisted', async () => {
    const response = await call('POST', '/v1/jobs', { job_type: 'analyze', request_params: { prompt: 'x' }, webhook_url: 'http://169.254.169.254/latest' });
    expect(response.status).toBe(400);
    expect((await json(response)).error.details.fields[0].field).toBe('webhook_url');
  });

  it('keeps a versioned schema registry that requests can reference, per tenant', async () => {
    const name = `invoice-${Date.now()}`;
    const v1 = { type: 'object', properties: { number: { type: 'string' } }, required: ['number'] };
    const created = await call('POST', '/v1/schemas', { name, schema: v1, description: 'invoices' });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ name, version: 1, deprecated: false });
    expect((await call('POST', '/v1/schemas', { name, schema: v1 })).status).toBe(409);
    const broken = await call('POST', '/v1/schemas', { name: `${name}-bad`, schema: { type: 'object', properties: { a: { type: 'no-such-type' } } } });
    expect(broken.status).toBe(400);
    expect((await json(broken)).error.code).toBe('INVALID_SCHEMA');
    const remote = await call('POST', '/v1/schemas', { name: `${name}-remote`, schema: { $ref: 'https://example.com/schema.json' } });
    expect((await json(remote)).error.code).toBe('INVALID_SCHEMA');

    const v2 = { ...v1, properties: { number: { type: 'string' }, total: { type: 'number' } }, required: ['number', 'total'] };
    expect((await json(await call('POST', `/v1/schemas/${name}/versions`, { schema: v2 }))).version).toBe(2);
    expect((await call('POST', `/v1/schemas/nope-${name}/versions`, { schema: v2 })).status).toBe(404);
    expect((await json(await call('GET', `/v1/schemas/${name}`))).version).toBe(2);
    expect((await json(await call('GET', `/v1/schemas/${name}/versions/1`))).schema).toEqual(v1);
    expect((await json(await call('GET', '/v1/schemas'))).schemas.map((x: { name: string }) => x.name)).toContain(name);
    expect((await json(await call('POST', `/v1/schemas/${name}/versions/2/deprecate`))).deprecated).toBe(true);
    expect((await json(await call('GET', `/v1/schemas/${name}`))).version).toBe(1);

    const answered = await json(await call('POST', '/v1/analyze', { prompt: `Invoice INV-7 ${Date.now()}`, schema_ref: { name, version: 2 } }));
    expect(answered.data).toEqual({ number: expect.any(String), total: expect.any(Number) });
    expect((await call('GET', `/v1/schemas/${name}`, undefined, otherKey)).status).toBe(404);
    const foreign = await call('POST', '/v1/analyze', { prompt: 'x', schema_ref: { name } }, otherKey);
    expect(foreign.status).toBe(404);
  });

  it('answers 429 with Retry-After at the limit + 1', async () => {
    const { key } = await createApiKey(pipeline.db, { tenant: `limited-${pipeline.prefix}`, name: 'limited', rateLimitPerHour: 3 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call('GET', '/v1/jobs?limit=1', undefined, key);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.headers.get('ratelimit-limit')).toBe('3');
    expect((await json(last!)).error.code).toBe('RATE_LIMIT_EXCEEDED');
  });
});
