import { compileContract, JobEventMessage } from '@sps/contracts';
import type { Database } from '@sps/db';
import type { Consumer } from '@sps/kafka';
import type { Logger } from '@sps/observability';
import { signPayload } from './sign.js';

export interface WebhookDispatcherOptions {
  consumer: Consumer;
  db: Database;
  topic: string;
  logger: Logger;
  timeoutMs?: number;
}

const checkEvent = compileContract(JobEventMessage);

/**
 * Delivers job outcomes to the job's webhook URL, signed with the key's secret, and records the
 * attempt. One attempt per event for now: the retry topic, the webhook DLQ and the private-range
 * check of targets are the work of the public-surface issue.
 */
export class WebhookDispatcher {
  constructor(private readonly options: WebhookDispatcherOptions) {}

  async start(): Promise<void> {
    const { consumer, topic } = this.options;
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const check = checkEvent(safeParse(message.value?.toString('utf8')));
        if (!check.ok) {
          this.options.logger.error({ offset: message.offset, errors: check.errors }, 'job event breaks its contract; skipped');
          return;
        }
        if (check.value.webhook_url) await this.deliver(check.value, check.value.webhook_url);
      },
    });
  }

  async stop(): Promise<void> {
    await this.options.consumer.disconnect();
  }

  private async deliver(event: JobEventMessage, url: string): Promise<void> {
    const { db, logger } = this.options;
    const key = await db
      .selectFrom('jobs')
      .innerJoin('api_keys', 'api_keys.id', 'jobs.api_key_id')
      .select(['api_keys.webhook_secret'])
      .where('jobs.id', '=', event.job_id)
      .where('jobs.tenant_id', '=', event.tenant_id)
      .executeTakeFirst();
    if (!key?.webhook_secret) {
      logger.warn({ job_id: event.job_id }, 'no signing secret for job; not delivered');
      return;
    }
    const payload = JSON.stringify({ type: event.type, timestamp: event.occurred_at, data: event });
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        headers: { 'content-type': 'application/json', ...signPayload(key.webhook_secret, event.event_id, payload) },
        body: payload,
      });
      statusCode = response.status;
    } catch (failure) {
      error = (failure as Error).message;
    }
    const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300;
    await db
      .insertInto('webhook_deliveries')
      .values({
        tenant_id: event.tenant_id,
        job_id: event.job_id,
        event_id: event.event_id,
        attempt: 1,
        url,
        status_code: statusCode,
        latency_ms: Math.round(performance.now() - started),
        outcome: delivered ? 'delivered' : 'failed',
        error,
      })
      .onConflict((oc) => oc.columns(['event_id', 'attempt']).doNothing())
      .execute();
  }
}

function safeParse(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}
