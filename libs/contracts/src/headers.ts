/** Kafka header names used across the pipeline. */
export const HEADERS = {
  correlationId: 'correlation-id',
  traceparent: 'traceparent',
  contentType: 'content-type',
  replyTopic: 'reply-topic',
  replyPartition: 'reply-partition',
  dlqReason: 'dlq-reason',
  dlqErrorCode: 'dlq-error-code',
} as const;

export const JSON_CONTENT_TYPE = 'application/json';
