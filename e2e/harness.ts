import { randomBytes } from 'node:crypto';
import { TOPICS, topicNames, type TopicKey } from '@sps/contracts';
import { createApiKey, createDatabase, migrateToLatest, type Database } from '@sps/db';
import { createKafka, ensureTopics, type Kafka } from '@sps/kafka';
import { createLogger } from '@sps/observability';
import {
  FakeProviderServer,
  freePort,
  resolveTestEndpoints,
  spawnService,
  type RunningService,
  type TestEndpoints,
} from '@sps/testing';

export interface Pipeline {
  baseUrl: string;
  apiKey: string;
  tenantId: string;
  prefix: string;
  db: Database;
  kafka: Kafka;
  fake: FakeProviderServer;
  endpoints: TestEndpoints;
  services: Record<string, RunningService>;
  env: Record<string, string>;
  topics: Record<TopicKey, string>;
  /** Starts one more app process with extra settings (e.g. a second processor). */
  spawn(app: App, extraEnv?: Record<string, string>): Promise<RunningService>;
  stop(): Promise<void>;
}

type App = 'ingest-api' | 'processor' | 'sink' | 'webhook-dispatcher';
const READINESS = {
  sink: /sink consuming/,
  processor: /processor consuming/,
  'ingest-api': /Server listening/,
  'webhook-dispatcher': /webhook dispatcher consuming/,
} as const;

/**
 * The whole system for one test file: real Kafka, Postgres and Redis, the fake provider, and
 * each app in its own process. Topics and consumer groups carry a per-file prefix.
 */
export async function startPipeline(
  options: {
    latencyMs?: number;
    apps?: App[];
    partitions?: Partial<Record<TopicKey, number>>;
    env?: Record<string, string>;
    rateLimitPerHour?: number;
  } = {},
) {
  const endpoints = await resolveTestEndpoints();
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const fake = await new FakeProviderServer({ latencyMs: options.latencyMs ?? 0 }).start();
  const db = createDatabase({ url: endpoints.databaseUrl, poolSize: 4 });
  await migrateToLatest(db);
  const { key, tenantId } = await createApiKey(db, {
    tenant: `tenant-${prefix}`,
    name: 'e2e',
    rateLimitPerHour: options.rateLimitPerHour,
  });
  const kafka = createKafka({
    brokers: endpoints.kafkaBrokers,
    clientId: 'e2e',
    logger: createLogger({ service: 'e2e', level: 'error' }),
  });
  const specs = Object.entries(TOPICS).map(([key, spec]) => ({
    ...spec,
    partitions: options.partitions?.[key as TopicKey] ?? spec.partitions,
  }));
  await ensureTopics(kafka, specs, prefix);
  const port = await freePort();
  const env = {
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    DATABASE_URL: endpoints.databaseUrl,
    REDIS_URL: endpoints.redisUrl,
    KAFKA_TOPIC_PREFIX: prefix,
    PROCESSOR_GROUP_ID: `${prefix}processor`,
    SINK_GROUP_ID: `${prefix}sink`,
    WEBHOOK_GROUP_ID: `${prefix}webhooks`,
    LLM_PROVIDERS: 'openai',
    OPENAI_API_KEY: 'sk-fake',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    OPENAI_MODEL: 'gpt-4o-mini',
    PORT: String(port),
    HOST: '127.0.0.1',
    PROCESSOR_SESSION_TIMEOUT_MS: '6000',
    ...options.env,
  };
  const services: Record<string, RunningService> = {};
  const spawned: RunningService[] = [];
  const spawn = async (app: App, extraEnv: Record<string, string> = {}) => {
    const service = await spawnService(app, { ...env, ...extraEnv }, READINESS[app]);
    spawned.push(service);
    return service;
  };
  const apps = options.apps ?? ['sink', 'processor', 'ingest-api'];
  await Promise.all(apps.map(async (app) => (services[app] = await spawn(app))));
  const pipeline: Pipeline = {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: key,
    tenantId,
    prefix,
    db,
    kafka,
    fake,
    endpoints,
    services,
    env,
    topics: topicNames(prefix),
    spawn,
    async stop() {
      await Promise.all(spawned.map((service) => service.stop('SIGTERM')));
      await fake.stop();
      await db.destroy();
      await endpoints.release();
    },
  };
  return pipeline;
}

export async function waitUntil<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Response bodies in tests are checked by assertions, not by the type system. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = (response: Response): Promise<any> => response.json();
