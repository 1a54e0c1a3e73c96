import { hash, randomBytes } from 'node:crypto';
import { sql, type Selectable, type Updateable } from 'kysely';
import type { Database } from '../database.js';
import type { ApiKeysTable } from '../tables.js';

/**
 * What a key may use and spend (migration 0004). Null: no restriction. Allowlists are never empty;
 * budgets are per UTC day and UTC month, counted from the usage recorded in request_logs.
 */
export interface KeyControls {
  allowedProviders: string[] | null;
  allowedModels: string[] | null;
  dailyTokenBudget: number | null;
  monthlyTokenBudget: number | null;
  dailyCostBudgetUsd: number | null;
  monthlyCostBudgetUsd: number | null;
}

export const NO_KEY_CONTROLS: KeyControls = {
  allowedProviders: null,
  allowedModels: null,
  dailyTokenBudget: null,
  monthlyTokenBudget: null,
  dailyCostBudgetUsd: null,
  monthlyCostBudgetUsd: null,
};

export interface AuthenticatedKey {
  apiKeyId: string;
  tenantId: string;
  name: string;
  rateLimitPerHour: number;
  /** Set for every key read by findActiveKey; absent (no restriction) on principals built in code. */
  controls?: KeyControls;
}

/** A key's recorded usage since the start of the UTC day and of the UTC month. */
export interface KeyUsage {
  dayTokens: number;
  dayCostUsd: number;
  monthTokens: number;
  monthCostUsd: number;
}

const CONTROL_COLUMNS = [
  'allowed_providers',
  'allowed_models',
  'daily_token_budget',
  'monthly_token_budget',
  'daily_cost_budget_usd',
  'monthly_cost_budget_usd',
] as const;

export function hashApiKey(key: string): string {
  // One-shot: no Hash object per authenticated request.
  return hash('sha256', key, 'hex');
}

/** Creates a key (and its tenant when new). The plain key is returned once and never stored. */
export async function createApiKey(
  db: Database,
  input: {
    tenant: string;
    name: string;
    rateLimitPerHour?: number;
    expiresAt?: Date;
    controls?: Partial<KeyControls>;
  },
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
        ...controlColumns(input.controls ?? {}),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { key, apiKeyId: row.id, tenantId: tenant.id, webhookSecret };
  });
}

/**
 * Changes a key's controls: only the fields given (null clears one). False when no key has this id.
 * Running API instances apply the change once their authentication cache expires (30 s).
 */
export async function updateKeyControls(
  db: Database,
  id: string,
  changes: Partial<KeyControls> & { rateLimitPerHour?: number },
): Promise<boolean> {
  const values: Updateable<ApiKeysTable> = controlColumns(changes);
  if (changes.rateLimitPerHour !== undefined) values.rate_limit_per_hour = changes.rateLimitPerHour;
  if (Object.keys(values).length === 0) throw new Error('nothing to change');
  const result = await db.updateTable('api_keys').set(values).where('id', '=', id).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The active, unexpired, unrevoked key with this hash, if any. */
export async function findActiveKey(db: Database, keyHash: string): Promise<AuthenticatedKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'tenant_id', 'name', 'rate_limit_per_hour', ...CONTROL_COLUMNS])
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
      controls: controlsOf(row),
    }
  );
}

/**
 * The tokens and cost recorded for a key since `dayStart` and since `monthStart` (when given; else
 * the month sums cover the day only): one range scan of idx_request_logs_key_usage (0004).
 */
export async function keyUsage(
  db: Database,
  apiKeyId: string,
  since: { dayStart: Date; monthStart?: Date },
): Promise<KeyUsage> {
  const { dayStart } = since;
  const from = since.monthStart && since.monthStart < dayStart ? since.monthStart : dayStart;
  const row = await db
    .selectFrom('request_logs')
    .select([
      sql<string>`coalesce(sum(tokens_used) filter (where created_at >= ${dayStart}), 0)`.as('day_tokens'),
      sql<string>`coalesce(sum(cost_usd) filter (where created_at >= ${dayStart}), 0)`.as('day_cost'),
      sql<string>`coalesce(sum(tokens_used), 0)`.as('month_tokens'),
      sql<string>`coalesce(sum(cost_usd), 0)`.as('month_cost'),
    ])
    .where('api_key_id', '=', apiKeyId)
    .where('created_at', '>=', from)
    .executeTakeFirstOrThrow();
  return {
    dayTokens: Number(row.day_tokens),
    dayCostUsd: Number(row.day_cost),
    monthTokens: Number(row.month_tokens),
    monthCostUsd: Number(row.month_cost),
  };
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
      ...CONTROL_COLUMNS,
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

/** Rows read before 0004's columns existed (or from a stub) have them undefined: no restriction. */
function controlsOf(
  row: Partial<Pick<Selectable<ApiKeysTable>, (typeof CONTROL_COLUMNS)[number]>>,
): KeyControls {
  const amount = (value: string | null | undefined) =>
    value === null || value === undefined ? null : Number(value);
  return {
    allowedProviders: row.allowed_providers ?? null,
    allowedModels: row.allowed_models ?? null,
    dailyTokenBudget: amount(row.daily_token_budget),
    monthlyTokenBudget: amount(row.monthly_token_budget),
    dailyCostBudgetUsd: amount(row.daily_cost_budget_usd),
    monthlyCostBudgetUsd: amount(row.monthly_cost_budget_usd),
  };
}

/** The columns of the controls given (undefined: left as is; null: cleared), checked. */
function controlColumns(controls: Partial<KeyControls>) {
  const list = (name: string, value: string[] | null | undefined) => {
    if (value === null || value === undefined) return value;
    const items = [...new Set(value.map((item) => item.trim()).filter(Boolean))];
    if (items.length === 0) throw new Error(`${name}: give at least one name, or null for any`);
    return items;
  };
  const amount = (name: string, value: number | null | undefined, integer: boolean) => {
    if (value === null || value === undefined) return value;
    if (!Number.isFinite(value) || value < 0 || (integer && !Number.isSafeInteger(value)))
      throw new Error(`${name}: must be a non-negative ${integer ? 'integer' : 'number'}, or null for none`);
    return String(value);
  };
  const columns = {
    allowed_providers: list('allowedProviders', controls.allowedProviders),
    allowed_models: list('allowedModels', controls.allowedModels),
    daily_token_budget: amount('dailyTokenBudget', controls.dailyTokenBudget, true),
    monthly_token_budget: amount('monthlyTokenBudget', controls.monthlyTokenBudget, true),
    daily_cost_budget_usd: amount('dailyCostBudgetUsd', controls.dailyCostBudgetUsd, false),
    monthly_cost_budget_usd: amount('monthlyCostBudgetUsd', controls.monthlyCostBudgetUsd, false),
  };
  return Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined)) as Partial<
    Pick<Updateable<ApiKeysTable>, keyof typeof columns>
  >;
}
