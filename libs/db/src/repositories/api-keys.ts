import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../database.js';

export interface AuthenticatedKey {
  apiKeyId: string;
  tenantId: string;
  name: string;
  rateLimitPerHour: number;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key (and its tenant when new). The plain key is returned once and never stored. */
export async function createApiKey(
  db: Database,
  input: { tenant: string; name: string; rateLimitPerHour?: number; expiresAt?: Date },
): Promise<{ key: string; apiKeyId: string; tenantId: string; webhookSecret: string }> {
  const key = `sk_${randomBytes(24).toString('base64url')}`;
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  return db.transaction().execute(async (trx) => {
    const tenant = await trx
      .insertInto('tenants')
      .values({ name: input.tenant })
      .onConflict((oc) => oc.column('name').doUpdateSet({ name: sql`excluded.name` }))
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = await trx
      .insertInto('api_keys')
      .values({
        tenant_id: tenant.id,
        key_hash: hashApiKey(key),
        key_prefix: key.slice(0, 10),
        name: input.name,
        rate_limit_per_hour: input.rateLimitPerHour ?? 1000,
        expires_at: input.expiresAt ?? null,
        webhook_secret: webhookSecret,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { key, apiKeyId: row.id, tenantId: tenant.id, webhookSecret };
  });
}

/** The active, unexpired, unrevoked key with this hash, if any. */
export async function findActiveKey(db: Database, keyHash: string): Promise<AuthenticatedKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'tenant_id', 'name', 'rate_limit_per_hour'])
    .where('key_hash', '=', keyHash)
    .where('is_active', '=', true)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
    .executeTakeFirst();
  return (
    row && {
      apiKeyId: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      rateLimitPerHour: row.rate_limit_per_hour,
    }
  );
}

export async function listApiKeys(db: Database, tenant?: string) {
  let query = db
    .selectFrom('api_keys')
    .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
    .select([
      'api_keys.id',
      'tenants.name as tenant',
      'api_keys.name',
      'key_prefix',
      'rate_limit_per_hour',
      'api_keys.created_at',
      'expires_at',
      'revoked_at',
    ])
    .orderBy('api_keys.created_at');
  if (tenant) query = query.where('tenants.name', '=', tenant);
  return query.execute();
}

export async function revokeApiKey(db: Database, id: string): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: new Date(), is_active: false })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
