export { createKafka, type KafkaClientOptions } from './client.js';
export { ensureTopics, kafkaHealthProbe, topicPartitionCount } from './topics.js';
export {
  BatchingProducer,
  createProducer,
  type BatchingProducerOptions,
  type OutgoingRecord,
  type SendOptions,
} from './producer.js';
export { PermanentError, TransientError, classifyError, type ErrorClass } from './errors.js';
export { backoffDelay, sleepUnlessAborted, type BackoffOptions } from './backoff.js';
export type { ConsumedRecord, RawRecord, Decoder } from './records.js';
export { DeadLetters, type DeadLetterReason, type DeadLetterTarget } from './dead-letters.js';
export { ConcurrentRunner, type ConcurrentRunnerOptions } from './runners/concurrent-runner.js';
export { BatchRunner, type BatchRunnerOptions } from './runners/batch-runner.js';
export { inConsumeSpan, recordLinks } from './runners/consume-span.js';
export {
  DelayedRetryRunner,
  RetrySchedule,
  type DelayTier,
  type DelayedRetryRunnerOptions,
  type ScheduledRecord,
} from './runners/delayed-retry-runner.js';
export type { RetryPolicy } from './runners/record-outcome.js';
export { PartitionOffsetTracker } from './offset-tracker.js';
export { fixedPartitionAssigner } from './fixed-partition-assigner.js';
export { headerValue, toHeaders, jsonValue } from './messages.js';
export { ReplyListener, type ReplyAddress } from './request-reply.js';
/** The client handle apps pass from `createKafka` to the runners; opaque outside this lib. */
export type { Kafka as KafkaClient } from 'kafkajs';
export type { Kafka, Producer } from 'kafkajs';
export { configureGroupConsumers, type GroupConsumerPolicy } from './runners/consumer-group.js';
