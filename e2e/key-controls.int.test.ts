import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type KeyControls } from '@sps/db';
import { freePort, type RunningService } from '@sps/testing';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';

/**
 * Per-key controls against the real apps (Kafka, Postgres, Redis; fake provider): allowlists,
 * rate limits counted in prompts, daily and monthly budgets from the recorded usage, and the flag
 * on attempts of a model without a price.
 */
describe('per-key controls (real stack; fake provider)', () => {
  let pipeline: Pipeline;
  let processor: RunningService;
  let metricsPort: number;
  let keys = 0;

  const post = (path: string, body: unknown, key: string, headers: Record<string, string> = {}) =>
    fetch(`${pipeline.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const get = (path: string, key: string) =>
    fetch(`${pipeline.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const newKey = async (input: { rateLimitPerHour?: number; controls?: Partial<KeyControls> } = {}) => {
    const created = await createApiKey(pipeline.db, {
      tenant: `controls-${pipeline.prefix}`,
      name: `key-${++keys}`,
      ...input,
    });
    return created;
  };
  const remaining = (response: Response) => Number(response.headers.get('x-ratelimit-remaining'));
  const storedRow = (requestId: string) =>
    waitUntil(
      () =>
        pipeline.db
          .selectFrom('request_logs')
          .selectAll()
          .where('request_id', '=', requestId)
          .executeTakeFirst(),
      30_000,
      `the stored result of ${requestId}`,
    );
  const nextUtcMidnight = () => {
    const now = new Date();
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  };

  beforeAll(async () => {
    pipeline = await startPipeline({ apps: ['sink', 'ingest-api'], rateLimitPerHour: 1000 });
    // The one processor serves its metrics, to read sps_llm_unpriced_calls_total.
    metricsPort = await freePort();
    processor = await pipeline.spawn('processor', { METRICS_PORT: String(metricsPort) });
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('refuses a model outside the allowlist with 403 naming options.model, before the provider is asked', async () => {
    const { key, apiKeyId } = await newKey({ controls: { allowedModels: ['gpt-4.1-mini', 'gpt-4o-mini'] } });
    const callsBefore = pipeline.fake.calls;

    const analyze = await post('/v1/analyze', { prompt: 'Invoice #1', options: { model: 'gpt-4o' } }, key);
    expect(analyze.status).toBe(403);
    const refused = await json(analyze);
    expect(refused.error.code).toBe('FORBIDDEN');
    expect(refused.error.details.fields).toEqual([
      { field: 'options.model', reason: 'not allowed for this key; allowed: gpt-4.1-mini, gpt-4o-mini' },
    ]);

    const batch = await post('/v1/analyze/batch', { prompts: ['a', 'b'], options: { model: 'gpt-4o' } }, key);
    expect(batch.status).toBe(403);
    expect((await json(batch)).error.details.fields[0].field).toBe('options.model');

    const job = await post(
      '/v1/jobs',
      { job_type: 'batch', request_params: { prompts: ['a', 'b'], options: { model: 'gpt-4o' } } },
      key,
    );
    expect(job.status).toBe(403);
    expect((await json(job)).error.details.fields[0].field).toBe('request_params.options.model');
    const jobs = await pipeline.db
      .selectFrom('jobs')
      .select('id')
      .where('api_key_id', '=', apiKeyId)
      .execute();
    expect(jobs).toEqual([]);
    expect(pipeline.fake.calls).toBe(callsBefore);

    // An allowed model runs; a request naming none runs with the key's first allowed model.
    const named = await post('/v1/analyze', { prompt: 'Invoice #2', options: { model: 'gpt-4o-mini' } }, key);
    expect(named.status).toBe(200);
    expect((await json(named)).model).toBe('gpt-4o-mini');
    const unnamed = await post('/v1/analyze', { prompt: 'Invoice #3' }, key);
    expect(unnamed.status).toBe(200);
    expect((await json(unnamed)).model).toBe('gpt-4.1-mini');
    expect(pipeline.fake.requests.at(-1)!.model).toBe('gpt-4.1-mini');
  });

  it('refuses a provider outside the allowlist the same way', async () => {
    const { key } = await newKey({ controls: { allowedProviders: ['anthropic'] } });
    const response = await post(
      '/v1/analyze',
      { prompt: 'Invoice #4', options: { provider: 'openai' } },
      key,
    );
    expect(response.status).toBe(403);
    expect((await json(response)).error.details.fields).toEqual([
      { field: 'options.provider', reason: 'not allowed for this key; allowed: anthropic' },
    ]);
  });

  it('counts a batch of N prompts as N points, and refuses a batch larger than what is left', async () => {
    const { key } = await newKey({ rateLimitPerHour: 150 });
    const first = await get('/v1/jobs', key); // one point, as every request
    expect(first.status).toBe(200);
    expect(remaining(first)).toBe(149);
    expect(first.headers.get('ratelimit-remaining')).toBe('149');

    const prompts = Array.from({ length: 100 }, (_, i) => `Invoice #${i} of the batch, amount ${i * 10} EUR`);
    const batch = await post('/v1/analyze/batch', { prompts }, key);
    expect(batch.status).toBe(200);
    expect(remaining(batch)).toBe(49); // dropped by 100
    expect((await json(batch)).summary.total).toBe(100);

    const callsBefore = pipeline.fake.calls;
    const second = await post('/v1/analyze/batch', { prompts }, key);
    expect(second.status).toBe(429);
    const refused = await json(second);
    expect(refused.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(refused.error.details).toMatchObject({ limit: 150, requested: 100, remaining: 48 });
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // Refused whole: only the request's own point was spent, and nothing reached the provider.
    expect(remaining(second)).toBe(48);
    expect(pipeline.fake.calls).toBe(callsBefore);
    const single = await post('/v1/analyze', { prompt: 'Invoice #single' }, key);
    expect(single.status).toBe(200);
    expect(remaining(single)).toBe(47);
  });

  it('counts a job of N items as N points; its resubmission under the same Idempotency-Key as one', async () => {
    const { key } = await newKey({ rateLimitPerHour: 30 });
    const body = {
      job_type: 'batch',
      request_params: { prompts: Array.from({ length: 20 }, (_, i) => `Job item ${i}`) },
    };
    const job = await post('/v1/jobs', body, key, { 'idempotency-key': 'job-a' });
    expect(job.status).toBe(202);
    expect(remaining(job)).toBe(10);

    const again = await post('/v1/jobs', body, key, { 'idempotency-key': 'job-a' });
    expect(again.status).toBe(202);
    expect((await json(again)).job_id).toBe((await json(job)).job_id);
    expect(remaining(again)).toBe(9);

    const other = await post('/v1/jobs', body, key, { 'idempotency-key': 'job-b' });
    expect(other.status).toBe(429);
    expect(Number(other.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(remaining(other)).toBe(8);

    // More prompts than the key may send in an hour: refused, and no wait would help.
    const huge = await newKey({ rateLimitPerHour: 10 });
    const tooBig = await post('/v1/jobs', body, huge.key);
    expect(tooBig.status).toBe(429);
    expect(tooBig.headers.get('retry-after')).toBeNull();
    expect((await json(tooBig)).error.details).toMatchObject({ limit: 10, requested: 20 });
  });

  it('stops a key with 429 BUDGET_EXCEEDED once its recorded usage passes its daily token budget', async () => {
    const { key } = await newKey({ controls: { dailyTokenBudget: 50 } });
    const first = await post('/v1/analyze', { prompt: 'Invoice #budget: 3 items, 120 EUR' }, key);
    expect(first.status).toBe(200);
    const { request_id } = await json(first);
    const row = await storedRow(request_id);
    expect(row.tokens_used).toBeGreaterThan(50); // the fake provider counts ~4 characters a token
    // The usage read by the first admission is kept 5 s per key: past it, the recorded usage counts.
    await new Promise((resolve) => setTimeout(resolve, 5_200));

    const callsBefore = pipeline.fake.calls;
    const refused = await post('/v1/analyze', { prompt: 'Invoice #budget again' }, key);
    expect(refused.status).toBe(429);
    const body = await json(refused);
    const resetsAt = nextUtcMidnight();
    expect(body.error.code).toBe('BUDGET_EXCEEDED');
    expect(body.error.details).toMatchObject({
      budget: 'daily_tokens',
      limit: 50,
      used: row.tokens_used,
      resets_at: resetsAt.toISOString(),
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Math.abs(retryAfter - (resetsAt.getTime() - Date.now()) / 1000)).toBeLessThan(5);
    expect(pipeline.fake.calls).toBe(callsBefore);

    // Batches and jobs are stopped too; reading what was done is not.
    expect((await post('/v1/analyze/batch', { prompts: ['x'] }, key)).status).toBe(429);
    expect(
      (await post('/v1/jobs', { job_type: 'analyze', request_params: { prompt: 'x' } }, key)).status,
    ).toBe(429);
    expect((await get(`/v1/requests/${request_id}`, key)).status).toBe(200);
  });

  it('stops a key whose monthly cost budget is spent, until the first of next month', async () => {
    const { key, apiKeyId, tenantId } = await newKey({ controls: { monthlyCostBudgetUsd: 1.5 } });
    const now = new Date();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const lastMonth = new Date(monthStart.getTime() - 1);
    const row = (requestId: string, createdAt: Date, cost: number) => ({
      request_id: requestId,
      tenant_id: tenantId,
      api_key_id: apiKeyId,
      status: 'succeeded' as const,
      prompt_text: 'recorded usage',
      prompt_length: 14,
      request_params: '{}',
      processing_time_ms: 1,
      tokens_in: 10,
      tokens_out: 10,
      tokens_used: 20,
      cost_usd: cost,
      cached: false,
      repaired: false,
      attempts: '[]',
      created_at: createdAt,
    });
    // Last month's spending does not count; this month's does, from its first instant.
    await pipeline.db
      .insertInto('request_logs')
      .values([row(crypto.randomUUID(), lastMonth, 100), row(crypto.randomUUID(), monthStart, 1.25)])
      .execute();
    const under = await post('/v1/analyze', { prompt: 'Invoice #monthly' }, key);
    expect(under.status).toBe(200);

    const { key: spentKey, apiKeyId: spentId } = await newKey({ controls: { monthlyCostBudgetUsd: 1.5 } });
    await pipeline.db
      .insertInto('request_logs')
      .values({ ...row(crypto.randomUUID(), monthStart, 1.75), api_key_id: spentId })
      .execute();
    const refused = await post('/v1/analyze', { prompt: 'Invoice #monthly' }, spentKey);
    expect(refused.status).toBe(429);
    const resetsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    expect((await json(refused)).error.details).toMatchObject({
      budget: 'monthly_cost_usd',
      limit: 1.5,
      used: 1.75,
      resets_at: resetsAt.toISOString(),
    });
  });

  it('flags the attempts of a model without a price, counts them, and warns once per model', async () => {
    const unpriced = 'fake-unpriced-model';
    const answers = [];
    for (const prompt of ['Unpriced #1', 'Unpriced #2']) {
      const response = await post('/v1/analyze', { prompt, options: { model: unpriced } }, pipeline.apiKey);
      expect(response.status).toBe(200);
      answers.push(await json(response));
    }
    const priced = await json(await post('/v1/analyze', { prompt: 'Priced #1' }, pipeline.apiKey));
    expect(priced.model).toBe('gpt-4o-mini');

    const unpricedRow = await storedRow(answers[0].request_id);
    expect(unpricedRow.model).toBe(unpriced);
    expect(unpricedRow.attempts).toEqual([
      expect.objectContaining({ model: unpriced, outcome: 'valid', cost_usd: 0, unpriced: true }),
    ]);
    expect(Number(unpricedRow.cost_usd)).toBe(0);
    const pricedRow = await storedRow(priced.request_id);
    const [pricedAttempt] = pricedRow.attempts as Record<string, unknown>[];
    expect(pricedAttempt).not.toHaveProperty('unpriced');
    expect(pricedAttempt!.cost_usd).toBeGreaterThan(0);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const unpricedCalls = (model: string) =>
      metrics
        .split('\n')
        .find(
          (line) => line.startsWith('sps_llm_unpriced_calls_total{') && line.includes(`model="${model}"`),
        );
    expect(unpricedCalls(unpriced)).toMatch(/provider="openai".* 2$/);
    expect(unpricedCalls('gpt-4o-mini')).toBeUndefined();
    const warnings = processor.output().match(/\[SPS_UNPRICED_MODEL\].*fake-unpriced-model/g) ?? [];
    expect(warnings).toHaveLength(1);
  });
});
