import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { DatabaseSchema } from '../tables.js';

export interface NewJob {
  tenantId: string;
  apiKeyId: string;
  jobType: string;
  requestParams: unknown;
  totalItems: number;
  webhookUrl?: string;
  idempotencyKey?: string;
}

/** Creates a job, or returns the one already created under the same idempotency key. */
export async function createJob(db: Database, job: NewJob) {
  const inserted = await db
    .insertInto('jobs')
    .values({
      tenant_id: job.tenantId,
      api_key_id: job.apiKeyId,
      job_type: job.jobType,
      request_params: JSON.stringify(job.requestParams),
      total_items: job.totalItems,
      webhook_url: job.webhookUrl ?? null,
      webhook_status: job.webhookUrl ? 'pending' : null,
      idempotency_key: job.idempotencyKey ?? null,
    })
    .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { job: inserted, created: true };
  const existing = await db
    .selectFrom('jobs')
    .selectAll()
    .where('tenant_id', '=', job.tenantId)
    .where('idempotency_key', '=', job.idempotencyKey ?? '')
    .executeTakeFirstOrThrow();
  return { job: existing, created: false };
}

export async function findJob(db: Database, tenantId: string, jobId: string) {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .executeTakeFirst();
}

export async function jobItems(db: Database, tenantId: string, jobId: string) {
  return db
    .selectFrom('request_logs')
    .select(['request_id', 'item_index', 'status', 'response_data', 'error_code', 'error_message'])
    .where('tenant_id', '=', tenantId)
    .where('job_id', '=', jobId)
    .orderBy('item_index')
    .execute();
}

export async function jobDeliveries(db: Database, tenantId: string, jobId: string) {
  return db
    .selectFrom('webhook_deliveries')
    .select(['attempt', 'attempted_at', 'status_code', 'latency_ms', 'outcome', 'error'])
    .where('tenant_id', '=', tenantId)
    .where('job_id', '=', jobId)
    .orderBy('attempted_at')
    .orderBy('attempt')
    .execute();
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listJobs(
  db: Database,
  tenantId: string,
  limit: number,
  after?: { createdAt: Date; id: string },
) {
  let query = db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', after.createdAt),
        eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)]),
      ]),
    );
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** Cancels a job that has not finished; returns it, or undefined when it had already ended. */
export async function cancelJob(db: Database, tenantId: string, jobId: string) {
  return db
    .updateTable('jobs')
    .set({ status: 'cancelled', completed_at: new Date() })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .where('status', 'in', ['pending', 'processing'])
    .returningAll()
    .executeTakeFirst();
}

/**
 * Counts newly stored items towards their jobs (in the caller's transaction) and ends the jobs
 * whose last item just landed.
 */
export async function recordJobProgress(
  db: Kysely<DatabaseSchema>,
  items: { jobId: string; succeeded: boolean }[],
): Promise<void> {
  const perJob = new Map<string, { ok: number; failed: number }>();
  for (const item of items) {
    const counts = perJob.get(item.jobId) ?? { ok: 0, failed: 0 };
    if (item.succeeded) counts.ok += 1;
    else counts.failed += 1;
    perJob.set(item.jobId, counts);
  }
  for (const [jobId, counts] of perJob) {
    await db
      .updateTable('jobs')
      .set((eb) => ({
        completed_items: eb('completed_items', '+', counts.ok),
        failed_items: eb('failed_items', '+', counts.failed),
        started_at: sql`coalesce(started_at, now())`,
        status: sql`case
          when status = 'cancelled' then 'cancelled'
          when completed_items + failed_items + ${counts.ok + counts.failed} >= total_items
            then case when completed_items + ${counts.ok} > 0 then 'completed' else 'failed' end
          else 'processing' end`,
        completed_at: sql`case when status <> 'cancelled' and completed_items + failed_items + ${counts.ok + counts.failed} >= total_items then now() else completed_at end`,
      }))
      .where('id', '=', jobId)
      .execute();
  }
}

/** Ended jobs among these whose event has not been emitted yet (the outbox). */
export async function jobsAwaitingEvent(db: Database, jobIds: string[]) {
  if (jobIds.length === 0) return [];
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('id', 'in', jobIds)
    .where('status', 'in', ['completed', 'failed', 'cancelled'])
    .where('event_emitted_at', 'is', null)
    .execute();
}

export async function markEventEmitted(db: Database, jobIds: string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db.updateTable('jobs').set({ event_emitted_at: new Date() }).where('id', 'in', jobIds).execute();
}
