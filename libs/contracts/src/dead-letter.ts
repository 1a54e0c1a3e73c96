/**
 * Every dead-letter topic (`sps.requests.dlq.v1`, `sps.results.dlq.v1`, `sps.webhooks.dlq.v1`) holds
 * the refused record exactly as it was read — same key, same value bytes, same headers — plus the
 * `dlq-*` headers below that say where it came from and why it was refused (the convention of Kafka
 * Connect's dead-letter queues). Keeping the original untouched is what makes a replay exact:
 * `npm run dlq -- replay` produces the value back to `dlq-source-topic` without the `dlq-*` headers.
 * One exception: a webhook given up after its last retry is dead-lettered as the job event itself,
 * with `dlq-source-topic` = the job-events topic (so that a replay starts its deliveries over) while
 * `dlq-source-partition`/`-offset` say where its last retry was read (a delay tier).
 */
export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  errorCode: 'dlq-error-code',
  stage: 'dlq-stage',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  failedAt: 'dlq-failed-at',
  attempts: 'dlq-attempts',
} as const;

/** Error codes a dead letter carries in `dlq-error-code`. */
export const DLQ_ERROR_CODES = [
  'CONTRACT_VIOLATION', // the value does not parse or breaks its topic's schema
  'INVALID_REPLY_ADDRESS', // reply-topic / reply-partition headers that point nowhere valid
  'RECORD_TOO_LARGE', // over the target topic's max.message.bytes
  'DATA_REFUSED', // a dependency refused the data itself (e.g. SQLSTATE class 22/23)
  'RETRIES_EXHAUSTED', // a handler kept failing with an error nobody classified
  'DELIVERY_FAILED', // a webhook that was never accepted after its last retry
] as const;
export type DlqErrorCode = (typeof DLQ_ERROR_CODES)[number];
