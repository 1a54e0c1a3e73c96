import { Type } from '@sinclair/typebox';
import { CommonConfig, DatabaseConfig, KafkaConfig, loadConfig } from '@sps/config';
import { TOPICS, topicNames } from '@sps/contracts';
import { createDatabase, migrateToLatest } from '@sps/db';
import { BatchingProducer, createKafka, createProducer, ensureTopics } from '@sps/kafka';
import { createLogger, createMetricsRegistry, startMetricsServer } from '@sps/observability';
import { JobSweeper, ResultsSink } from '@sps/results-sink';
import { runService } from '@sps/runtime';

const config = loadConfig(
  Type.Object({
    ...CommonConfig,
    ...KafkaConfig,
    ...DatabaseConfig,
    MIGRATE_ON_START: Type.Boolean({ default: true }),
    SINK_GROUP_ID: Type.String({ default: 'sps-sink' }),
    SINK_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6_000, maximum: 300_000, default: 30_000 }),
    SINK_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  }),
);
const logger = createLogger({ service: 'sink', level: config.LOG_LEVEL });

await runService(
  logger,
  async () => {
    const registry = createMetricsRegistry('sink');
    const metricsServer =
      config.METRICS_PORT === undefined ? undefined : await startMetricsServer(registry, config.METRICS_PORT);
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    const kafka = createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID ?? 'sps-sink',
      logger,
    });
    await ensureTopics(kafka, Object.values(TOPICS), config.KAFKA_TOPIC_PREFIX);
    const db = createDatabase({
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      applicationName: 'sps-sink',
    });
    if (config.MIGRATE_ON_START) await migrateToLatest(db);
    const producer = createProducer(kafka);
    await producer.connect();
    const batching = new BatchingProducer(producer);
    const sink = new ResultsSink({
      kafka,
      groupId: config.SINK_GROUP_ID,
      sessionTimeoutMs: config.SINK_SESSION_TIMEOUT_MS,
      db,
      topics,
      producer: batching,
      logger,
      registry,
    });
    const sweeper = new JobSweeper({
      db,
      send: (topic, record) => batching.send(topic, record),
      topic: topics.jobEvents,
      intervalMs: config.SINK_SWEEP_INTERVAL_MS,
      logger,
    });
    await sink.start();
    sweeper.start();
    logger.info('sink consuming');
    return {
      async stop() {
        await sweeper.stop();
        await sink.stop();
        await producer.disconnect();
        await db.destroy();
        metricsServer?.close();
      },
    };
  },
  config.SHUTDOWN_GRACE_MS,
);
