/** Kafka header names used across the pipeline. */
export const HEADERS = {
  correlationId: 'correlation-id',
  traceparent: 'traceparent',
  contentType: 'content-type',
  replyTopic: 'reply-topic',
  replyPartition: 'reply-partition',
  /**
   * `miss`: ingest-api looked this request's work up in the response cache just before producing
   * it and found nothing, so the processor does not look again (it still coalesces and stores).
   */
  cacheChecked: 'cache-checked',
  /** When a webhook retry is due (ISO 8601), on records of the delay tiers. */
  dueAt: 'due-at',
} as const;

export const JSON_CONTENT_TYPE = 'application/json';
