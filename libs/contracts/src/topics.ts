/**
 * Every topic of the pipeline with its explicit settings; created idempotently at start-up.
 *
 * Keys: requests are keyed by the hash of the work (cache key) so identical requests meet on one
 * partition, where the processor coalesces them — the cost is skew when one prompt is very hot.
 * Results are keyed by request id (even spread; the sink is idempotent on it). Replies are sent to
 * an explicit partition owned by the waiting API instance. Job events are keyed by job id.
 */
export interface TopicSpec {
  name: string;
  partitions: number;
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact';
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const TOPICS = {
  requests: { name: 'sps.requests.v1', partitions: 12, retentionMs: 7 * DAY, cleanupPolicy: 'delete' },
  results: { name: 'sps.results.v1', partitions: 12, retentionMs: 7 * DAY, cleanupPolicy: 'delete' },
  replies: { name: 'sps.replies.v1', partitions: 12, retentionMs: 1 * HOUR, cleanupPolicy: 'delete' },
  requestsDlq: { name: 'sps.requests.dlq.v1', partitions: 3, retentionMs: 30 * DAY, cleanupPolicy: 'delete' },
  resultsDlq: { name: 'sps.results.dlq.v1', partitions: 3, retentionMs: 30 * DAY, cleanupPolicy: 'delete' },
  jobEvents: { name: 'sps.job-events.v1', partitions: 6, retentionMs: 7 * DAY, cleanupPolicy: 'delete' },
  ...retryTiers(),
  webhooksDlq: { name: 'sps.webhooks.dlq.v1', partitions: 3, retentionMs: 30 * DAY, cleanupPolicy: 'delete' },
} as const satisfies Record<string, TopicSpec>;

/**
 * Webhook retries wait in delay tiers: a record in the tier of delay D is released D after it was
 * written, so release times grow with offsets and nothing waits behind a longer delay. A retry due
 * later than its tier releases it is re-queued to the tier that fits what is left.
 */
export const WEBHOOK_RETRY_TIERS_MS = [1_000, 10_000, 60_000, 600_000, 3_600_000, 21_600_000] as const;

function retryTiers() {
  const names = ['1s', '10s', '1m', '10m', '1h', '6h'] as const;
  return Object.fromEntries(
    names.map((name) => [
      `webhookRetry${name}`,
      { name: `sps.webhooks.retry.${name}.v1`, partitions: 3, retentionMs: 2 * DAY, cleanupPolicy: 'delete' },
    ]),
  ) as Record<`webhookRetry${(typeof names)[number]}`, TopicSpec>;
}

/** The DLQ topics, each with the topic whose records it refuses (replays go back there). */
export const DLQ_TOPICS = {
  requestsDlq: 'requests',
  resultsDlq: 'results',
  webhooksDlq: 'jobEvents',
} as const satisfies Partial<Record<TopicKey, TopicKey>>;

export type TopicKey = keyof typeof TOPICS;

/** Topic names with the deployment's prefix applied. */
export function topicNames(prefix: string): Record<TopicKey, string> {
  return Object.fromEntries(
    Object.entries(TOPICS).map(([key, spec]) => [key, `${prefix}${spec.name}`]),
  ) as Record<TopicKey, string>;
}
