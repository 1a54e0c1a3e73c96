import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
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

/** Items the processor runs at once (its default, set here because the cancellation bound uses it). */
const MAX_IN_FLIGHT = 256;

describe('public API (real Kafka, Postgres, Redis; fake provider)', () => {
  let pipeline: Pipeline;
  let otherKey: string;
  let webhookSecret: string;
  const call = (
    method: string,
    path: string,
    body?: unknown,
    key = pipeline.apiKey,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${pipeline.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });

  beforeAll(async () => {
    const env = {
      WEBHOOK_ALLOWLIST: '127.0.0.1',
      WEBHOOK_RETRY_DELAYS_MS: '300,300,300',
      PROCESSOR_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
    };
    pipeline = await startPipeline({
      apps: ['sink', 'processor', 'ingest-api', 'webhook-dispatcher'],
      env,
      rateLimitPerHour: 1000,
    });
    otherKey = (await createApiKey(pipeline.db, { tenant: `other-${pipeline.prefix}`, name: 'other' })).key;
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

  it('answers a batch in input order with a summary, per-item errors included', async () => {
    pipeline.fake.script(
      { kind: 'valid' },
      { kind: 'violating' },
      { kind: 'violating' },
      { kind: 'violating' },
    );
    let response: Response;
    try {
      response = await call('POST', '/v1/analyze/batch', {
        prompts: [`first ${Date.now()}`, `second ${Date.now()}`],
        schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
        options: { bypass_cache: true },
      });
    } finally {
      pipeline.fake.reset(); // no scripted step left over for the next test
    }
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.summary).toEqual({ total: 2, successful: 1, failed: 1 });
    expect(body.results).toHaveLength(2);
    expect(body.results.filter((r: { error?: unknown }) => r.error)[0].error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a batch over 100 prompts, naming the field', async () => {
    const response = await call('POST', '/v1/analyze/batch', {
      prompts: Array.from({ length: 101 }, (_, i) => `p${i}`),
    });
    expect(response.status).toBe(400);
    expect((await json(response)).error.details.fields[0].field).toBe('prompts');
  });

  it('runs a job, honours Idempotency-Key, lists and isolates it, and signs its webhook', async () => {
    const receiver = new Receiver([]);
    const url = await receiver.start();
    const body = {
      job_type: 'batch',
      request_params: { prompts: ['job item one', 'job item two', 'job item three'] },
      webhook_url: url,
    };
    const first = await call('POST', '/v1/jobs', body, undefined, {
      'idempotency-key': `idem-${pipeline.prefix}`,
    });
    expect(first.status).toBe(202);
    const { job_id } = await json(first);
    const again = await call('POST', '/v1/jobs', body, undefined, {
      'idempotency-key': `idem-${pipeline.prefix}`,
    });
    expect((await json(again)).job_id).toBe(job_id);

    const done = await waitUntil(
      async () => {
        const job = await json(await call('GET', `/v1/jobs/${job_id}`));
        return job.status === 'completed' && job.webhook?.status === 'delivered' ? job : undefined;
      },
      60_000,
      'job completed and delivered',
    );
    expect(done.progress).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(done.results.map((r: { index: number }) => r.index)).toEqual([0, 1, 2]);
    expect(done.webhook.deliveries).toHaveLength(1);

    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    const verified = new Webhook(webhookSecret).verify(
      delivery!.body,
      delivery!.headers as Record<string, string>,
    ) as { type: string; data: { job_id: string } };
    expect(verified).toMatchObject({ type: 'job.completed', data: { job_id } });
    await receiver.stop();

    const listed = await json(await call('GET', '/v1/jobs?limit=1'));
    expect(listed.jobs[0].job_id).toBe(job_id);
    expect(await call('GET', `/v1/jobs/${job_id}`, undefined, otherKey).then((r) => r.status)).toBe(404);
    const requestId = done.results[0].request_id;
    expect(await call('GET', `/v1/requests/${requestId}`).then((r) => r.status)).toBe(200);
    expect(await call('GET', `/v1/requests/${requestId}`, undefined, otherKey).then((r) => r.status)).toBe(
      404,
    );
    expect(await call('DELETE', `/v1/jobs/${job_id}`).then((r) => r.status)).toBe(409);
    expect(await call('DELETE', `/v1/jobs/${job_id}`, undefined, otherKey).then((r) => r.status)).toBe(404);
  });

  it('retries a failing receiver: three failures then one success, four attempts listed', async () => {
    const receiver = new Receiver([500, 503, 500]);
    const url = await receiver.start();
    const { job_id } = await json(
      await call('POST', '/v1/jobs', {
        job_type: 'analyze',
        request_params: { prompt: `retry me ${Date.now()}` },
        webhook_url: url,
      }),
    );
    const job = await waitUntil(
      async () => {
        const view = await json(await call('GET', `/v1/jobs/${job_id}`));
        return view.webhook?.status === 'delivered' ? view : undefined;
      },
      60_000,
      'delivered after retries',
    );
    expect(
      job.webhook.deliveries.map((d: { attempt: number; outcome: string }) => [d.attempt, d.outcome]),
    ).toEqual([
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
    const { job_id } = await json(
      await call('POST', '/v1/jobs', {
        job_type: 'analyze',
        request_params: { prompt: `never delivered ${Date.now()}` },
        webhook_url: url,
      }),
    );
    const job = await waitUntil(
      async () => {
        const view = await json(await call('GET', `/v1/jobs/${job_id}`));
        return view.webhook?.status === 'failed' ? view : undefined;
      },
      60_000,
      'webhook failed',
    );
    expect(job.webhook.deliveries).toHaveLength(4);
    const consumer = pipeline.kafka.consumer({ groupId: `${pipeline.prefix}wh-dlq` });
    const letters: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [pipeline.topics.webhooksDlq], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void letters.push(message.value!.toString()) });
    await waitUntil(
      async () => (letters.some((l) => l.includes(job_id)) ? true : undefined),
      30_000,
      'webhook dead letter',
    );
    await consumer.disconnect();
    await receiver.stop();
  });

  it('cancels the items of a job that have not run', async () => {
    // The bound. An item is cancelled unless it had started before the cancellation flag was set:
    // the processor checks the flag when an item starts, and an item that started runs to the end.
    // Items start only in one of the processor's MAX_IN_FLIGHT slots, and each slot is held for at
    // least the provider latency. So within `windowMs` of submitting the job at most
    // MAX_IN_FLIGHT × (1 + ⌊windowMs / latency⌋) items can have started. Submitting and cancelling
    // take well under one latency (asserted), so at most 256 of the 400 run: at least 144 are
    // cancelled, and every item that ran called the provider once and succeeded.
    const latencyMs = 3_000;
    const items = 400;
    const prompts = Array.from({ length: items }, (_, i) => `slow job item ${i} ${Date.now()}`);
    pipeline.fake.setLatency(latencyMs);
    try {
      const submitted = Date.now();
      const { job_id } = await json(
        await call('POST', '/v1/jobs', {
          job_type: 'batch',
          request_params: { prompts, options: { provider: 'openai' } },
        }),
      );
      const cancelled = await call('DELETE', `/v1/jobs/${job_id}`);
      const windowMs = Date.now() - submitted;
      expect(cancelled.status).toBe(200);
      expect((await json(cancelled)).status).toBe('cancelled');
      expect(windowMs, 'submitting and cancelling took longer than one provider call').toBeLessThan(
        latencyMs,
      );
      const mostStarted = MAX_IN_FLIGHT * (1 + Math.floor(windowMs / latencyMs));

      const job = await waitUntil(
        async () => {
          const view = await json(await call('GET', `/v1/jobs/${job_id}`));
          return view.results.length === items ? view : undefined;
        },
        60_000,
        'every item accounted for',
      );
      expect(job.status).toBe('cancelled');
      const codes: string[] = job.results.map(
        (r: { error: { code: string } | null }) => r.error?.code ?? 'OK',
      );
      const count = (code: string) => codes.filter((c) => c === code).length;
      const jobPrompts = new Set(prompts);
      const calls = pipeline.fake.requests.filter((r) => jobPrompts.has(r.prompt)).length;
      console.log(
        `cancellation after ${windowMs} ms: ${count('CANCELLED')} of ${items} cancelled, ${count('OK')} ran (bound: at most ${mostStarted} run)`,
      );
      expect(count('OK') + count('CANCELLED')).toBe(items); // nothing else happened to an item
      expect(count('CANCELLED')).toBeGreaterThanOrEqual(items - mostStarted); // ≥ 144
      expect(calls).toBe(count('OK')); // the items that ran are exactly those that called the provider
      expect(await call('DELETE', `/v1/jobs/${job_id}`).then((r) => r.status)).toBe(409);
    } finally {
      pipeline.fake.setLatency(0);
    }
  });

  it('does not follow a redirect from a webhook receiver', async () => {
    const receiver = new Receiver([302, 302, 302, 302]);
    const url = await receiver.start();
    const { job_id } = await json(
      await call('POST', '/v1/jobs', {
        job_type: 'analyze',
        request_params: { prompt: `redirected ${Date.now()}` },
        webhook_url: url,
      }),
    );
    const job = await waitUntil(
      async () => {
        const view = await json(await call('GET', `/v1/jobs/${job_id}`));
        return view.webhook?.status === 'failed' ? view : undefined;
      },
      60_000,
      'webhook failed',
    );
    expect(job.webhook.deliveries.map((d: { status_code: number }) => d.status_code)).toEqual([
      302, 302, 302, 302,
    ]);
    await receiver.stop();
  });

  it('manages keys from the admin CLI: create, list, revoke', async () => {
    const run = (...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', 'libs/db/src/cli/keys.ts', ...args],
          { env: { ...process.env, DATABASE_URL: pipeline.endpoints.databaseUrl } },
          (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
        ),
      );
    const created = JSON.parse(
      await run('create', '--tenant', `cli-${pipeline.prefix}`, '--name', 'cli', '--json'),
    );
    expect(created.key).toMatch(/^sk_/);
    const stored = await pipeline.db
      .selectFrom('api_keys')
      .select('key_hash')
      .where('id', '=', created.apiKeyId)
      .executeTakeFirstOrThrow();
    expect(stored.key_hash).toHaveLength(64);
    expect(stored.key_hash).not.toContain(created.key);
    expect(await run('list', '--tenant', `cli-${pipeline.prefix}`)).toContain(created.key.slice(0, 10));
    expect((await call('GET', '/v1/jobs', undefined, created.key)).status).toBe(200);
    expect(await run('revoke', created.apiKeyId)).toContain('revoked');
    // The API caches key lookups for a while; the lookup behind that cache refuses the revoked key
    // as soon as the CLI has returned (nothing to wait for).
    const { findActiveKey, hashApiKey } = await import('@sps/db');
    expect(await findActiveKey(pipeline.db, hashApiKey(created.key))).toBeUndefined();
  });

  it('refuses webhook targets in private ranges that are not allowlisted', async () => {
    const response = await call('POST', '/v1/jobs', {
      job_type: 'analyze',
      request_params: { prompt: 'x' },
      webhook_url: 'http://169.254.169.254/latest',
    });
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
    const broken = await call('POST', '/v1/schemas', {
      name: `${name}-bad`,
      schema: { type: 'object', properties: { a: { type: 'no-such-type' } } },
    });
    expect(broken.status).toBe(400);
    expect((await json(broken)).error.code).toBe('INVALID_SCHEMA');
    const remote = await call('POST', '/v1/schemas', {
      name: `${name}-remote`,
      schema: { $ref: 'https://example.com/schema.json' },
    });
    expect((await json(remote)).error.code).toBe('INVALID_SCHEMA');

    const v2 = {
      ...v1,
      properties: { number: { type: 'string' }, total: { type: 'number' } },
      required: ['number', 'total'],
    };
    expect((await json(await call('POST', `/v1/schemas/${name}/versions`, { schema: v2 }))).version).toBe(2);
    expect((await call('POST', `/v1/schemas/nope-${name}/versions`, { schema: v2 })).status).toBe(404);
    expect((await json(await call('GET', `/v1/schemas/${name}`))).version).toBe(2);
    expect((await json(await call('GET', `/v1/schemas/${name}/versions/1`))).schema).toEqual(v1);
    expect(
      (await json(await call('GET', '/v1/schemas'))).schemas.map((x: { name: string }) => x.name),
    ).toContain(name);
    expect((await json(await call('POST', `/v1/schemas/${name}/versions/2/deprecate`))).deprecated).toBe(
      true,
    );
    expect((await json(await call('GET', `/v1/schemas/${name}`))).version).toBe(1);

    const answered = await json(
      await call('POST', '/v1/analyze', {
        prompt: `Invoice INV-7 ${Date.now()}`,
        schema_ref: { name, version: 2 },
      }),
    );
    expect(answered.data).toEqual({ number: expect.any(String), total: expect.any(Number) });
    expect((await call('GET', `/v1/schemas/${name}`, undefined, otherKey)).status).toBe(404);
    const foreign = await call('POST', '/v1/analyze', { prompt: 'x', schema_ref: { name } }, otherKey);
    expect(foreign.status).toBe(404);
  });

  it('renders registered templates, naming missing and unknown parameters', async () => {
    const schemaName = `greeting-${Date.now()}`;
    await call('POST', '/v1/schemas', {
      name: schemaName,
      schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    });
    const name = `greet-${Date.now()}`;
    const created = await call('POST', '/v1/templates', {
      name,
      template: 'Greet {{person}} from {{city}}',
      schema_ref: { name: schemaName },
    });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ version: 1, parameters: ['person', 'city'] });
    expect((await call('POST', '/v1/templates', { name, template: 'again' })).status).toBe(409);
    expect(
      (await json(await call('POST', `/v1/templates/${name}/versions`, { template: 'Hi {{person}}' })))
        .version,
    ).toBe(2);
    expect((await json(await call('GET', `/v1/templates/${name}/versions/1`))).template).toBe(
      'Greet {{person}} from {{city}}',
    );
    expect(
      (await json(await call('GET', '/v1/templates'))).templates.map((t: { name: string }) => t.name),
    ).toContain(name);

    const answer = await json(
      await call('POST', '/v1/analyze', {
        template: { name, version: 1, parameters: { person: 'Ada', city: 'London' } },
      }),
    );
    expect(answer.data).toEqual({ name: expect.any(String) });
    expect(pipeline.fake.requests.at(-1)!.prompt).toBe('Greet Ada from London');

    const bad = await call('POST', '/v1/analyze', {
      template: { name, version: 1, parameters: { person: 'Ada', colour: 'red' } },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details.fields.map((f: { field: string }) => f.field)).toEqual([
      'template.parameters.city',
      'template.parameters.colour',
    ]);
    expect((await call('GET', `/v1/templates/${name}`, undefined, otherKey)).status).toBe(404);
    expect((await call('POST', '/v1/analyze', { template: { name, parameters: {} } }, otherKey)).status).toBe(
      404,
    );
  });

  it("purges only the caller's cache entries, by schema name or all", async () => {
    const schemaName = `cached-${Date.now()}`;
    const schema = { type: 'object', properties: { v: { type: 'string' } }, required: ['v'] };
    await call('POST', '/v1/schemas', { name: schemaName, schema });
    await call('POST', '/v1/schemas', { name: schemaName, schema }, otherKey);
    const ask = (key: string) =>
      call(
        'POST',
        '/v1/analyze',
        { prompt: `cache me ${schemaName}`, schema_ref: { name: schemaName } },
        key,
      ).then(json);
    expect((await ask(pipeline.apiKey)).cached).toBe(false);
    expect((await ask(pipeline.apiKey)).cached).toBe(true);
    expect((await ask(otherKey)).cached).toBe(false); // tenants never share answers
    expect((await json(await call('DELETE', `/v1/cache?schema=${schemaName}`))).deleted).toBe(1);
    expect((await ask(pipeline.apiKey)).cached).toBe(false);
    expect((await ask(otherKey)).cached).toBe(true); // the other tenant's entry is untouched
    expect((await json(await call('DELETE', '/v1/cache'))).deleted).toBeGreaterThanOrEqual(1);
    expect((await ask(pipeline.apiKey)).cached).toBe(false);
  });

  it('pages through jobs created within one millisecond without skipping or repeating any', async () => {
    const { key, tenantId } = await createApiKey(pipeline.db, {
      tenant: `pages-${Date.now()}`,
      name: 'pages',
    });
    const keyRow = await pipeline.db
      .selectFrom('api_keys')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    // Seven jobs whose created_at differ only in microseconds, all inside one millisecond.
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const row = await pipeline.db
        .insertInto('jobs')
        .values({
          tenant_id: tenantId,
          api_key_id: keyRow.id,
          job_type: 'analyze',
          request_params: JSON.stringify({ prompt: 'x' }),
          total_items: 1,
          status: 'completed',
          items_published_at: new Date(),
          event_emitted_at: new Date(),
          created_at: sql`timestamptz '2026-01-02 03:04:05.678' + ${i} * interval '100 microseconds'`,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.push(row.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await call(
        'GET',
        `/v1/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        undefined,
        key,
      );
      expect(response.status).toBe(200);
      const body = await json(response);
      seen.push(...body.jobs.map((j: { job_id: string }) => j.job_id));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(ids));
  });

  it('answers each documented error with its code and the request id', async () => {
    const unknown = await call('POST', '/v1/analyze', { prompt: 'x' }, 'sk_not_a_key');
    expect([unknown.status, (await json(unknown)).error.code]).toEqual([401, 'UNAUTHORIZED']);
    const { key: expiring, apiKeyId } = await createApiKey(pipeline.db, {
      tenant: `exp-${pipeline.prefix}`,
      name: 'x',
      expiresAt: new Date(Date.now() - 1000),
    });
    expect((await call('GET', '/v1/jobs', undefined, expiring)).status).toBe(401);
    const { key: revoked, apiKeyId: revokedId } = await createApiKey(pipeline.db, {
      tenant: `rev-${pipeline.prefix}`,
      name: 'x',
    });
    await pipeline.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date(), is_active: false })
      .where('id', '=', revokedId)
      .execute();
    expect((await call('GET', '/v1/jobs', undefined, revoked)).status).toBe(401);
    void apiKeyId;

    const tooLarge = await call('POST', '/v1/analyze', { prompt: 'x'.repeat(300_000) });
    expect([tooLarge.status, (await json(tooLarge)).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const longPrompt = await call('POST', '/v1/analyze', { prompt: 'x'.repeat(10_001) });
    expect((await json(longPrompt)).error.details.fields[0].field).toBe('prompt');
    const deep = { type: 'object', properties: {} as Record<string, unknown> };
    let node = deep;
    for (let i = 0; i < 11; i++) {
      const child = { type: 'object', properties: {} as Record<string, unknown> };
      node.properties.x = child;
      node = child;
    }
    const tooDeep = await call('POST', '/v1/analyze', { prompt: 'x', schema: deep });
    expect([tooDeep.status, (await json(tooDeep)).error.details.fields[0].field]).toEqual([400, 'schema']);
    const invalidSchema = await call('POST', '/v1/analyze', {
      prompt: `bad schema ${Date.now()}`,
      schema: { type: 'objekt' },
    });
    expect([invalidSchema.status, (await json(invalidSchema)).error.code]).toEqual([400, 'INVALID_SCHEMA']);

    try {
      pipeline.fake.script(...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 500 })));
      const providerDown = await call('POST', '/v1/analyze', { prompt: `provider down ${Date.now()}` });
      expect([providerDown.status, (await json(providerDown)).error.code]).toEqual([
        502,
        'LLM_PROVIDER_ERROR',
      ]);
    } finally {
      pipeline.fake.reset(); // unused 500s must not reach the next call
    }

    let slow: Response;
    try {
      pipeline.fake.script({ kind: 'valid', latencyMs: 2_500 });
      slow = await call('POST', '/v1/analyze', {
        prompt: `slow ${Date.now()}`,
        options: { timeout_ms: 1_000 },
      });
    } finally {
      pipeline.fake.reset();
    }
    const timeout = await json(slow);
    expect([slow.status, timeout.error.code]).toEqual([504, 'TIMEOUT']);
    const requestId = timeout.error.details.request_id;
    const later = await waitUntil(
      async () => {
        const response = await call('GET', `/v1/requests/${requestId}`);
        return response.status === 200 ? json(response) : undefined;
      },
      30_000,
      'the timed-out result',
    );
    expect(later.request_id).toBe(requestId);

    const missing = await call('GET', '/v1/nowhere');
    expect([missing.status, (await json(missing)).error.code]).toEqual([404, 'NOT_FOUND']);
    const echoed = await call('GET', '/v1/jobs?limit=1', undefined, pipeline.apiKey, {
      'x-request-id': 'my-trace-123',
    });
    expect(echoed.headers.get('x-request-id')).toBe('my-trace-123');
  });

  it('serves health, metrics, the OpenAPI document and Swagger UI', async () => {
    const health = await json(await fetch(`${pipeline.baseUrl}/v1/health`));
    expect(health).toMatchObject({
      status: 'healthy',
      dependencies: { postgres: 'up', redis: 'up', kafka: 'up' },
    });
    expect(await (await fetch(`${pipeline.baseUrl}/v1/metrics`)).text()).toMatch(
      /sps_http_request_duration_seconds/,
    );
    const spec = await json(await fetch(`${pipeline.baseUrl}/openapi.json`));
    expect(spec.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/analyze',
      '/v1/analyze/batch',
      '/v1/jobs',
      '/v1/jobs/{id}',
      '/v1/schemas',
      '/v1/templates',
      '/v1/cache',
      '/v1/requests/{id}',
    ]) {
      expect(spec.paths[path], path).toBeDefined();
    }
    expect(spec.paths['/v1/analyze'].post.responses['422']).toBeDefined();
    expect((await fetch(`${pipeline.baseUrl}/docs`)).status).toBe(200);
  });

  it('answers 429 with Retry-After at the limit + 1', async () => {
    const { key } = await createApiKey(pipeline.db, {
      tenant: `limited-${pipeline.prefix}`,
      name: 'limited',
      rateLimitPerHour: 3,
    });
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

  it('refuses a sync call over the limit with 429 before anything is queued, even one the cache would answer', async () => {
    // /v1/analyze settles its arrival charge in its admission (overlapped with its cache lookup).
    const { key, tenantId: tenant } = await createApiKey(pipeline.db, {
      tenant: `limited-sync-${pipeline.prefix}`,
      name: 'limited',
      rateLimitPerHour: 2,
    });
    const body = { prompt: `Invoice #R-${pipeline.prefix} over EUR 12.50` };
    const first = await call('POST', '/v1/analyze', body, key);
    expect(first.status).toBe(200);
    expect((await json(first)).cached).toBe(false);
    const second = await call('POST', '/v1/analyze', body, key);
    expect(second.status).toBe(200);
    expect((await json(second)).cached).toBe(true); // the next one would be a hit too
    expect(second.headers.get('ratelimit-remaining')).toBe('0');
    const calls = pipeline.fake.calls;
    const rows = async () =>
      Number(
        (
          await pipeline.db
            .selectFrom('request_logs')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('tenant_id', '=', tenant)
            .executeTakeFirstOrThrow()
        ).n,
      );
    await waitUntil(async () => ((await rows()) === 2 ? true : undefined), 10_000, 'both rows');

    const refused = await call('POST', '/v1/analyze', body, key);
    expect(refused.status).toBe(429);
    expect((await json(refused)).error).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { limit: 2 } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    // An invalid body on the same route is answered 400, with the headers of its own point.
    const invalid = await call('POST', '/v1/analyze', { prompt: 42 }, key);
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('ratelimit-limit')).toBe('2');
    expect(invalid.headers.get('ratelimit-remaining')).toBe('0');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pipeline.fake.calls).toBe(calls);
    expect(await rows()).toBe(2); // the refused call produced no result
  });
});
