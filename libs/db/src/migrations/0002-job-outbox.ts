import type { Kysely } from 'kysely';

// A job's terminal event is emitted after the commit that ended it; this column is the outbox
// mark, so a crash between commit and emit is repaired on redelivery instead of losing the event.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('event_emitted_at', 'timestamptz').execute();
  await db.schema
    .alterTable('jobs')
    .addColumn('webhook_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('event_emitted_at').dropColumn('webhook_attempts').execute();
}
