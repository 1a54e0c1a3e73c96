import { Type } from '@sinclair/typebox';
import { CommonConfig, DatabaseConfig, KafkaConfig, loadConfig } from '@sps/config';
import { TOPICS, topicNames } from '@sps/contracts';
import { createDatabase } from '@sps/db';
import { createKafka, ensureTopics } from '@sps/kafka';
import { createLogger } from '@sps/observability';
import { runService } from '@sps/runtime';
import { WebhookDispatcher } from '@sps/webhooks';

const config = loadConfig(
  Type.Object({
    ...CommonConfig,
    ...KafkaConfig,
    ...DatabaseConfig,
    WEBHOOK_GROUP_ID: Type.String({ default: 'sps-webhook-dispatcher' }),
    WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 10_000 }),
  }),
);
const logger = createLogger({ service: 'webhook-dispatcher', level: config.LOG_LEVEL });

await runService(
  logger,
  async () => {
    const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'sps-webhooks', logger });
    await ensureTopics(kafka, Object.values(TOPICS), config.KAFKA_TOPIC_PREFIX);
    const db = createDatabase({ url: config.DATABASE_URL, poolSize: 4, applicationName: 'sps-webhook-dispatcher' });
    const dispatcher = new WebhookDispatcher({
      consumer: kafka.consumer({ groupId: config.WEBHOOK_GROUP_ID }),
      db,
      topic: topics.jobEvents,
      logger,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    });
    await dispatcher.start();
    logger.info('webhook dispatcher consuming');
    return {
      async stop() {
        await dispatcher.stop();
        await db.destroy();
      },
    };
  },
  config.SHUTDOWN_GRACE_MS,
);
