import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';

/**
 * The thin path through every part: HTTP → sps.requests.v1 → processor → OpenAI SDK → fake
 * provider → ajv → sps.replies.v1 → HTTP 200, and sps.results.v1 → sink → one request_logs row.
 */
describe('walking skeleton (real Kafka, Postgres, Redis; fake provider)', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline();
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  const analyze = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${pipeline.baseUrl}/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline.apiKey}`, ...headers },
      body: JSON.stringify(body),
    });

  it('answers a prompt with the default analysis, through Kafka, and logs one row', async () => {
    const response = await analyze({
      prompt: 'Extract key details from Invoice #12345, Date: 2025-01-15, Amount: $1,250.00',
    });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      intent: expect.any(String),
      subject: expect.any(String),
      entities: { key_details: expect.arrayContaining(['#12345,']) },
      output_format: 'json',
      original_language: 'en',
      validation_status: 'passed',
      provider_used: 'openai',
      cached: false,
    });
    expect(body.confidence).toBeGreaterThanOrEqual(0);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(pipeline.fake.calls).toBe(1);
    // The provider received the schema natively, through the official SDK.
    expect(pipeline.fake.requests[0]?.schema).toMatchObject({ properties: { intent: { type: 'string' } } });

    const rows = await waitUntil(
      async () => {
        const found = await pipeline.db
          .selectFrom('request_logs')
          .selectAll()
          .where('request_id', '=', body.request_id)
          .execute();
        return found.length > 0 ? found : undefined;
      },
      30_000,
      'request_logs row',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'succeeded',
      provider_used: 'openai',
      tenant_id: pipeline.tenantId,
      validation_status: 'passed',
    });

    const stored = await fetch(`${pipeline.baseUrl}/v1/requests/${body.request_id}`, {
      headers: { authorization: `Bearer ${pipeline.apiKey}` },
    });
    expect(stored.status).toBe(200);
    expect((await json(stored)).status).toBe('succeeded');
  });

  it('validates a caller schema and serves the repeat from the cache', async () => {
    const schema = {
      type: 'object',
      properties: { invoice_number: { type: 'string' }, amount: { type: 'number' } },
      required: ['invoice_number', 'amount'],
    };
    const prompt = `Invoice #98765 for $10 (${Date.now()})`;
    const first = await analyze({ prompt, schema });
    expect(first.status).toBe(200);
    const firstBody = await json(first);
    expect(firstBody.data).toEqual({ invoice_number: expect.any(String), amount: expect.any(Number) });
    const callsAfterFirst = pipeline.fake.calls;

    const second = await analyze({ prompt, schema });
    expect(second.status).toBe(200);
    const secondBody = await json(second);
    expect(secondBody.cached).toBe(true);
    expect(pipeline.fake.calls).toBe(callsAfterFirst);
    // Answered by ingest-api from the cache (one hop, the result), not by the processor: the API
    // counted one edge hit, and the repeat still has its own row, marked cached.
    const metrics = await (await fetch(`${pipeline.baseUrl}/v1/metrics`)).text();
    expect(metrics).toMatch(
      /^sps_cache_requests_total\{stage="edge",outcome="hit",service="ingest-api"\} 1$/m,
    );
    const row = await waitUntil(
      () =>
        pipeline.db
          .selectFrom('request_logs')
          .select(['cached', 'status', 'attempts'])
          .where('request_id', '=', secondBody.request_id)
          .executeTakeFirst(),
      30_000,
      "the cached repeat's row",
    );
    expect(row).toMatchObject({ cached: true, status: 'succeeded', attempts: [] });

    // language_detection decides original_language, so it is part of the work: not a hit.
    const undetected = await analyze({ prompt, schema, options: { language_detection: false } });
    expect((await json(undetected)).cached).toBe(false);
    expect(pipeline.fake.calls).toBe(callsAfterFirst + 1);
  });

  it('refuses a request without a key, and names the bad field of a malformed body', async () => {
    const noKey = await fetch(`${pipeline.baseUrl}/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'hi' }),
    });
    expect(noKey.status).toBe(401);
    expect((await json(noKey)).error.code).toBe('UNAUTHORIZED');

    const bad = await analyze({ prompt: 'hi', options: { temperature: 3 }, colour: 'red' });
    expect(bad.status).toBe(400);
    const { error } = await json(bad);
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.request_id).toBeTruthy();
    const fields = error.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['options.temperature', 'colour']));
  });

  it('answers VALIDATION_FAILED with every error path when the provider never satisfies the schema', async () => {
    pipeline.fake.script(
      { kind: 'text', text: '{"amount": "ten"}' },
      { kind: 'text', text: '{"amount": "ten"}' },
      { kind: 'text', text: '{"amount": "ten"}' },
    );
    let response: Response;
    try {
      response = await analyze({
        prompt: `never valid ${Date.now()}`,
        schema: {
          type: 'object',
          properties: { amount: { type: 'number' }, id: { type: 'string' } },
          required: ['amount', 'id'],
        },
      });
    } finally {
      pipeline.fake.reset(); // no scripted answer left over, whatever happened
    }
    expect(response.status).toBe(422);
    const { error } = await json(response);
    expect(error.code).toBe('VALIDATION_FAILED');
    const paths = error.details.validation_errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['amount', '$']));
  });
});
