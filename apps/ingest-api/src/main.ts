import { Type } from '@sinclair/typebox';
import { CommonConfig, DatabaseConfig, KafkaConfig, RedisConfig, loadConfig } from '@sps/config';
import { buildServer, JobPublicationResumer, PipelineClient, providerCatalog } from '@sps/http-api';
import { SchemaCompiler } from '@sps/llm';
import { BatchingProducer, ReplyListener, kafkaHealthProbe } from '@sps/kafka';
import { ResponseCache } from '@sps/cache';
import { AnswerCache, EdgeAnswers, cacheLookupCounter } from '@sps/processing';
import { bootService } from '@sps/runtime';
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
    CACHE_ENABLED: Type.Boolean({
      default: true,
      description: 'response cache (same switch as the processor): sync calls are answered from it here',
    }),
    KAFKA_PRODUCE_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 2_000,
      description: 'how long a request waits for Kafka before it is answered 503',
    }),
    JOB_RESUME_INTERVAL_MS: Type.Integer({
      minimum: 100,
      default: 10_000,
      description: 'how often unpublished jobs are looked for',
    }),
    JOB_RESUME_AFTER_MS: Type.Integer({
      minimum: 0,
      default: 30_000,
      description: 'age from which a job whose items were never all queued is published again',
    }),
  }),
);
await bootService(
  {
    name: 'ingest-api',
    config,
    // Probes and /metrics are served by the API itself (/v1/health/*, /metrics).
    needs: { database: { migrate: config.MIGRATE_ON_START }, redis: true, metrics: false },
  },
  async ({ logger, registry, kafka, topics, db, redis, producer }) => {
    const replies = new ReplyListener(kafka, topics.replies, logger);
    await replies.start();
    const pipeline = new PipelineClient({
      // Bounded: with the broker away, callers are answered 503 at once rather than queued.
      producer: new BatchingProducer(producer, { maxQueued: 5_000 }),
      topics,
      replies,
      produceTimeoutMs: config.KAFKA_PRODUCE_TIMEOUT_MS,
      // Sync calls whose work is cached are answered here, without the processor's two hops.
      cached: config.CACHE_ENABLED
        ? new EdgeAnswers(new AnswerCache(new ResponseCache(redis), 'edge', cacheLookupCounter(registry)))
        : undefined,
    });
    const app = await buildServer({
      logger,
      db,
      redis,
      registry,
      version: process.env.npm_package_version ?? '0.1.0',
      webhookAllowlist: config.WEBHOOK_ALLOWLIST.split(',').filter(Boolean),
      schemaCompiler: new SchemaCompiler(),
      // The same provider settings the processors read (LLM_PROVIDERS, *_MODEL): what `model` may name.
      providers: providerCatalog(process.env),
      pipeline,
      // /v1/health/ready: Kafka and Postgres are required; without Redis the API still serves
      // (rate limits fall back to memory), so it is optional: down means degraded, still ready.
      healthChecks: {
        postgres: () => sql`select 1`.execute(db),
        redis: Object.assign(() => redis.ping(), { optional: true }),
        kafka: kafkaHealthProbe(kafka),
      },
    });
    await app.listen({ host: config.HOST, port: config.PORT });
    const resumer = new JobPublicationResumer({
      db,
      pipeline,
      logger,
      intervalMs: config.JOB_RESUME_INTERVAL_MS,
      resumeAfterMs: config.JOB_RESUME_AFTER_MS,
    });
    resumer.start();
    return {
      async stop() {
        await resumer.stop();
        await app.close(); // stops accepting; in-flight requests finish first
        await replies.stop();
      },
    };
  },
);
