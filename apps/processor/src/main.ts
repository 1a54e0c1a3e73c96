import { Type } from '@sinclair/typebox';
import { CommonConfig, KafkaConfig, RedisConfig, loadConfig } from '@sps/config';
import { TOPICS, topicNames } from '@sps/contracts';
import { JobCancellations, ResponseCache, createRedis } from '@sps/cache';
import { BatchingProducer, ConcurrentConsumer, createKafka, createProducer, ensureTopics } from '@sps/kafka';
import { ProviderConfig, SchemaCompiler, StructuredOutputEngine, createRouter } from '@sps/llm';
import { createLogger, createMetricsRegistry, startMetricsServer } from '@sps/observability';
import { ProcessorMetrics, RequestProcessor } from '@sps/processing';
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
    const processor = new RequestProcessor({
      engine: new StructuredOutputEngine({ router, prices, maxAttemptsPerProvider: config.LLM_MAX_ATTEMPTS }),
      schemas: new SchemaCompiler(),
      cache: redis && new ResponseCache(redis),
      cancellations: redis && new JobCancellations(redis),
      producer: new BatchingProducer(producer),
      topics,
      logger,
      metrics: new ProcessorMetrics(registry),
    });
    const consumer = new ConcurrentConsumer({
      consumer: kafka.consumer({
        groupId: config.PROCESSOR_GROUP_ID,
        sessionTimeout: config.PROCESSOR_SESSION_TIMEOUT_MS,
        heartbeatInterval: Math.floor(config.PROCESSOR_SESSION_TIMEOUT_MS / 10),
      }),
      topics: [topics.requests],
      maxInFlight: config.PROCESSOR_MAX_IN_FLIGHT,
      handle: (message, source) => processor.handle(message, source),
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
