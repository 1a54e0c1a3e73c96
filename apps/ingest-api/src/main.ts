import { Type } from '@sinclair/typebox';
import { CommonConfig, DatabaseConfig, KafkaConfig, RedisConfig, loadConfig } from '@sps/config';
import { TOPICS, topicNames } from '@sps/contracts';
import { createRedis } from '@sps/cache';
import { createDatabase, migrateToLatest } from '@sps/db';
import { buildServer, PipelineClient } from '@sps/http-api';
import { SchemaCompiler } from '@sps/llm';
import { BatchingProducer, ReplyListener, createKafka, createProducer, ensureTopics } from '@sps/kafka';
import { createLogger, createMetricsRegistry } from '@sps/observability';
import { runService } from '@sps/runtime';
import { sql } from 'kysely';

const config = loadConfig(
  Type.Object({
    ...CommonConfig,
    ...KafkaConfig,
    ...DatabaseConfig,
    ...RedisConfig,
    HOST: Type.String({ default: '0.0.0.0' }),
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    MIGRATE_ON_START: Type.Boolean({ default: true }),
    WEBHOOK_ALLOWLIST: Type.String({
      default: '',
      description: 'comma-separated hosts allowed although private',
    }),
  }),
);
const logger = createLogger({ service: 'ingest-api', level: config.LOG_LEVEL });

await runService(
  logger,
  async () => {
    const registry = createMetricsRegistry('ingest-api');
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    const kafka = createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID ?? 'sps-ingest-api',
      logger,
    });
    await ensureTopics(kafka, Object.values(TOPICS), config.KAFKA_TOPIC_PREFIX);
    const db = createDatabase({
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      applicationName: 'sps-ingest-api',
    });
    if (config.MIGRATE_ON_START) await migrateToLatest(db);
    const redis = createRedis(config.REDIS_URL);
    const producer = createProducer(kafka);
    await producer.connect();
    const replies = new ReplyListener(kafka, topics.replies, logger);
    await replies.start();
    const app = await buildServer({
      logger,
      db,
      redis,
      registry,
      version: process.env.npm_package_version ?? '0.1.0',
      webhookAllowlist: config.WEBHOOK_ALLOWLIST.split(',').filter(Boolean),
      schemaCompiler: new SchemaCompiler(),
      pipeline: new PipelineClient(new BatchingProducer(producer), topics.requests, replies),
      healthChecks: {
        postgres: () => sql`select 1`.execute(db),
        redis: () => redis.ping(),
        kafka: async () => {
          const admin = kafka.admin();
          await admin.connect();
          await admin.describeCluster().finally(() => admin.disconnect());
        },
      },
    });
    await app.listen({ host: config.HOST, port: config.PORT });
    return {
      async stop() {
        await app.close(); // stops accepting; in-flight requests finish first
        await replies.stop();
        await producer.disconnect();
        await Promise.allSettled([db.destroy(), redis.quit()]);
      },
    };
  },
  config.SHUTDOWN_GRACE_MS,
);
