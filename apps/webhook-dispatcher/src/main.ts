import { Type } from '@sinclair/typebox';
import { CommonConfig, DatabaseConfig, KafkaConfig, loadConfig } from '@sps/config';
import { TOPICS, topicNames } from '@sps/contracts';
import { createDatabase } from '@sps/db';
import { BatchingProducer, createKafka, createProducer, ensureTopics } from '@sps/kafka';
import { createLogger } from '@sps/observability';
import { runService } from '@sps/runtime';
import { DEFAULT_RETRY_DELAYS_MS, WebhookDispatcher } from '@sps/webhooks';

const config = loadConfig(
  Type.Object({
    ...CommonConfig,
    ...KafkaConfig,
    ...DatabaseConfig,
    WEBHOOK_GROUP_ID: Type.String({ default: 'sps-webhook-dispatcher' }),
    WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 10_000 }),
    WEBHOOK_RETRY_DELAYS_MS: Type.String({
      default: DEFAULT_RETRY_DELAYS_MS.join(','),
      pattern: '^\\d+(,\\d+)*$',
    }),
    WEBHOOK_ALLOWLIST: Type.String({
      default: '',
      description: 'comma-separated hosts allowed although private',
    }),
  }),
);
const logger = createLogger({ service: 'webhook-dispatcher', level: config.LOG_LEVEL });

await runService(
  logger,
  async () => {
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    const kafka = createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID ?? 'sps-webhooks',
      logger,
    });
    await ensureTopics(kafka, Object.values(TOPICS), config.KAFKA_TOPIC_PREFIX);
    const db = createDatabase({
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      applicationName: 'sps-webhook-dispatcher',
    });
    const producer = createProducer(kafka);
    await producer.connect();
    const dispatcher = new WebhookDispatcher({
      kafka,
      groupId: config.WEBHOOK_GROUP_ID,
      producer: new BatchingProducer(producer),
      db,
      topics,
      logger,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      retryDelaysMs: config.WEBHOOK_RETRY_DELAYS_MS.split(',').map(Number),
      allowlist: config.WEBHOOK_ALLOWLIST.split(',').filter(Boolean),
    });
    await dispatcher.start();
    logger.info('webhook dispatcher consuming');
    return {
      async stop() {
        await dispatcher.stop(config.SHUTDOWN_GRACE_MS);
        await producer.disconnect();
        await db.destroy();
      },
    };
  },
  config.SHUTDOWN_GRACE_MS,
);
