import { Type } from '@sinclair/typebox';
import { CommonConfig, KafkaConfig, RedisConfig, loadConfig } from '@sps/config';
import { TOPICS, topicNames } from '@sps/contracts';
import { JobCancellations, ResponseCache, createRedis } from '@sps/cache';
import {
  BatchingProducer,
  ConcurrentRunner,
  DeadLetters,
  createKafka,
  createProducer,
  ensureTopics,
  topicPartitionCount,
} from '@sps/kafka';
import { ProviderConfig, SchemaCompiler, StructuredOutputEngine, createRouter } from '@sps/llm';
import { createLogger, createMetricsRegistry, startMetricsServer } from '@sps/observability';
import { ProcessorMetrics, RequestProcessor, decodePipelineRequest } from '@sps/processing';
import { runService } from '@sps/runtime';

const config = loadConfig(
  Type.Object({
    ...CommonConfig,
    ...KafkaConfig,
    ...RedisConfig,
    ...ProviderConfig,
    CACHE_ENABLED: Type.Boolean({ default: true }),
    PROCESSOR_MAX_IN_FLIGHT: Type.Integer({ minimum: 1, maximum: 10_000, default: 256 }),
    PROCESSOR_GROUP_ID: Type.String({ default: 'sps-processor' }),
    PROCESSOR_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6_000, maximum: 300_000, default: 30_000 }),
  }),
);
const logger = createLogger({ service: 'processor', level: config.LOG_LEVEL });

await runService(
  logger,
  async () => {
    const registry = createMetricsRegistry('processor');
    const metricsServer =
      config.METRICS_PORT === undefined ? undefined : await startMetricsServer(registry, config.METRICS_PORT);
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    const kafka = createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID ?? 'sps-processor',
      logger,
    });
    await ensureTopics(kafka, Object.values(TOPICS), config.KAFKA_TOPIC_PREFIX);
    const redis = config.CACHE_ENABLED ? createRedis(config.REDIS_URL) : undefined;
    const producer = createProducer(kafka);
    await producer.connect();
    const { router, prices } = createRouter(config);
    const batching = new BatchingProducer(producer);
    const replyPartitions = await topicPartitionCount(kafka, topics.replies);
    const processor = new RequestProcessor({
      engine: new StructuredOutputEngine({ router, prices, maxAttemptsPerProvider: config.LLM_MAX_ATTEMPTS }),
      schemas: new SchemaCompiler(),
      cache: redis && new ResponseCache(redis),
      cancellations: redis && new JobCancellations(redis),
      producer: batching,
      topics,
      replyPartitions,
      logger,
      metrics: new ProcessorMetrics(registry),
    });
    const consumer = new ConcurrentRunner({
      kafka,
      groupId: config.PROCESSOR_GROUP_ID,
      sessionTimeoutMs: config.PROCESSOR_SESSION_TIMEOUT_MS,
      topics: [topics.requests],
      maxInFlight: config.PROCESSOR_MAX_IN_FLIGHT,
      decode: decodePipelineRequest({
        topic: topics.replies,
        partitions: replyPartitions,
      }),
      handle: (record) => processor.handle(record),
      deadLetters: new DeadLetters(batching, { topic: topics.requestsDlq, stage: 'processor' }, logger),
      onRefused: (record, reason) => processor.refused(record, reason),
      logger,
    });
    await consumer.start();
    logger.info({ maxInFlight: config.PROCESSOR_MAX_IN_FLIGHT }, 'processor consuming');
    return {
      async stop() {
        await consumer.stop(config.SHUTDOWN_GRACE_MS);
        await producer.disconnect();
        await redis?.quit().catch(() => undefined);
        metricsServer?.close();
      },
    };
  },
  config.SHUTDOWN_GRACE_MS,
);
