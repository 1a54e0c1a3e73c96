import type { Database } from '../database.js';
import { listLatestVersions, lockLatestVersion } from './versions.js';

export interface TemplateInput {
  tenantId: string;
  name: string;
  description?: string;
  text: string;
  parameters: string[];
  schemaRef?: { name: string; version?: number };
  expectNew: boolean;
}

/** Adds a version of a named template: version 1 when `expectNew`, else the next one. */
export async function addTemplateVersion(db: Database, input: TemplateInput) {
  return db.transaction().execute(async (trx) => {
    const current = await lockLatestVersion(trx, 'prompt_templates', input.tenantId, input.name);
    if (input.expectNew ? current !== null : current === null) return { conflict: true as const, current };
    const row = await trx
      .insertInto('prompt_templates')
      .values({
        tenant_id: input.tenantId,
        name: input.name,
        version: (current ?? 0) + 1,
        description: input.description ?? null,
        template_text: input.text,
        parameters: JSON.stringify(input.parameters),
        schema_name: input.schemaRef?.name ?? null,
        schema_version: input.schemaRef?.version ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { conflict: false as const, row };
  });
}

export async function findTemplate(db: Database, tenantId: string, name: string, version?: number) {
  let query = db
    .selectFrom('prompt_templates')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name);
  query =
    version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
  return query.executeTakeFirst();
}

export async function listTemplates(db: Database, tenantId: string) {
  return listLatestVersions(db, 'prompt_templates', tenantId);
}
