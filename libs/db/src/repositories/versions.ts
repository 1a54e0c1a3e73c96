import { sql, type Transaction } from 'kysely';
import type { DatabaseSchema } from '../tables.js';

/**
 * The latest version of a named document (schema or template) of a tenant, with the name locked
 * for the rest of the transaction so that concurrent writers get consecutive versions.
 */
export async function lockLatestVersion(
  trx: Transaction<DatabaseSchema>,
  table: 'schemas' | 'prompt_templates',
  tenantId: string,
  name: string,
): Promise<number | null> {
  await sql`select pg_advisory_xact_lock(hashtext(${`${table}/${tenantId}/${name}`}))`.execute(trx);
  const latest = await trx
    .selectFrom(table)
    .select((eb) => eb.fn.max('version').as('version'))
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .executeTakeFirst();
  return latest?.version ?? null;
}
