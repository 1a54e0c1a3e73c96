// What both processes of the skeleton pipeline (floor-skeleton-edge.ts, floor-skeleton-worker.ts)
// start with: their settings from the environment floor-skeleton.ts gives them, and a Kafka client
// with a connected producer made by libs/kafka as the apps make theirs.
import { createKafka, createProducer } from '@sps/kafka';
import { createLogger } from '@sps/observability';

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export async function skeletonKafka(service: string) {
  const logger = createLogger({ service, level: 'error' });
  const kafka = createKafka({ brokers: requiredEnv('KAFKA_BROKERS'), clientId: service, logger });
  const producer = createProducer(kafka);
  await producer.connect();
  return { logger, kafka, producer };
}
