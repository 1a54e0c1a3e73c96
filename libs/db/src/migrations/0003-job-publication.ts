import { sql, type Kysely } from 'kysely';

// A job is stored, then its items are published; `items_published_at` is set once Kafka has
// acknowledged every item, so a job whose publication was cut short (a failed send, a crash) is
// found and published again (by its resubmission or by the API's resumer). Jobs may also end as
// `expired`: jobs.status is a plain varchar(20) without a CHECK constraint (0001), so the new
// status needs no schema change, only the repository's and the sweeper's queries.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('items_published_at', 'timestamptz').execute();
  // Rows from before this column were published by the code of their time: never again.
  await sql`UPDATE jobs SET items_published_at = created_at`.execute(db);
  // Rows that ended before the sink's sweeper existed and carry no outbox mark either predate 0002
  // (their events went out unmarked) or were lost long ago: the sweeper must not emit, and send
  // webhooks for, all of them at once. Recently ended ones stay unmarked, so it repairs those.
  await sql`UPDATE jobs SET event_emitted_at = completed_at
    WHERE event_emitted_at IS NULL
      AND status IN ('completed', 'failed', 'cancelled')
      AND completed_at < now() - interval '1 hour'`.execute(db);

  // What the resumer, the expiry sweep and the outcome sweep look for: small partial indexes.
  await sql`CREATE INDEX idx_jobs_unpublished ON jobs (created_at) WHERE items_published_at IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX idx_jobs_running_expiry ON jobs (expires_at)
    WHERE status IN ('pending', 'processing')`.execute(db);
  await sql`CREATE INDEX idx_jobs_outcome_unsent ON jobs (id)
    WHERE event_emitted_at IS NULL AND status IN ('completed', 'failed', 'cancelled', 'expired')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ['idx_jobs_outcome_unsent', 'idx_jobs_running_expiry', 'idx_jobs_unpublished'])
    await db.schema.dropIndex(index).ifExists().execute();
  await db.schema.alterTable('jobs').dropColumn('items_published_at').execute();
}
