import { Type } from '@sinclair/typebox';
import { CommonConfig, KafkaConfig, RedisConfig, loadConfig } from '@sps/config';
import { JobCancellations, ResponseCache } from '@sps/cache';
import { BatchingProducer, ConcurrentRunner, DeadLetters, topicPartitionCount } from '@sps/kafka';
import { ProviderConfig, SchemaCompiler, StructuredOutputEngine, createRouter } from '@sps/llm';
import {
  AnswerCache,
  ProcessorMetrics,
  RequestProcessor,
  decodePipelineRequest,
  loadLanguageDetector,
  redactPii,
} from '@sps/processing';
import { bootService } from '@sps/runtime';

const config = loadConfig(
  Type.Object({
    ...CommonConfig,
    ...KafkaConfig,
    ...RedisConfig,
    ...ProviderConfig,
    CACHE_ENABLED: Type.Boolean({ default: true }),
    // Records, not provider calls: a record is also in flight before its call and after it (waiting
    // for its result's acknowledgement), so a quarter more than LLM_MAX_CONCURRENCY (256) keeps
    // provider slots from idling behind them. bench:slow at 1,024 calls: the same 92 % of the bound
    // either way on a quiet machine; with other work on it, 1,280 records did 10–28 % more than 1,024.
    PROCESSOR_MAX_IN_FLIGHT: Type.Integer({ minimum: 1, maximum: 10_000, default: 320 }),
    PROCESSOR_GROUP_ID: Type.String({ default: 'sps-processor' }),
    PROCESSOR_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6_000, maximum: 300_000, default: 30_000 }),
    /** Opt-in: prompts and outputs on the gen_ai spans, after PII redaction. */
    OTEL_GENAI_CAPTURE_CONTENT: Type.Boolean({ default: false }),
  }),
);

await bootService(
  // Redis holds the response cache and the cancellations: without it the processor still works.
  { name: 'processor', config, needs: { redis: config.CACHE_ENABLED && { optional: true }, metrics: true } },
  async ({ logger, registry, kafka, topics, redis, producer }) => {
    const { router, prices } = createRouter(
      config,
      config.OTEL_GENAI_CAPTURE_CONTENT ? { captureContent: { redact: (text) => redactPii(text).text } } : {},
    );
    const batching = new BatchingProducer(producer);
    const replyPartitions = await topicPartitionCount(kafka, topics.replies);
    const metrics = new ProcessorMetrics(registry, { router, prices });
    const languages = await loadLanguageDetector();
    const processor = new RequestProcessor({
      engine: new StructuredOutputEngine({ router, prices, maxAttemptsPerProvider: config.LLM_MAX_ATTEMPTS }),
      schemas: new SchemaCompiler(),
      cache: redis && new AnswerCache(new ResponseCache(redis), 'processor', metrics.cache),
      cancellations: redis && new JobCancellations(redis),
      producer: batching,
      topics,
      replyPartitions,
      logger,
      metrics,
      languages,
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
      deadLetters: new DeadLetters(
        batching,
        { topic: topics.requestsDlq, stage: 'processor', registry },
        logger,
      ),
      onRefused: (record, reason) => processor.refused(record, reason),
      logger,
      registry,
    });
    await consumer.start();
    logger.info({ maxInFlight: config.PROCESSOR_MAX_IN_FLIGHT }, 'processor consuming');
    return {
      async stop() {
        await consumer.stop(config.SHUTDOWN_GRACE_MS);
        await router.close(); // the providers' connection pools
        await languages.close();
      },
    };
  },
);
