export { createKafka, type KafkaClientOptions } from './client.js';
export { ensureTopics } from './topics.js';
export { BatchingProducer, createProducer } from './producer.js';
export {
  ConcurrentConsumer,
  type ConcurrentConsumerOptions,
  type MessageHandler,
} from './concurrent-consumer.js';
export { PartitionOffsetTracker } from './offset-tracker.js';
export { fixedPartitionAssigner } from './fixed-partition-assigner.js';
export { headerValue, toHeaders, jsonValue } from './messages.js';
export type {
  Kafka,
  Consumer,
  Producer,
  KafkaMessage,
  IHeaders,
  Message,
  EachBatchPayload,
  EachMessagePayload,
} from 'kafkajs';
export { ReplyListener, type ReplyAddress } from './request-reply.js';
export { startConsumer } from './start-consumer.js';
