import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultMessage } from '@sps/contracts';
import { createApiKey, createDatabase, migrateToLatest, type Database } from '@sps/db';
import { endTenantJobs, resolveTestEndpoints, type TestEndpoints } from '@sps/testing';
import { insertResults } from '../src/insert-results.js';
import { classifyStorageError, storeResults, type StoreResultsDeps } from '../src/store-results.js';

/** storeResults and its one-statement insert against real Postgres (Kafka is a recording function). */
describe('storeResults (real Postgres)', () => {
  let endpoints: TestEndpoints;
  let db: Database;
  let tenantId: string;
  const sent: { topic: string; key: string; value: string }[] = [];
  let deps: StoreResultsDeps;

  beforeAll(async () => {
    endpoints = await resolveTestEndpoints();
    db = createDatabase({ url: endpoints.databaseUrl, poolSize: 4 });
    await migrateToLatest(db);
    tenantId = (await createApiKey(db, { tenant: `store-${randomBytes(4).toString('hex')}`, name: 't' }))
      .tenantId;
    deps = {
      db,
      outcomes: {
        db,
        topic: 'events',
        send: async (topic, record) => {
          sent.push({ topic, ...record });
        },
      },
    };
  });
  afterAll(async () => {
    if (db && tenantId) {
      await endTenantJobs(db, tenantId);
      await sql`delete from request_logs where tenant_id = ${tenantId}`.execute(db);
    }
    await db?.destroy();
    await endpoints?.release();
  });

  const result = (fields: Partial<ResultMessage> = {}): ResultMessage => ({
    request_id: randomUUID(),
    tenant_id: tenantId,
    status: 'succeeded',
    output: {
      data: { a: 1 },
      output_format: 'json',
      validation_status: 'passed',
      provider_used: 'openai',
      model: 'gpt-4o-mini',
      cached: false,
      repaired: true,
      original_language: 'en',
    },
    prompt: 'store me',
    request_params: { format: 'json' },
    attempts: [
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        outcome: 'valid',
        tokens_in: 10,
        tokens_out: 5,
        cost_usd: 0.000012,
        latency_ms: 3,
      },
      {
        provider: 'anthropic',
        model: 'claude',
        outcome: 'valid',
        tokens_in: 7,
        tokens_out: 2,
        cost_usd: 0.5,
        latency_ms: 4,
      },
    ],
    processing_time_ms: 42,
    completed_at: '2026-01-02T03:04:05.678Z',
    ...fields,
  });

  const rowsOf = (ids: string[]) =>
    db.selectFrom('request_logs').selectAll().where('request_id', 'in', ids).orderBy('request_id').execute();

  const newJob = async (totalItems: number) =>
    (
      await db
        .insertInto('jobs')
        .values({
          tenant_id: tenantId,
          job_type: 'batch',
          status: 'processing',
          request_params: '{}',
          total_items: totalItems,
          items_published_at: sql<Date>`now()`,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;

  /** What the batch runner does with a batch its handler refuses: halves until the refused stand alone. */
  async function bisect(batch: ResultMessage[], refused: ResultMessage[]): Promise<void> {
    try {
      await storeResults(deps, batch);
    } catch (error) {
      expect(classifyStorageError(error)).toBe('permanent');
      if (batch.length === 1) {
        refused.push(batch[0]!);
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      await bisect(batch.slice(0, middle), refused);
      await bisect(batch.slice(middle), refused);
    }
  }

  it('stores every column as the result says, whatever the text holds', async () => {
    const awkward = [
      'quote " backslash \\ brace } { comma , NULL',
      '',
      'NULL',
      '  leading and trailing  ',
      'line\nbreak\ttab\r',
      'émoji 🙂 and 中文',
      '\\"{}\\\\',
    ];
    const plain = result({
      api_key_id: randomUUID(),
      request_params: { s: awkward[0], n: null, list: [1, '"'] },
    });
    const failed = result({
      status: 'failed',
      output: undefined,
      error: { code: 'VALIDATION_FAILED', message: awkward[0]!, details: { path: '/a', why: awkward[6] } },
      attempts: [],
      completed_at: '2026-01-02T03:04:05Z',
    });
    const texts = awkward.map((prompt) => result({ prompt }));
    const batch = [plain, failed, ...texts];
    expect(await storeResults(deps, batch)).toBe(batch.length);

    const rows = new Map((await rowsOf(batch.map((r) => r.request_id))).map((r) => [r.request_id, r]));
    expect(rows.size).toBe(batch.length);
    for (const r of texts) {
      expect(rows.get(r.request_id)!.prompt_text).toBe(r.prompt);
      expect(rows.get(r.request_id)!.prompt_length).toBe(r.prompt.length);
    }
    expect(rows.get(plain.request_id)).toMatchObject({
      tenant_id: tenantId,
      api_key_id: plain.api_key_id,
      job_id: null,
      item_index: null,
      status: 'succeeded',
      request_params: plain.request_params,
      response_data: plain.output,
      validation_status: 'passed',
      provider_used: 'openai',
      model: 'gpt-4o-mini',
      processing_time_ms: 42,
      tokens_in: 17,
      tokens_out: 7,
      tokens_used: 24,
      cost_usd: '0.500012',
      cached: false,
      repaired: true,
      error_code: null,
      error_message: null,
      error_details: null,
      attempts: plain.attempts,
    });
    expect(new Date(rows.get(plain.request_id)!.created_at).toISOString()).toBe(plain.completed_at);
    expect(rows.get(failed.request_id)).toMatchObject({
      status: 'failed',
      response_data: null,
      validation_status: 'failed',
      provider_used: null,
      model: null,
      tokens_used: 0,
      cost_usd: '0.000000',
      error_code: 'VALIDATION_FAILED',
      error_message: awkward[0],
      error_details: failed.error!.details,
      attempts: [],
    });
  });

  it('stores a replayed batch once, and counts its job items once', async () => {
    const jobId = await newJob(3);
    const batch = [0, 1, 2].map((i) =>
      result({ job_id: jobId, item_index: i, ...(i === 2 ? { status: 'failed' as const } : {}) }),
    );
    expect(await storeResults(deps, batch.slice(0, 2))).toBe(2);
    // The whole batch again, the same result twice in it, and one id in upper case: one new row.
    const replay = [...batch, batch[1]!, { ...batch[0]!, request_id: batch[0]!.request_id.toUpperCase() }];
    expect(await storeResults(deps, replay)).toBe(1);
    expect(await storeResults(deps, replay)).toBe(0);
    expect(await rowsOf(batch.map((r) => r.request_id))).toHaveLength(3);
    const job = await db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ status: 'completed', completed_items: 2, failed_items: 1 });
    expect(sent.filter((s) => s.key === jobId)).toHaveLength(1);
  });

  it('fails a batch with a row Postgres refuses as a whole, storing nothing; the bisected rest stores', async () => {
    const jobId = await newJob(8);
    const good = Array.from({ length: 5 }, (_, i) => result({ job_id: jobId, item_index: i }));
    const refusals = [
      result({ job_id: jobId, item_index: 5, processing_time_ms: 3_000_000_000 }), // int4: 22003
      result({
        job_id: jobId,
        item_index: 6,
        error: { code: 'INTERNAL_ERROR', message: 'x' },
        output: undefined,
        attempts: [{ ...result().attempts[0]!, cost_usd: 1e9 }],
      }), // numeric(12, 6): 22003
      result({
        job_id: jobId,
        item_index: 7,
        output: { ...result().output!, provider_used: 'p'.repeat(65) },
      }), // varchar(64): 22001
    ];
    const batch = [
      good[0]!,
      refusals[0]!,
      good[1]!,
      good[2]!,
      refusals[1]!,
      good[3]!,
      refusals[2]!,
      good[4]!,
    ];

    const error = await storeResults(deps, batch).catch((e: unknown) => e);
    expect(classifyStorageError(error)).toBe('permanent');
    expect(await rowsOf(batch.map((r) => r.request_id))).toHaveLength(0);

    const refused: ResultMessage[] = [];
    await bisect(batch, refused);
    expect(refused.map((r) => r.request_id)).toEqual(refusals.map((r) => r.request_id));
    expect((await rowsOf(batch.map((r) => r.request_id))).map((r) => r.request_id).sort()).toEqual(
      good.map((r) => r.request_id).sort(),
    );
    const job = await db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ status: 'processing', completed_items: 5, failed_items: 0 });
  });

  it('refuses NUL in text as data (22021), not as a database that is away', async () => {
    const error = await storeResults(deps, [result({ prompt: 'a\u0000b' })]).catch((e: unknown) => e);
    expect(classifyStorageError(error)).toBe('permanent');
    expect((error as Error).message).toMatch(/0x00/);
  });

  it('inserts a batch far past 65,535 bind parameters in one statement', async () => {
    const batch = Array.from({ length: 6_000 }, (_, i) => result({ prompt: `backlog ${i}` }));
    expect(await insertResults(db, batch)).toHaveLength(6_000);
    expect(await insertResults(db, batch)).toHaveLength(0);
    expect(
      Number(
        (
          await sql<{
            n: string;
          }>`select count(*) as n from request_logs where request_id = any(${batch.map((r) => r.request_id)}::uuid[])`.execute(
            db,
          )
        ).rows[0]!.n,
      ),
    ).toBe(6_000);
  });
});
