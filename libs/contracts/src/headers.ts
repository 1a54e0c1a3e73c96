/** Kafka header names used across the pipeline. */
export const HEADERS = {
  correlationId: 'correlation-id',
  traceparent: 'traceparent',
  contentType: 'content-type',
  replyTopic: 'reply-topic',
  replyPartition: 'reply-partition',
  /** When a webhook retry is due (ISO 8601), on records of the delay tiers. */
  dueAt: 'due-at',
} as const;

export const JSON_CONTENT_TYPE = 'application/json';
