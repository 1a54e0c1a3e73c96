import { Type } from '@sinclair/typebox';
import { CommonConfig, DatabaseConfig, KafkaConfig, loadConfig } from '@sps/config';
import { BatchingProducer } from '@sps/kafka';
import { bootService } from '@sps/runtime';
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

await bootService(
  {
    name: 'webhook-dispatcher',
    clientId: 'sps-webhooks',
    config,
    // The sink and the API migrate; the dispatcher only reads and writes deliveries.
    needs: { database: { migrate: false }, metrics: true },
  },
  async ({ logger, registry, kafka, topics, db, producer }) => {
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
      registry,
    });
    await dispatcher.start();
    logger.info('webhook dispatcher consuming');
    return {
      async stop() {
        await dispatcher.stop(config.SHUTDOWN_GRACE_MS);
      },
    };
  },
);
