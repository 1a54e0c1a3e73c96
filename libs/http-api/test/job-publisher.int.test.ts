import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptRequestMessage } from '@sps/contracts';
import { createApiKey, createDatabase, migrateToLatest, type Database } from '@sps/db';
import { endTenantJobs, resolveTestEndpoints, type TestEndpoints } from '@sps/testing';
import { JobPublicationResumer } from '../src/job-publisher.js';

/**
 * Two resumers (two API instances) against real Postgres; the pipeline is a recording function
 * that refuses every job but this test's, so that other tests' rows are never marked.
 */
describe('JobPublicationResumer (real Postgres)', () => {
  let endpoints: TestEndpoints;
  let db: Database;
  let tenantId: string;
  let apiKeyId: string;

  beforeAll(async () => {
    endpoints = await resolveTestEndpoints();
    db = createDatabase({ url: endpoints.databaseUrl, poolSize: 8 });
    await migrateToLatest(db);
    const key = await createApiKey(db, { tenant: `resumer-${randomBytes(4).toString('hex')}`, name: 't' });
    tenantId = key.tenantId;
    apiKeyId = (
      await db.selectFrom('api_keys').select('id').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()
    ).id;
  });
  afterAll(async () => {
    // This tenant's jobs still running would otherwise be expired, or published, by other instances later.
    if (db && tenantId) await endTenantJobs(db, tenantId);
    await db?.destroy();
    await endpoints?.release();
  });

  it('publishes each stalled job exactly once across two instances, and leaves young jobs to their request', async () => {
    const insert = (ageSeconds: number, items: number) =>
      db
        .insertInto('jobs')
        .values({
          tenant_id: tenantId,
          api_key_id: apiKeyId,
          job_type: 'batch',
          request_params: JSON.stringify({ prompts: Array.from({ length: items }, (_, i) => `p${i}`) }),
          total_items: items,
          created_at: sql<Date>`now() - ${`${ageSeconds} seconds`}::interval`,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
        .then((row) => row.id);
    const stalled = await Promise.all(Array.from({ length: 6 }, () => insert(120, 3)));
    const young = await insert(0, 3);
    const mine = new Set([...stalled, young]);
    const published: PromptRequestMessage[] = [];
    const pipeline = {
      submit: async (message: PromptRequestMessage) => {
        if (!mine.has(message.job_id!)) throw new Error('not this test’s job');
        await new Promise((resolve) => setTimeout(resolve, 30));
        published.push(message);
      },
    };
    const options = { db, pipeline, intervalMs: 20, resumeAfterMs: 60_000, retryBackoffMs: 600_000 };
    const resumers = [new JobPublicationResumer(options), new JobPublicationResumer(options)];
    try {
      for (const resumer of resumers) resumer.start();
      const unpublished = () =>
        db
          .selectFrom('jobs')
          .select('id')
          .where('id', 'in', stalled)
          .where('items_published_at', 'is', null)
          .execute();
      const deadline = Date.now() + 30_000;
      while ((await unpublished()).length > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await unpublished()).toEqual([]);
    } finally {
      await Promise.all(resumers.map((resumer) => resumer.stop()));
    }
    const perJob = new Map<string, number>();
    for (const message of published) perJob.set(message.job_id!, (perJob.get(message.job_id!) ?? 0) + 1);
    expect(Object.fromEntries(perJob)).toEqual(Object.fromEntries(stalled.map((id) => [id, 3])));
    expect(new Set(published.map((m) => m.request_id)).size).toBe(published.length);
    const youngRow = await db
      .selectFrom('jobs')
      .select('items_published_at')
      .where('id', '=', young)
      .executeTakeFirstOrThrow();
    expect(youngRow.items_published_at).toBeNull();
  });
});
