import { Type } from '@sinclair/typebox';
import { CommonConfig, DatabaseConfig, KafkaConfig, loadConfig } from '@sps/config';
import { TOPICS, topicNames } from '@sps/contracts';
import { createDatabase, migrateToLatest } from '@sps/db';
import { BatchingProducer, createKafka, createProducer, ensureTopics } from '@sps/kafka';
import { createLogger, createMetricsRegistry, startMetricsServer } from '@sps/observability';
import { ResultsSink } from '@sps/results-sink';
import { runService } from '@sps/runtime';

const config = loadConfig(
  Type.Object({
    ...CommonConfig,
    ...KafkaConfig,
    ...DatabaseConfig,
    MIGRATE_ON_START: Type.Boolean({ default: true }),
    SINK_GROUP_ID: Type.String({ default: 'sps-sink' }),
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
    const sink = new ResultsSink({
      consumer: kafka.consumer({
        groupId: config.SINK_GROUP_ID,
        sessionTimeout: 30_000,
        maxBytesPerPartition: 4 * 1024 * 1024,
      }),
      db,
      topic: topics.results,
      producer: new BatchingProducer(producer),
      jobEventsTopic: topics.jobEvents,
      logger,
      registry,
    });
    await sink.start();
    logger.info('sink consuming');
    return {
      async stop() {
        await sink.stop();
        await producer.disconnect();
        await db.destroy();
        metricsServer?.close();
      },
    };
  },
  config.SHUTDOWN_GRACE_MS,
);
