import { sql } from 'kysely';
import type { Database } from '../database.js';

/** The newest stored requests of one tenant (idx_request_logs_tenant_created), summaries only. */
export async function recentRequestLogs(db: Database, tenantId: string, limit: number) {
  return db
    .selectFrom('request_logs')
    .select([
      'request_id',
      'job_id',
      'status',
      sql<string>`left(prompt_text, 200)`.as('prompt_preview'),
      'validation_status',
      'provider_used',
      'model',
      'processing_time_ms',
      'tokens_used',
      'cost_usd',
      'cached',
      'repaired',
      'error_code',
      'created_at',
    ])
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .orderBy('request_id', 'desc')
    .limit(limit)
    .execute();
}

export interface TenantUsage {
  dayRequests: number;
  dayTokens: number;
  dayCostUsd: number;
  monthRequests: number;
  monthTokens: number;
  monthCostUsd: number;
}

/**
 * A tenant's requests, tokens and cost since `dayStart` and since `monthStart`: one range scan of
 * idx_request_logs_tenant_created over the month (every key of the tenant, pipeline requests too).
 */
export async function tenantUsage(
  db: Database,
  tenantId: string,
  since: { dayStart: Date; monthStart: Date },
): Promise<TenantUsage> {
  const { dayStart, monthStart } = since;
  const from = monthStart < dayStart ? monthStart : dayStart;
  const row = await db
    .selectFrom('request_logs')
    .select([
      sql<string>`count(*) filter (where created_at >= ${dayStart})`.as('day_requests'),
      sql<string>`coalesce(sum(tokens_used) filter (where created_at >= ${dayStart}), 0)`.as('day_tokens'),
      sql<string>`coalesce(sum(cost_usd) filter (where created_at >= ${dayStart}), 0)`.as('day_cost'),
      sql<string>`count(*)`.as('month_requests'),
      sql<string>`coalesce(sum(tokens_used), 0)`.as('month_tokens'),
      sql<string>`coalesce(sum(cost_usd), 0)`.as('month_cost'),
    ])
    .where('tenant_id', '=', tenantId)
    .where('created_at', '>=', from)
    .executeTakeFirstOrThrow();
  return {
    dayRequests: Number(row.day_requests),
    dayTokens: Number(row.day_tokens),
    dayCostUsd: Number(row.day_cost),
    monthRequests: Number(row.month_requests),
    monthTokens: Number(row.month_tokens),
    monthCostUsd: Number(row.month_cost),
  };
}
