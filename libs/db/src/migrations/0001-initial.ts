import { sql, type Kysely } from 'kysely';

// Tables of seed 3.6, each row owned by a tenant; indexes of seed 8.2 with tenant leading where
// queries are per tenant.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pgcrypto`.execute(db);

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id'))
    .addColumn('key_hash', 'char(64)', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'varchar(16)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('rate_limit_per_hour', 'integer', (c) => c.notNull().defaultTo(1000))
    .addColumn('webhook_secret', 'text')
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('idx_api_keys_tenant').on('api_keys').column('tenant_id').execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id'))
    .addColumn('api_key_id', 'uuid', (c) => c.references('api_keys.id'))
    .addColumn('job_type', 'varchar(50)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending'))
    .addColumn('request_params', 'jsonb', (c) => c.notNull())
    .addColumn('idempotency_key', 'varchar(255)')
    .addColumn('total_items', 'integer', (c) => c.notNull())
    .addColumn('completed_items', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_items', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error_message', 'text')
    .addColumn('webhook_url', 'varchar(2048)')
    .addColumn('webhook_status', 'varchar(20)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now() + interval '24 hours'`))
    .addUniqueConstraint('uq_jobs_tenant_idempotency', ['tenant_id', 'idempotency_key'])
    .execute();
  await db.schema
    .createIndex('idx_jobs_tenant_created')
    .on('jobs')
    .columns(['tenant_id', 'created_at desc', 'id'])
    .execute();
  await db.schema
    .createIndex('idx_jobs_status_created')
    .on('jobs')
    .columns(['status', 'created_at desc'])
    .execute();

  await db.schema
    .createTable('request_logs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('request_id', 'uuid', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('api_key_id', 'uuid')
    .addColumn('job_id', 'uuid')
    .addColumn('item_index', 'integer')
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('prompt_text', 'text', (c) => c.notNull())
    .addColumn('prompt_length', 'integer', (c) => c.notNull())
    .addColumn('request_params', 'jsonb', (c) => c.notNull())
    .addColumn('response_data', 'jsonb')
    .addColumn('validation_status', 'varchar(20)')
    .addColumn('provider_used', 'varchar(64)')
    .addColumn('model', 'varchar(128)')
    .addColumn('processing_time_ms', 'integer', (c) => c.notNull())
    .addColumn('tokens_in', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_out', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_used', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_usd', 'numeric(12, 6)', (c) => c.notNull().defaultTo(0))
    .addColumn('cached', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('repaired', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('error_code', 'varchar(64)')
    .addColumn('error_message', 'text')
    .addColumn('error_details', 'jsonb')
    .addColumn('attempts', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // tenant_id is text here: pipeline producers name their tenant without a key row.
  await db.schema
    .createIndex('idx_request_logs_tenant_created')
    .on('request_logs')
    .columns(['tenant_id', 'created_at desc'])
    .execute();
  await db.schema
    .createIndex('idx_request_logs_api_key_created')
    .on('request_logs')
    .columns(['api_key_id', 'created_at desc'])
    .execute();
  await db.schema
    .createIndex('idx_request_logs_provider_status')
    .on('request_logs')
    .columns(['provider_used', 'validation_status'])
    .execute();
  await db.schema
    .createIndex('idx_request_logs_job')
    .on('request_logs')
    .columns(['job_id', 'item_index'])
    .where('job_id', 'is not', null)
    .execute();
  await sql`CREATE INDEX idx_request_logs_prompt_fts ON request_logs USING gin (to_tsvector('english', prompt_text))`.execute(
    db,
  );

  await db.schema
    .createTable('schemas')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('schema_definition', 'jsonb', (c) => c.notNull())
    .addColumn('is_deprecated', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_by', 'uuid', (c) => c.references('api_keys.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('uq_schemas_tenant_name_version', ['tenant_id', 'name', 'version'])
    .execute();
  await db.schema.createIndex('idx_schemas_name').on('schemas').columns(['tenant_id', 'name']).execute();

  await db.schema
    .createTable('prompt_templates')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('template_text', 'text', (c) => c.notNull())
    .addColumn('parameters', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('schema_name', 'varchar(255)')
    .addColumn('schema_version', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('uq_templates_tenant_name_version', ['tenant_id', 'name', 'version'])
    .execute();
  await db.schema
    .createIndex('idx_prompt_templates_name')
    .on('prompt_templates')
    .columns(['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id'))
    .addColumn('job_id', 'uuid', (c) => c.notNull().references('jobs.id'))
    .addColumn('event_id', 'uuid', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('latency_ms', 'integer')
    .addColumn('outcome', 'varchar(20)', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('attempted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('uq_webhook_deliveries_event_attempt', ['event_id', 'attempt'])
    .execute();
  await db.schema
    .createIndex('idx_webhook_deliveries_job')
    .on('webhook_deliveries')
    .columns(['job_id', 'attempted_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'webhook_deliveries',
    'prompt_templates',
    'schemas',
    'request_logs',
    'jobs',
    'api_keys',
    'tenants',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
