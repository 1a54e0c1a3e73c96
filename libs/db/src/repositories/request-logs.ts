import type { ResultMessage } from '@sps/contracts';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../tables.js';

type Executor = Kysely<DatabaseSchema>;

const ROWS_PER_INSERT = 1_000;

/**
 * Writes results as request_logs rows; a redelivered result never makes a second row.
 * Returns the request ids that were new, so that job progress counts each item once.
 */
export async function insertResults(db: Executor, results: ResultMessage[]): Promise<ResultMessage[]> {
  if (results.length === 0) return [];
  const unique = [...new Map(results.map((r) => [r.request_id, r])).values()];
  const newIds = new Set<string>();
  // Postgres takes at most 65,535 parameters per statement (26 a row): a backlog is inserted in slices.
  for (let i = 0; i < unique.length; i += ROWS_PER_INSERT) {
    const inserted = await db
      .insertInto('request_logs')
      .values(unique.slice(i, i + ROWS_PER_INSERT).map(toRow))
      .onConflict((oc) => oc.column('request_id').doNothing())
      .returning('request_id')
      .execute();
    for (const row of inserted) newIds.add(row.request_id);
  }
  return unique.filter((r) => newIds.has(r.request_id));
}

function toRow(result: ResultMessage) {
  const tokensIn = result.attempts.reduce((n, a) => n + a.tokens_in, 0);
  const tokensOut = result.attempts.reduce((n, a) => n + a.tokens_out, 0);
  return {
    request_id: result.request_id,
    tenant_id: result.tenant_id,
    api_key_id: result.api_key_id ?? null,
    job_id: result.job_id ?? null,
    item_index: result.item_index ?? null,
    status: result.status,
    prompt_text: result.prompt,
    prompt_length: result.prompt.length,
    request_params: JSON.stringify(result.request_params),
    response_data: result.output ? JSON.stringify(result.output) : null,
    validation_status:
      result.output?.validation_status ?? (result.error?.code === 'VALIDATION_FAILED' ? 'failed' : null),
    provider_used: result.output?.provider_used ?? result.attempts.at(-1)?.provider ?? null,
    model: result.output?.model ?? result.attempts.at(-1)?.model ?? null,
    processing_time_ms: result.processing_time_ms,
    tokens_in: tokensIn,
    tokens_out: tokensOut,
    tokens_used: tokensIn + tokensOut,
    cost_usd: result.attempts.reduce((n, a) => n + a.cost_usd, 0),
    cached: result.output?.cached ?? false,
    repaired: result.output?.repaired ?? false,
    error_code: result.error?.code ?? null,
    error_message: result.error?.message ?? null,
    error_details: result.error?.details ? JSON.stringify(result.error.details) : null,
    attempts: JSON.stringify(result.attempts),
    created_at: result.completed_at,
  };
}

/** One request's stored result, visible only to its own tenant. */
export async function findRequestLog(db: Executor, tenantId: string, requestId: string) {
  return db
    .selectFrom('request_logs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('request_id', '=', requestId)
    .executeTakeFirst();
}
