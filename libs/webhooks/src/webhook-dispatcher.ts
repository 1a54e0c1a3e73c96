import {
  compileContract,
  JobEventMessage,
  WEBHOOK_RETRY_TIERS_MS,
  WebhookDeliveryMessage,
  type TopicKey,
} from '@sps/contracts';
import type { Database } from '@sps/db';
import {
  ConcurrentRunner,
  DeadLetters,
  DelayedRetryRunner,
  PermanentError,
  RetrySchedule,
  jsonValue,
  type BatchingProducer,
  type KafkaClient,
  type RawRecord,
} from '@sps/kafka';
import type { Logger } from '@sps/observability';
import { Counter, Histogram, type Registry } from 'prom-client';
import { deliver, type DeliveryDeps, type DeliveryOutcome } from './deliver.js';

type RetryTopicKey = Extract<TopicKey, `webhookRetry${string}`>;

/** What a job's webhook status becomes after an attempt. */
export type WebhookStatus = 'delivered' | 'retrying' | 'failed';

export interface WebhookDispatcherOptions {
  kafka: KafkaClient;
  groupId: string;
  producer: BatchingProducer;
  db: Database;
  topics: Pick<Record<TopicKey, string>, 'jobEvents' | 'webhooksDlq' | RetryTopicKey>;
  logger: Logger;
  /** Wait before each retry; its length is the number of retries. */
  retryDelaysMs: number[];
  timeoutMs: number;
  allowlist: string[];
  /** Deliveries in flight at once (per runner): one slow endpoint must not hold the others. */
  maxInFlight?: number;
  /** One delivery attempt (default: `deliver`, which records it in webhook_deliveries). */
  deliver?: (deps: DeliveryDeps, event: JobEventMessage, attempt: number) => Promise<DeliveryOutcome>;
  /** Stores a job's webhook status and counts the attempt (default: an update of `jobs` in `db`). */
  setStatus?: (jobId: string, status: WebhookStatus) => Promise<void>;
  /** Where deliveries, consumer lag and dead letters are counted; none: not counted. */
  registry?: Registry;
}

/** Over 24 hours: 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h (with ±20% jitter). */
export const DEFAULT_RETRY_DELAYS_MS = [10e3, 60e3, 300e3, 1_800e3, 7_200e3, 21_600e3, 43_200e3, 86_400e3];

const RETRY_TIER_KEYS = [
  'webhookRetry1s',
  'webhookRetry10s',
  'webhookRetry1m',
  'webhookRetry10m',
  'webhookRetry1h',
  'webhookRetry6h',
] as const satisfies readonly RetryTopicKey[];

const checkEvent = compileContract(JobEventMessage);
const checkRetry = compileContract(WebhookDeliveryMessage);

/**
 * Delivers job outcomes. First attempts come from `sps.job-events.v1` (concurrent runner); a failed
 * attempt is scheduled on the retry delay tiers (delayed-retry runner: no consumer sleeps or throws
 * to wait, no retry waits behind a longer one); after the last retry, or for a target that is
 * refused, the event goes to the webhook DLQ. Every attempt is stored and shown by GET /v1/jobs/{id}.
 */
export class WebhookDispatcher {
  private readonly first: ConcurrentRunner<JobEventMessage>;
  private readonly retries: DelayedRetryRunner<WebhookDeliveryMessage>;
  private readonly schedule: RetrySchedule;
  private readonly deadLetters: DeadLetters;
  private readonly delivery: DeliveryDeps;
  private readonly deliver: NonNullable<WebhookDispatcherOptions['deliver']>;
  private readonly setStatus: NonNullable<WebhookDispatcherOptions['setStatus']>;
  private readonly metrics: { deliveries: Counter<'outcome'>; duration: Histogram<'outcome'> } | undefined;

  constructor(private readonly options: WebhookDispatcherOptions) {
    const { kafka, groupId, producer, topics, logger, registry } = options;
    this.metrics = registry && {
      deliveries: new Counter({
        name: 'sps_webhook_deliveries_total',
        help: 'webhook delivery attempts by outcome (delivered, duplicate, failed: retried, refused)',
        labelNames: ['outcome'],
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'sps_webhook_delivery_duration_seconds',
        help: 'duration of one webhook delivery attempt, by outcome',
        labelNames: ['outcome'],
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
    };
    this.delivery = { db: options.db, timeoutMs: options.timeoutMs, allowlist: options.allowlist };
    this.deliver = options.deliver ?? deliver;
    this.setStatus = options.setStatus ?? ((jobId, status) => this.storeStatus(jobId, status));
    this.deadLetters = new DeadLetters(
      producer,
      { topic: topics.webhooksDlq, stage: 'webhook-dispatcher', registry },
      logger,
    );
    this.schedule = new RetrySchedule(
      producer,
      RETRY_TIER_KEYS.map((key, i) => ({ topic: topics[key], delayMs: WEBHOOK_RETRY_TIERS_MS[i]! })),
    );
    const common = {
      kafka,
      logger,
      registry,
      deadLetters: this.deadLetters,
      maxInFlight: options.maxInFlight ?? 64,
    };
    this.first = new ConcurrentRunner<JobEventMessage>({
      ...common,
      groupId,
      topics: [topics.jobEvents],
      decode: (record) => decodeWith(checkEvent, record),
      handle: (record) => this.attempt(record, record.value, 1),
    });
    this.retries = new DelayedRetryRunner<WebhookDeliveryMessage>({
      ...common,
      groupId: `${groupId}-retries`,
      schedule: this.schedule,
      decode: (record) => decodeWith(checkRetry, record),
      handle: (record) => this.attempt(record, record.value.event, record.value.attempt),
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.first.start(), this.retries.start()]);
  }

  async stop(deadlineMs = 5_000): Promise<void> {
    await Promise.all([this.first.stop(deadlineMs), this.retries.stop(deadlineMs)]);
  }

  private async attempt(
    record: Pick<RawRecord, 'partition' | 'offset' | 'timestamp'>,
    event: JobEventMessage,
    attempt: number,
  ): Promise<void> {
    if (!event.webhook_url) return;
    const started = performance.now();
    const outcome = await this.deliver(this.delivery, event, attempt);
    this.metrics?.deliveries.inc({ outcome: outcome.kind });
    this.metrics?.duration.observe({ outcome: outcome.kind }, (performance.now() - started) / 1000);
    if (outcome.kind === 'delivered') return this.setStatus(event.job_id, 'delivered');
    if (outcome.kind === 'duplicate') return;
    const retries = this.options.retryDelaysMs;
    if (outcome.kind === 'refused' || attempt > retries.length) {
      await this.deadLetters.send(
        {
          partition: record.partition,
          offset: record.offset,
          timestamp: record.timestamp,
          topic: this.options.topics.jobEvents,
          key: event.job_id,
          rawKey: Buffer.from(event.job_id),
          headers: {},
          value: Buffer.from(jsonValue(event)),
        },
        {
          code: 'DELIVERY_FAILED',
          reason:
            outcome.kind === 'refused'
              ? outcome.error
              : `not delivered after ${attempt} attempts: ${outcome.error}`,
          attempts: attempt,
        },
      );
      return this.setStatus(event.job_id, 'failed');
    }
    const dueAt = Date.now() + retries[attempt - 1]! * (0.8 + Math.random() * 0.4);
    const retry: WebhookDeliveryMessage = {
      event,
      attempt: attempt + 1,
      due_at: new Date(dueAt).toISOString(),
      last_error: outcome.error.slice(0, 1_000),
    };
    await this.schedule.schedule({ key: event.job_id, value: jsonValue(retry) }, dueAt);
    await this.setStatus(event.job_id, 'retrying');
  }

  private async storeStatus(jobId: string, status: WebhookStatus): Promise<void> {
    await this.options.db
      .updateTable('jobs')
      .set((eb) => ({ webhook_status: status, webhook_attempts: eb('webhook_attempts', '+', 1) }))
      .where('id', '=', jobId)
      .execute();
  }
}

function decodeWith<T>(
  check: (
    value: unknown,
  ) => { ok: true; value: T } | { ok: false; errors: { path: string; message: string }[] },
  record: RawRecord,
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.value?.toString('utf8') ?? '');
  } catch (error) {
    throw new PermanentError('CONTRACT_VIOLATION', `value is not JSON: ${(error as Error).message}`);
  }
  const result = check(parsed);
  if (result.ok) return result.value;
  throw new PermanentError(
    'CONTRACT_VIOLATION',
    result.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
  );
}
