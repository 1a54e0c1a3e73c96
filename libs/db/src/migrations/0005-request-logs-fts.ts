import { sql, type Kysely } from 'kysely';

// request_logs' full-text index (0001) is dropped: no query reads it (the API reads request_logs by
// request_id, by (tenant_id, job_id) and per key by (api_key_id, created_at); nothing searches the
// prompt text), and it is the dearest thing the sink pays for a row. bench/sink-cost.ts (50,000
// bench results, 2,000 a statement; CPU of the Postgres backend per row): 20 µs with only the primary
// key and the request_id unique index, +10 µs with this index alone, 1-2 µs for each b-tree; 31-33 µs
// with every index, 23 µs with every index but this one. In the sink bench (one sink, 24,000 rows),
// Postgres's CPU per row went from 40 µs to 30 µs without it. A prompt search, should one come, is
// better served off the write path (a search index fed from the results topic, or a replica).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS idx_request_logs_prompt_fts`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS idx_request_logs_prompt_fts
    ON request_logs USING gin (to_tsvector('english', prompt_text))`.execute(db);
}
