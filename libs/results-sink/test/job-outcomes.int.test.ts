import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createDatabase, migrateToLatest, type Database } from '@sps/db';
import { endTenantJobs, resolveTestEndpoints, type TestEndpoints } from '@sps/testing';
import { emitJobOutcomes, jobEventId } from '../src/job-outcomes.js';

/** emitJobOutcomes against real Postgres; Kafka is a recording function (only these jobs are touched). */
describe('emitJobOutcomes (real Postgres)', () => {
  let endpoints: TestEndpoints;
  let db: Database;
  let tenantId: string;

  beforeAll(async () => {
    endpoints = await resolveTestEndpoints();
    db = createDatabase({ url: endpoints.databaseUrl, poolSize: 12 });
    await migrateToLatest(db);
    tenantId = (await createApiKey(db, { tenant: `outcomes-${randomBytes(4).toString('hex')}`, name: 't' }))
      .tenantId;
  });
  afterAll(async () => {
    // This tenant's jobs still running would otherwise be expired, or published, by other instances later.
    if (db && tenantId) await endTenantJobs(db, tenantId);
    await db?.destroy();
    await endpoints?.release();
  });

  const insertJob = async (status: 'processing' | 'completed' | 'expired') =>
    (
      await db
        .insertInto('jobs')
        .values({
          tenant_id: tenantId,
          job_type: 'batch',
          status,
          request_params: '{}',
          total_items: 2,
          completed_items: status === 'completed' ? 2 : 0,
          completed_at: status === 'processing' ? null : sql<Date>`now()`,
          items_published_at: sql<Date>`now()`,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;

  it('emits an ended job once although ten emitters race for it, and skips a running job', async () => {
    const ended = await insertJob('completed');
    const running = await insertJob('processing');
    const sent: { topic: string; key: string; value: string }[] = [];
    const send = async (topic: string, record: { key: string; value: string }) => {
      await new Promise((resolve) => setTimeout(resolve, 50)); // a send takes a while: the race is real
      sent.push({ topic, ...record });
    };
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        emitJobOutcomes({ db, send, topic: 'events' }, [ended, running, ended]),
      ),
    );
    expect(results.flat()).toHaveLength(1);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ topic: 'events', key: ended });
    expect(JSON.parse(sent[0]!.value)).toMatchObject({
      event_id: jobEventId(ended, 'completed'),
      type: 'job.completed',
      summary: { total: 2, successful: 2, failed: 0 },
    });
    const rows = await db
      .selectFrom('jobs')
      .select(['id', 'event_emitted_at'])
      .where('id', 'in', [ended, running])
      .execute();
    expect(rows.find((r) => r.id === ended)!.event_emitted_at).not.toBeNull();
    expect(rows.find((r) => r.id === running)!.event_emitted_at).toBeNull();
    // Emitted: never again.
    expect(await emitJobOutcomes({ db, send, topic: 'events' }, [ended])).toEqual([]);
  });

  it('marks nothing when the send fails, so that the next attempt emits the same event', async () => {
    const expired = await insertJob('expired');
    const failing = async () => {
      throw new Error('broker gone');
    };
    await expect(emitJobOutcomes({ db, send: failing, topic: 'events' }, [expired])).rejects.toThrow(
      'broker gone',
    );
    const row = await db
      .selectFrom('jobs')
      .select('event_emitted_at')
      .where('id', '=', expired)
      .executeTakeFirstOrThrow();
    expect(row.event_emitted_at).toBeNull();
    const values: string[] = [];
    const events = await emitJobOutcomes(
      { db, send: async (_topic, record) => void values.push(record.value), topic: 'events' },
      [expired],
    );
    expect(events.map((e) => e.event_id)).toEqual([jobEventId(expired, 'expired')]);
    expect(JSON.parse(values[0]!)).toMatchObject({ type: 'job.expired', status: 'expired' });
  });
});
