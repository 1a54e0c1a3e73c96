import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface TenantsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
}

export interface ApiKeysTable {
  id: Generated<string>;
  tenant_id: string;
  key_hash: string;
  key_prefix: string;
  name: string;
  rate_limit_per_hour: Generated<number>;
  webhook_secret: string | null;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  /** Providers / models the key may name in options (null: any); never empty (0004). */
  allowed_providers: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  allowed_models: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  /** Budgets per UTC day / month (null: none); bigint and numeric come back as exact strings. */
  daily_token_budget: Budget;
  monthly_token_budget: Budget;
  daily_cost_budget_usd: Budget;
  monthly_cost_budget_usd: Budget;
}

type Budget = ColumnType<string | null, number | string | null | undefined, number | string | null>;

export interface RequestLogsTable {
  id: Generated<string>;
  request_id: string;
  tenant_id: string;
  api_key_id: string | null;
  job_id: string | null;
  item_index: number | null;
  status: 'succeeded' | 'failed';
  prompt_text: string;
  prompt_length: number;
  request_params: Json;
  response_data: Json | null;
  validation_status: string | null;
  provider_used: string | null;
  model: string | null;
  processing_time_ms: number;
  tokens_in: number;
  tokens_out: number;
  tokens_used: number;
  cost_usd: ColumnType<string, number | string, number | string>;
  cached: boolean;
  repaired: boolean;
  error_code: string | null;
  error_message: string | null;
  error_details: Json | null;
  attempts: Json;
  created_at: CreatedAt;
}

export interface SchemasTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  version: number;
  description: string | null;
  schema_definition: JSONColumnType<Record<string, unknown>, string, string>;
  is_deprecated: Generated<boolean>;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface PromptTemplatesTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  version: number;
  description: string | null;
  template_text: string;
  parameters: Json;
  schema_name: string | null;
  schema_version: number | null;
  created_at: CreatedAt;
}

export type JobStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled' | 'expired';

export interface JobsTable {
  id: Generated<string>;
  tenant_id: string;
  api_key_id: string | null;
  job_type: string;
  status: Generated<JobStatus>;
  request_params: Json;
  idempotency_key: string | null;
  total_items: number;
  completed_items: Generated<number>;
  failed_items: Generated<number>;
  error_message: string | null;
  webhook_url: string | null;
  webhook_status: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  expires_at: Timestamp;
  event_emitted_at: Timestamp | null;
  webhook_attempts: Generated<number>;
  /** Set once Kafka acknowledged every item; null while (re)publication is owed. */
  items_published_at: Timestamp | null;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  tenant_id: string;
  job_id: string;
  event_id: string;
  attempt: number;
  url: string;
  status_code: number | null;
  latency_ms: number | null;
  outcome: 'delivered' | 'failed' | 'refused';
  error: string | null;
  attempted_at: CreatedAt;
}

export interface DatabaseSchema {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  request_logs: RequestLogsTable;
  schemas: SchemasTable;
  prompt_templates: PromptTemplatesTable;
  jobs: JobsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
