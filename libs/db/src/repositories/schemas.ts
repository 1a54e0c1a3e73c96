import type { Database } from '../database.js';
import { listLatestVersions, lockLatestVersion } from './versions.js';

/** Adds a version of a named schema: version 1 when `expectNew`, else the next one (undefined if the name is unknown). */
export async function addSchemaVersion(
  db: Database,
  input: {
    tenantId: string;
    apiKeyId: string;
    name: string;
    description?: string;
    definition: Record<string, unknown>;
    expectNew: boolean;
  },
) {
  return db.transaction().execute(async (trx) => {
    const current = await lockLatestVersion(trx, 'schemas', input.tenantId, input.name);
    if (input.expectNew ? current !== null : current === null) return { conflict: true as const, current };
    const row = await trx
      .insertInto('schemas')
      .values({
        tenant_id: input.tenantId,
        name: input.name,
        version: (current ?? 0) + 1,
        description: input.description ?? null,
        schema_definition: JSON.stringify(input.definition),
        created_by: input.apiKeyId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { conflict: false as const, row };
  });
}

/** One version, or the latest non-deprecated one when no version is given. */
export async function findSchema(db: Database, tenantId: string, name: string, version?: number) {
  let query = db.selectFrom('schemas').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name);
  query =
    version === undefined
      ? query.where('is_deprecated', '=', false).orderBy('version', 'desc').limit(1)
      : query.where('version', '=', version);
  return query.executeTakeFirst();
}

/** The latest version of every schema of a tenant. */
export async function listSchemas(db: Database, tenantId: string) {
  return listLatestVersions(db, 'schemas', tenantId);
}

export async function deprecateSchema(db: Database, tenantId: string, name: string, version: number) {
  return db
    .updateTable('schemas')
    .set({ is_deprecated: true })
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .where('version', '=', version)
    .returningAll()
    .executeTakeFirst();
}
