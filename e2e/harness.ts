import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { TOPICS, topicNames, type TopicKey, type TopicSpec } from '@sps/contracts';
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
    /** A broker of the test's own (see startPrivateKafka) instead of the shared stack's. */
    kafkaBrokers?: string;
  } = {},
) {
  const shared = await resolveTestEndpoints();
  const endpoints = options.kafkaBrokers ? { ...shared, kafkaBrokers: options.kafkaBrokers } : shared;
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  // Whatever is started is undone in reverse order, by stop() or by a start that fails half way.
  const undo: { what: string; run: () => Promise<unknown> }[] = [
    { what: 'release the endpoints', run: () => endpoints.release() },
  ];
  const spawned: RunningService[] = [];
  const teardown = async () => {
    const errors: unknown[] = [];
    for (const { what, run } of undo.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        errors.push(new Error(`stopping the pipeline: ${what} failed`, { cause: error }));
      }
    }
    if (errors.length > 0) throw errors[0];
  };
  try {
    const fake = await new FakeProviderServer({ latencyMs: options.latencyMs ?? 0 }).start();
    undo.push({ what: 'stop the fake provider', run: () => fake.stop() });
    const db = createDatabase({ url: endpoints.databaseUrl, poolSize: 4 });
    undo.push({ what: 'close the database pool', run: () => db.destroy() });
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
    // Registered before the topics exist: a failure half way through creating them still removes them.
    undo.push({ what: 'delete the test topics', run: () => deleteTopicsWithPrefix(kafka, prefix) });
    await ensureTestTopics(kafka, specs, prefix);
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
      // The job resumer and sweeper act on every job in the shared database: idle unless a test asks.
      JOB_RESUME_INTERVAL_MS: '3600000',
      SINK_SWEEP_INTERVAL_MS: '3600000',
      ...options.env,
    };
    const services: Record<string, RunningService> = {};
    // The apps stop first (before the topics go), each given its SIGTERM.
    undo.push({
      what: 'stop the apps',
      run: () => Promise.all(spawned.map((service) => service.stop('SIGTERM'))),
    });
    const spawn = async (app: App, extraEnv: Record<string, string> = {}) => {
      const service = await spawnService(app, { ...env, ...extraEnv }, READINESS[app]);
      spawned.push(service);
      return service;
    };
    const apps = options.apps ?? ['sink', 'processor', 'ingest-api'];
    // allSettled, not all: an app that fails must not leave the others starting unobserved.
    const started = await Promise.allSettled(apps.map(async (app) => (services[app] = await spawn(app))));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
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
      stop: teardown,
    };
    return pipeline;
  } catch (error) {
    await teardown().catch(() => undefined); // the start's own error is the one worth reporting
    throw error;
  }
}

/**
 * ensureTopics, retried until every topic has a leader. Under load the broker can answer the
 * creation's own wait for leaders with UNKNOWN_TOPIC_OR_PARTITION (kafkajs retries only
 * LEADER_NOT_AVAILABLE there): the topics exist, its metadata has not caught up yet.
 */
async function ensureTestTopics(kafka: Kafka, specs: TopicSpec[], prefix: string): Promise<void> {
  const topics = specs.map((spec) => prefix + spec.name);
  const admin = kafka.admin();
  await admin.connect();
  let lastError: unknown;
  try {
    await waitUntil(
      async () => {
        try {
          await ensureTopics(kafka, specs, prefix);
          const { topics: found } = await admin.fetchTopicMetadata({ topics });
          const led = found.every((topic) => topic.partitions.every((p) => p.leader >= 0));
          return found.length === topics.length && led ? true : undefined;
        } catch (error) {
          lastError = error; // retried until the deadline
          return undefined;
        }
      },
      60_000,
      `the topics of ${prefix} with their leaders`,
      500,
    );
  } catch (error) {
    throw lastError ? new Error(String(error), { cause: lastError }) : error;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Deletes every topic whose name starts with `prefix`, best effort: topics left behind only cost
 * the shared broker some space, so this never fails (nor holds up) a test.
 */
async function deleteTopicsWithPrefix(kafka: Kafka, prefix: string, timeoutMs = 10_000): Promise<void> {
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const attempt = (async () => {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: timeoutMs });
  })().catch(() => undefined); // best effort: a broker that is gone or slow is not the test's failure
  await Promise.race([attempt, deadline]);
  clearTimeout(timer);
  await admin.disconnect().catch(() => undefined);
}

export async function waitUntil<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => (socket.destroy(), resolve(false)));
    });
  await waitUntil(async () => ((await accepts()) ? true : undefined), timeoutMs, `port ${port}`, 20);
}

/** Response bodies in tests are checked by assertions, not by the type system. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = (response: Response): Promise<any> => response.json();
