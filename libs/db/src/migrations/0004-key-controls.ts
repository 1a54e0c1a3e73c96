import { sql, type Kysely } from 'kysely';

// Per-key controls for a shared gateway: which providers and models a key may name (null: any) and
// its daily and monthly token and cost budgets (null: none), enforced by the ingest API from the
// usage recorded in request_logs. Empty allowlists and negative budgets are refused: a key that may
// do nothing is revoked instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_keys')
    .addColumn('allowed_providers', sql`text[]`)
    .addColumn('allowed_models', sql`text[]`)
    .addColumn('daily_token_budget', 'bigint')
    .addColumn('monthly_token_budget', 'bigint')
    .addColumn('daily_cost_budget_usd', 'numeric')
    .addColumn('monthly_cost_budget_usd', 'numeric')
    .execute();
  await sql`ALTER TABLE api_keys
    ADD CONSTRAINT ck_api_keys_allowed_providers
      CHECK (allowed_providers IS NULL OR cardinality(allowed_providers) > 0),
    ADD CONSTRAINT ck_api_keys_allowed_models
      CHECK (allowed_models IS NULL OR cardinality(allowed_models) > 0),
    ADD CONSTRAINT ck_api_keys_budgets CHECK (
      coalesce(daily_token_budget, 0) >= 0 AND coalesce(monthly_token_budget, 0) >= 0
      AND coalesce(daily_cost_budget_usd, 0) >= 0 AND coalesce(monthly_cost_budget_usd, 0) >= 0
    )`.execute(db);

  // A key's usage since the start of the UTC month (and day) is summed before admitting its
  // requests: (api_key_id, created_at) already leads idx_request_logs_api_key_created (0001); this
  // one also carries the summed columns, so the sum is an index-only scan rather than a heap fetch
  // per row of a busy key's month.
  await sql`CREATE INDEX IF NOT EXISTS idx_request_logs_key_usage
    ON request_logs (api_key_id, created_at) INCLUDE (tokens_used, cost_usd)
    WHERE api_key_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('idx_request_logs_key_usage').ifExists().execute();
  // The constraints go with their columns.
  await db.schema
    .alterTable('api_keys')
    .dropColumn('allowed_providers')
    .dropColumn('allowed_models')
    .dropColumn('daily_token_budget')
    .dropColumn('monthly_token_budget')
    .dropColumn('daily_cost_budget_usd')
    .dropColumn('monthly_cost_budget_usd')
    .execute();
}
