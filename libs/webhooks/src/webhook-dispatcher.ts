import { compileContract, JobEventMessage, WebhookDeliveryMessage, type TopicKey } from '@sps/contracts';
import type { Database } from '@sps/db';
import {
  jsonValue,
  startConsumer,
  type BatchingProducer,
  type Consumer,
  type EachMessagePayload,
} from '@sps/kafka';
import type { Logger } from '@sps/observability';
import { signPayload } from './sign.js';
import { checkWebhookTarget } from './target-check.js';

export interface WebhookDispatcherOptions {
  consumer: Consumer;
  producer: BatchingProducer;
  db: Database;
  topics: Pick<Record<TopicKey, string>, 'jobEvents' | 'webhookRetries' | 'webhooksDlq'>;
  logger: Logger;
  /** Wait before each retry; its length is the number of retries. */
  retryDelaysMs: number[];
  timeoutMs: number;
  allowlist: string[];
}

/** Over 24 hours: 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h (with ±20% jitter). */
export const DEFAULT_RETRY_DELAYS_MS = [10e3, 60e3, 300e3, 1_800e3, 7_200e3, 21_600e3, 43_200e3, 86_400e3];

const checkEvent = compileContract(JobEventMessage);
const checkRetry = compileContract(WebhookDeliveryMessage);

/**
 * Delivers job outcomes, signed per Standard Webhooks with the key's secret. A failed attempt
 * goes to the retry topic with its due time; a retry that is not yet due pauses its partition
 * until then (the message is read again on resume, so nothing sleeps on a partition and nothing
 * is committed early). After the last retry the delivery goes to the webhook DLQ. Every attempt
 * is stored and shown by GET /v1/jobs/{id}.
 */
export class WebhookDispatcher {
  private readonly resumeTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: WebhookDispatcherOptions) {}

  async start(): Promise<void> {
    const { consumer, topics } = this.options;
    await startConsumer(consumer, [topics.jobEvents, topics.webhookRetries], {
      eachMessage: (payload) => this.handle(payload),
    });
  }

  async stop(): Promise<void> {
    for (const timer of this.resumeTimers) clearTimeout(timer);
    await this.options.consumer.disconnect();
  }

  private async handle({ topic, message, pause }: EachMessagePayload): Promise<void> {
    const value = safeParse(message.value?.toString('utf8'));
    if (topic === this.options.topics.jobEvents) {
      const check = checkEvent(value);
      if (!check.ok)
        return this.options.logger.error({ errors: check.errors }, 'job event breaks its contract; skipped');
      if (check.value.webhook_url) await this.attempt(check.value, 1);
      return;
    }
    const check = checkRetry(value);
    if (!check.ok)
      return this.options.logger.error(
        { errors: check.errors },
        'webhook retry breaks its contract; skipped',
      );
    const waitMs = Date.parse(check.value.due_at) - Date.now();
    if (waitMs > 0) {
      const resume = pause();
      const timer = setTimeout(() => {
        this.resumeTimers.delete(timer);
        resume();
      }, waitMs);
      this.resumeTimers.add(timer);
      throw new NotDueYet(waitMs); // not resolved: read again once the partition resumes
    }
    await this.attempt(check.value.event, check.value.attempt);
  }

  private async attempt(event: JobEventMessage, attempt: number): Promise<void> {
    const outcome = await this.deliver(event, attempt);
    if (outcome.delivered) return this.setStatus(event.job_id, 'delivered');
    const retries = this.options.retryDelaysMs;
    if (outcome.refused || attempt > retries.length) {
      await this.options.producer.send(this.options.topics.webhooksDlq, {
        key: event.job_id,
        value: jsonValue({ event, attempt, due_at: new Date().toISOString(), last_error: outcome.error }),
      });
      return this.setStatus(event.job_id, 'failed');
    }
    const delay = retries[attempt - 1]! * (0.8 + Math.random() * 0.4);
    const retry: WebhookDeliveryMessage = {
      event,
      attempt: attempt + 1,
      due_at: new Date(Date.now() + delay).toISOString(),
      last_error: outcome.error,
    };
    await this.options.producer.send(this.options.topics.webhookRetries, {
      key: event.job_id,
      value: jsonValue(retry),
    });
    await this.setStatus(event.job_id, 'retrying');
  }

  private async deliver(
    event: JobEventMessage,
    attempt: number,
  ): Promise<{ delivered: boolean; refused?: boolean; error?: string }> {
    const { db } = this.options;
    const url = event.webhook_url!;
    const started = performance.now();
    const record = async (fields: {
      status_code: number | null;
      outcome: 'delivered' | 'failed' | 'refused';
      error: string | null;
    }) =>
      db
        .insertInto('webhook_deliveries')
        .values({
          tenant_id: event.tenant_id,
          job_id: event.job_id,
          event_id: event.event_id,
          attempt,
          url,
          latency_ms: Math.round(performance.now() - started),
          ...fields,
        })
        .onConflict((oc) => oc.columns(['event_id', 'attempt']).doNothing())
        .execute();

    const target = await checkWebhookTarget(url, this.options.allowlist);
    if (!target.ok) {
      await record({ status_code: null, outcome: 'refused', error: `target ${target.reason}` });
      return { delivered: false, refused: true, error: target.reason };
    }
    const secret = await this.signingSecret(event);
    if (!secret) {
      await record({ status_code: null, outcome: 'refused', error: 'no signing secret for the job' });
      return { delivered: false, refused: true, error: 'no signing secret' };
    }
    const payload = JSON.stringify({ type: event.type, timestamp: event.occurred_at, data: event });
    try {
      const response = await fetch(url, {
        method: 'POST',
        redirect: 'manual', // a redirect could point anywhere, private ranges included
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'sps-webhooks/1',
          ...signPayload(secret, event.event_id, payload),
        },
        body: payload,
      });
      await response.body?.cancel();
      const delivered = response.status >= 200 && response.status < 300;
      await record({
        status_code: response.status,
        outcome: delivered ? 'delivered' : 'failed',
        error: delivered ? null : `HTTP ${response.status}`,
      });
      return { delivered, error: delivered ? undefined : `HTTP ${response.status}` };
    } catch (failure) {
      const error =
        (failure as Error).name === 'TimeoutError'
          ? `timed out after ${this.options.timeoutMs} ms`
          : (failure as Error).message;
      await record({ status_code: null, outcome: 'failed', error });
      return { delivered: false, error };
    }
  }

  private async signingSecret(event: JobEventMessage): Promise<string | undefined> {
    const row = await this.options.db
      .selectFrom('jobs')
      .innerJoin('api_keys', 'api_keys.id', 'jobs.api_key_id')
      .select('api_keys.webhook_secret')
      .where('jobs.id', '=', event.job_id)
      .where('jobs.tenant_id', '=', event.tenant_id)
      .executeTakeFirst();
    return row?.webhook_secret ?? undefined;
  }

  private async setStatus(jobId: string, status: 'delivered' | 'retrying' | 'failed'): Promise<void> {
    await this.options.db
      .updateTable('jobs')
      .set((eb) => ({ webhook_status: status, webhook_attempts: eb('webhook_attempts', '+', 1) }))
      .where('id', '=', jobId)
      .execute();
  }
}

class NotDueYet extends Error {
  constructor(waitMs: number) {
    super(`retry due in ${Math.round(waitMs)} ms`);
  }
}

function safeParse(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}
