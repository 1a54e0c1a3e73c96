import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
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

/** The latest version of every name of a tenant, names in order. (Typed as either table; the query is the same.) */
export async function listLatestVersions<T extends 'schemas' | 'prompt_templates'>(
  db: Kysely<DatabaseSchema>,
  table: T,
  tenantId: string,
) {
  return db
    .selectFrom(table as 'schemas')
    .distinctOn('name')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('name')
    .orderBy('version', 'desc')
    .execute() as unknown as Promise<Selectable<DatabaseSchema[T]>[]>;
}
