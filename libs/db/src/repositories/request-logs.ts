import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../tables.js';

type Executor = Kysely<DatabaseSchema>;

/** One request's stored result, visible only to its own tenant. */
export async function findRequestLog(db: Executor, tenantId: string, requestId: string) {
  return db
    .selectFrom('request_logs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('request_id', '=', requestId)
    .executeTakeFirst();
}
