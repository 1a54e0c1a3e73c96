import type { Server } from 'node:http';
import { sql } from 'kysely';
import { createRedis, type Redis } from '@sps/cache';
import { TOPICS, topicNames, type TopicKey } from '@sps/contracts';
import { createDatabase, migrateToLatest, type Database } from '@sps/db';
import {
  configureGroupConsumers,
  createKafka,
  createProducer,
  ensureTopics,
  kafkaHealthProbe,
  type Kafka,
  type Producer,
} from '@sps/kafka';
import {
  createLogger,
  createMetricsRegistry,
  startMetricsServer,
  startTracing,
  type Logger,
  type Registry,
} from '@sps/observability';
import { exitFatal } from './fatal.js';
import { runService, type ServiceHandle } from './run-service.js';
import { ServiceHealth } from './service-health.js';

/** The settings bootService reads (CommonConfig and KafkaConfig, with DatabaseConfig and RedisConfig when needed). */
export interface BootConfig {
  LOG_LEVEL: string;
  METRICS_PORT?: number;
  SHUTDOWN_GRACE_MS: number;
  KAFKA_BROKERS: string;
  KAFKA_TOPIC_PREFIX: string;
  KAFKA_CLIENT_ID?: string;
  KAFKA_CONSUMER_MAX_RETRIES?: number;
  DATABASE_URL?: string;
  DATABASE_POOL_SIZE?: number;
  REDIS_URL?: string;
}

/** What a service needs besides Kafka (topics ensured, one connected producer), which every app has. */
export interface BootNeeds {
  /** A Postgres pool of DATABASE_POOL_SIZE; migrated to the latest schema first when `migrate`. */
  database?: { migrate: boolean };
  /** A Redis client of REDIS_URL (`false`: none). Readiness treats it as optional when `optional`. */
  redis?: boolean | { optional: true };
  /**
   * The metrics server on METRICS_PORT (when set) with /metrics, /health/live and /health/ready.
   * Apps with an HTTP server of their own serve these there instead.
   */
  metrics?: boolean;
}

export interface BootSpec<N extends BootNeeds> {
  /** The service's name: its logger's, its metrics prefix's, and its Kafka client id (`sps-<name>`). */
  name: string;
  /** The Kafka client id when KAFKA_CLIENT_ID is unset (default `sps-<name>`). */
  clientId?: string;
  config: BootConfig;
  needs: N;
}

export interface BootContext {
  logger: Logger;
  registry: Registry;
  kafka: Kafka;
  topics: Record<TopicKey, string>;
  /** Connected; disconnected by bootService after the service's own stop. */
  producer: Producer;
  /** Readiness: started once `start` resolves; add dependency checks of the service's own. */
  health: ServiceHealth;
}

type DatabasePart<N extends BootNeeds> = N['database'] extends object ? { db: Database } : unknown;
type RedisPart<N extends BootNeeds> = N['redis'] extends true | { optional: true }
  ? { redis: Redis }
  : N['redis'] extends false | undefined
    ? unknown
    : { redis: Redis | undefined };

export type BootedContext<N extends BootNeeds> = BootContext & DatabasePart<N> & RedisPart<N>;

/**
 * The boot sequence of every app, declared rather than repeated: logger, registry, metrics server
 * (health probes answer from here on; ready once `start` resolves), Kafka (topics ensured, consumer
 * policy set: a group that gives up for good exits the process through exitFatal), Postgres
 * (migrated if asked), Redis, producer; then `start` wires the handlers and starts consuming.
 *
 * Tracing (startTracing) is started before anything else, when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 *
 * Shutdown, on SIGINT/SIGTERM: not ready → the service's own stop (stop consuming, finish in
 * flight, commit) → producer disconnect → Redis quit → database destroy → metrics server close →
 * spans flushed and the tracing SDK stopped.
 */
export async function bootService<N extends BootNeeds>(
  spec: BootSpec<N>,
  start: (context: BootedContext<N>) => Promise<ServiceHandle>,
): Promise<void> {
  const { config, needs, name } = spec;
  // First, so that everything after runs with the SDK registered (a no-op without an endpoint).
  const tracing = startTracing(name);
  const logger = createLogger({ service: name, level: config.LOG_LEVEL });
  await runService(
    logger,
    async () => {
      const health = new ServiceHealth();
      const registry = createMetricsRegistry(name);
      const closers: { what: string; run: () => Promise<unknown> }[] = [];
      let metricsServer: Server | undefined;
      if (needs.metrics && config.METRICS_PORT !== undefined) {
        metricsServer = await startMetricsServer(registry, config.METRICS_PORT, '0.0.0.0', health);
        const server = metricsServer;
        closers.push({
          what: 'metrics server',
          run: () => new Promise<void>((resolve) => server.close(() => resolve())),
        });
      }
      configureGroupConsumers({
        maxRetries: config.KAFKA_CONSUMER_MAX_RETRIES,
        onStatus: (groupId, status) => health.groupStatus(groupId, status),
        onFatal: (error, groupId) => {
          health.markDead(`consumer group ${groupId} gave up`);
          exitFatal(logger, `consumer group ${groupId} gave up`, error);
        },
      });
      const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
      const kafka = createKafka({
        brokers: config.KAFKA_BROKERS,
        clientId: config.KAFKA_CLIENT_ID ?? spec.clientId ?? `sps-${name}`,
        logger,
      });
      await ensureTopics(kafka, Object.values(TOPICS), config.KAFKA_TOPIC_PREFIX);
      health.addCheck('kafka', kafkaHealthProbe(kafka));
      const parts: { db?: Database; redis?: Redis } = {};
      if (needs.database) {
        if (config.DATABASE_URL === undefined) throw new Error(`${name} needs DATABASE_URL`);
        const db = createDatabase({
          url: config.DATABASE_URL,
          poolSize: config.DATABASE_POOL_SIZE,
          applicationName: `sps-${name}`,
        });
        closers.unshift({ what: 'database', run: () => db.destroy() });
        if (needs.database.migrate) await migrateToLatest(db);
        health.addCheck('postgres', () => sql`select 1`.execute(db));
        parts.db = db;
      }
      if (needs.redis) {
        if (config.REDIS_URL === undefined) throw new Error(`${name} needs REDIS_URL`);
        const redis = createRedis(config.REDIS_URL);
        closers.unshift({ what: 'redis', run: () => redis.quit() });
        const ping = () => redis.ping();
        health.addCheck(
          'redis',
          typeof needs.redis === 'object' ? Object.assign(ping, { optional: true }) : ping,
        );
        parts.redis = redis;
      }
      const producer = createProducer(kafka);
      await producer.connect();
      closers.unshift({ what: 'producer', run: () => producer.disconnect() });
      const context = { logger, registry, kafka, topics, producer, health, ...parts } as BootedContext<N>;
      const service = await start(context);
      health.markStarted();
      return {
        async stop() {
          health.markStopping();
          let firstError: unknown;
          const step = async (what: string, run: () => Promise<unknown>) => {
            try {
              await run();
            } catch (error) {
              logger.warn({ err: error, step: what }, 'shutdown step failed');
              firstError ??= error;
            }
          };
          await step('service', () => service.stop());
          for (const { what, run } of closers) await step(what, run);
          // Last: the spans of the shutdown itself are exported too.
          await step('tracing', () => tracing.shutdown());
          if (firstError !== undefined) throw firstError;
        },
      };
    },
    config.SHUTDOWN_GRACE_MS,
  );
}
