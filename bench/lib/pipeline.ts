import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { TOPICS, topicNames, type TopicKey } from '@sps/contracts';
import { createDatabase, type Database } from '@sps/db';
import { createKafka, ensureTopics, type Kafka } from '@sps/kafka';
import { createLogger } from '@sps/observability';
import { freePort } from '@sps/testing';
import { sql } from 'kysely';
import { benchPrefix, log, REPO_ROOT, sleep, type StackEnv } from './env.js';
import { spawnApp, type App, type FakeProvider, type Proc } from './procs.js';

export const MODEL = 'gpt-4o-mini';

/** Topics, consumer groups and app settings of one benchmark run, all under a prefix of its own. */
export interface BenchPipeline {
  prefix: string;
  env: Record<string, string>;
  topics: Record<TopicKey, string>;
  kafka: Kafka;
  db: Database;
  port: number;
  spawn(
    app: App,
    options?: { name?: string; env?: Record<string, string>; profile?: boolean },
  ): Promise<Proc>;
  /** Deletes the run's topics (the shared broker keeps nothing of it) and closes clients. */
  close(): Promise<void>;
}

export async function createBenchPipeline(
  stack: StackEnv,
  name: string,
  fake: FakeProvider,
  options: { env?: Record<string, string>; partitions?: Partial<Record<TopicKey, number>> } = {},
): Promise<BenchPipeline> {
  const prefix = benchPrefix(name);
  const kafka = createKafka({
    brokers: stack.KAFKA_BROKERS,
    clientId: `bench-${name}`,
    logger: createLogger({ service: 'bench', level: 'error' }),
  });
  const specs = Object.entries(TOPICS).map(([key, spec]) => ({
    ...spec,
    partitions: options.partitions?.[key as TopicKey] ?? spec.partitions,
  }));
  // Right after another run deleted its topics, the broker's metadata can briefly answer
  // UNKNOWN_TOPIC_OR_PARTITION for fresh ones: retry (topics already made are left as they are).
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureTopics(kafka, specs, prefix);
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
      log(`creating topics of ${prefix} failed (${(error as Error).message}); retrying`);
      await sleep(2_000 * attempt);
    }
  }
  const db = createDatabase({ url: stack.DATABASE_URL, poolSize: 2 });
  const port = await freePort();
  const env: Record<string, string> = {
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    DATABASE_URL: stack.DATABASE_URL,
    REDIS_URL: stack.REDIS_URL,
    KAFKA_TOPIC_PREFIX: prefix,
    PROCESSOR_GROUP_ID: `${prefix}processor`,
    SINK_GROUP_ID: `${prefix}sink`,
    WEBHOOK_GROUP_ID: `${prefix}webhooks`,
    MIGRATE_ON_START: 'true',
    LLM_PROVIDERS: 'openai',
    OPENAI_API_KEY: 'sk-fake',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    OPENAI_MODEL: MODEL,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  let count = 0;
  return {
    prefix,
    env,
    topics: topicNames(prefix),
    kafka,
    db,
    port,
    spawn: (app, spawnOptions = {}) =>
      spawnApp(
        app,
        { ...env, ...spawnOptions.env },
        { name: spawnOptions.name ?? `${app}-${++count}`, profile: spawnOptions.profile },
      ),
    async close() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: Object.values(topicNames(prefix)), timeout: 30_000 });
      } catch (error) {
        log(`could not delete topics of ${prefix}: ${String(error)}`);
      } finally {
        await admin.disconnect();
      }
      await db.destroy();
    },
  };
}

export interface BenchKey {
  key: string;
  apiKeyId: string;
  tenantId: string;
}

/** `npm run keys -- create --tenant bench --name bench --json --rate-limit N`, as scripts/dev.sh does. */
export function createBenchKey(stack: StackEnv, rateLimitPerHour = 1_000_000_000): BenchKey {
  const output = execFileSync(
    'npm',
    [
      'run',
      '--silent',
      'keys',
      '--',
      'create',
      '--tenant',
      'bench',
      '--name',
      'bench',
      '--json',
      '--rate-limit',
      String(rateLimitPerHour),
    ],
    { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: stack.DATABASE_URL }, encoding: 'utf8' },
  );
  const line = output.trim().split('\n').pop()!;
  return JSON.parse(line) as BenchKey;
}

/** Removes what a run left in the shared database: its request logs, and its key (revoked). */
export async function cleanUpKey(db: Database, key: BenchKey): Promise<void> {
  await sql`delete from request_logs where api_key_id = ${key.apiKeyId}`.execute(db);
  await sql`update api_keys set is_active = false, revoked_at = now() where id = ${key.apiKeyId}`.execute(db);
}

export async function deleteTenantLogs(db: Database, tenantId: string): Promise<void> {
  await sql`delete from request_logs where tenant_id = ${tenantId}`.execute(db);
}

export async function countKeyLogs(db: Database, apiKeyId: string): Promise<number> {
  const { rows } = await sql<{
    count: string;
  }>`select count(*) as count from request_logs where api_key_id = ${apiKeyId}`.execute(db);
  return Number(rows[0]?.count ?? 0);
}

/**
 * Where a pipeline request's time went, from the rows of one run: the processor's own time per
 * request (processing_time_ms: from handing the message to the handler to the result) and the
 * provider call as the SDK saw it (attempts[0].latency_ms).
 */
export async function pipelineBreakdown(db: Database, apiKeyId: string, since: Date) {
  const { rows } = await sql<{
    rows: string;
    processing_p50: number | null;
    processing_p99: number | null;
    call_p50: number | null;
    call_p99: number | null;
  }>`
    select count(*) as rows,
      percentile_cont(0.5) within group (order by processing_time_ms) as processing_p50,
      percentile_cont(0.99) within group (order by processing_time_ms) as processing_p99,
      percentile_cont(0.5) within group (order by (attempts->0->>'latency_ms')::int) as call_p50,
      percentile_cont(0.99) within group (order by (attempts->0->>'latency_ms')::int) as call_p99
    from request_logs where api_key_id = ${apiKeyId} and created_at >= ${since}`.execute(db);
  const row = rows[0]!;
  return {
    rows: Number(row.rows),
    processor_ms_p50: row.processing_p50,
    processor_ms_p99: row.processing_p99,
    provider_call_ms_p50: row.call_p50,
    provider_call_ms_p99: row.call_p99,
  };
}

export async function countLogs(db: Database, tenantId: string): Promise<number> {
  const { rows } = await sql<{
    count: string;
  }>`select count(*) as count from request_logs where tenant_id = ${tenantId}`.execute(db);
  return Number(rows[0]?.count ?? 0);
}

/** The body a data pipeline (or the ingest API) puts on the requests topic for item i. */
export const INVOICE_SCHEMA = {
  type: 'object',
  properties: {
    invoice_number: { type: 'string' },
    date: { type: 'string' },
    amount: { type: 'number' },
    currency: { type: 'string' },
  },
  required: ['invoice_number', 'date', 'amount', 'currency'],
  additionalProperties: false,
};

/**
 * Marks this process's prompts: the bench tenant and the response cache (TTL an hour) outlive a
 * run, so without it a run's "cache miss" prompts were answered from the cache of the run before
 * (seen: 5,476 of 9,190 requests of a miss round were hits when bench:overhead ran twice in a row).
 */
const RUN_MARK = randomBytes(4).toString('hex');

export function invoicePrompt(i: number): string {
  return `Extract key details from Invoice #${100000 + i}, Date: 2025-01-15, Amount: $1,250.00 (run ${RUN_MARK} item ${i})`;
}
