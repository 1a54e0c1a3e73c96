import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../database.js';
import type { DatabaseSchema, JobStatus, JobsTable } from '../tables.js';

export type JobRow = Selectable<JobsTable>;

/** `now() - ms` on the database's clock (one clock for every instance). */
const ago = (ms: number) => sql<Date>`now() - ${`${Math.max(0, Math.round(ms))} milliseconds`}::interval`;

/** The statuses a job ends in: it keeps that status and has exactly one outcome event. */
export const JOB_END_STATUSES = [
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const satisfies readonly JobStatus[];
/** The statuses of a job whose items may still run. */
export const JOB_RUNNING_STATUSES = ['pending', 'processing'] as const satisfies readonly JobStatus[];

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
  after?: { createdAtMicros: bigint; id: string },
) {
  // created_at is kept to the microsecond; a JavaScript Date holds milliseconds. The cursor carries
  // microseconds (created_at_us), or jobs created within the last row's millisecond would be skipped.
  let query = db
    .selectFrom('jobs')
    .selectAll()
    .select(sql<string>`(extract(epoch from created_at) * 1000000)::bigint::text`.as('created_at_us'))
    .where('tenant_id', '=', tenantId);
  if (after) {
    const at = sql<Date>`(timestamptz 'epoch' + ${after.createdAtMicros.toString()}::bigint * interval '1 microsecond')`;
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', after.id)])]),
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
 * whose last item just landed. A cancelled or expired job keeps its status (its counts still move).
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
          when status in ('cancelled', 'expired') then status
          when completed_items + failed_items + ${counts.ok + counts.failed} >= total_items
            then case when completed_items + ${counts.ok} > 0 then 'completed' else 'failed' end
          else 'processing' end`,
        completed_at: sql`case when status not in ('cancelled', 'expired') and completed_items + failed_items + ${counts.ok + counts.failed} >= total_items then now() else completed_at end`,
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
    .where('status', 'in', JOB_END_STATUSES)
    .where('event_emitted_at', 'is', null)
    .execute();
}

/**
 * Like jobsAwaitingEvent, but locks the rows (FOR UPDATE SKIP LOCKED) in the caller's transaction:
 * whoever holds a job emits its event and marks it before committing; a concurrent emitter skips it
 * instead of emitting it too.
 */
export async function lockJobsAwaitingEvent(
  trx: Kysely<DatabaseSchema>,
  jobIds: string[],
): Promise<JobRow[]> {
  if (jobIds.length === 0) return [];
  return trx
    .selectFrom('jobs')
    .selectAll()
    .where('id', 'in', jobIds)
    .where('status', 'in', JOB_END_STATUSES)
    .where('event_emitted_at', 'is', null)
    .orderBy('id')
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function markEventEmitted(db: Kysely<DatabaseSchema>, jobIds: string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db.updateTable('jobs').set({ event_emitted_at: new Date() }).where('id', 'in', jobIds).execute();
}

/**
 * Ended jobs whose event is still owed although they ended at least `endedBeforeMs` ago (and at
 * most `lookbackMs` ago): a page of `limit` ids, in id order after `afterId`.
 */
export async function jobsWithUnsentOutcome(
  db: Kysely<DatabaseSchema>,
  options: { endedBeforeMs: number; lookbackMs: number; limit: number; afterId?: string },
): Promise<string[]> {
  let query = db
    .selectFrom('jobs')
    .select('id')
    .where('event_emitted_at', 'is', null)
    .where('status', 'in', JOB_END_STATUSES)
    .where('completed_at', '<', ago(options.endedBeforeMs))
    .where('completed_at', '>', ago(options.lookbackMs));
  if (options.afterId) query = query.where('id', '>', options.afterId);
  const rows = await query.orderBy('id').limit(options.limit).execute();
  return rows.map((row) => row.id);
}

/**
 * Ends, as `expired`, up to `limit` jobs still pending or processing past their expires_at; returns
 * their ids. Rows another transaction holds are skipped (and expired by the next sweep); a job the
 * sink ends meanwhile stays ended as the sink left it, since both updates are guarded by status.
 */
export async function expireJobs(db: Kysely<DatabaseSchema>, limit: number): Promise<string[]> {
  const rows = await db
    .updateTable('jobs')
    .set({ status: 'expired', completed_at: sql`now()` })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('jobs')
        .select('id')
        .where('status', 'in', JOB_RUNNING_STATUSES)
        .where('expires_at', '<', sql<Date>`now()`)
        .orderBy('expires_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .where('status', 'in', JOB_RUNNING_STATUSES)
    .where('expires_at', '<', sql<Date>`now()`)
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

/** Records that Kafka acknowledged every item of the job. */
export async function markItemsPublished(db: Kysely<DatabaseSchema>, jobId: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ items_published_at: sql`now()` })
    .where('id', '=', jobId)
    .where('items_published_at', 'is', null)
    .execute();
}

/**
 * Claims, in the caller's transaction (FOR UPDATE SKIP LOCKED: one claimer per job), the oldest job
 * whose items were never all acknowledged, that was created at least `createdBeforeMs` ago, still
 * runs and has not expired; `exclude` skips jobs the caller is backing off from. A job can be
 * `processing` while unpublished: the items that did get out before the failure are running.
 */
export async function claimUnpublishedJob(
  trx: Kysely<DatabaseSchema>,
  options: { createdBeforeMs: number; exclude?: string[] },
): Promise<JobRow | undefined> {
  let query = trx
    .selectFrom('jobs')
    .selectAll()
    .where('items_published_at', 'is', null)
    .where('status', 'in', JOB_RUNNING_STATUSES)
    .where('created_at', '<', ago(options.createdBeforeMs))
    .where('expires_at', '>', sql<Date>`now()`);
  if (options.exclude && options.exclude.length > 0) query = query.where('id', 'not in', options.exclude);
  return query.orderBy('created_at').limit(1).forUpdate().skipLocked().executeTakeFirst();
}
