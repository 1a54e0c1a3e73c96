import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { compileContract, ResultMessage, type JobEventMessage } from '@sps/contracts';
import {
  insertResults,
  jobsAwaitingEvent,
  markEventEmitted,
  recordJobProgress,
  type Database,
} from '@sps/db';
import {
  jsonValue,
  startConsumer,
  type BatchingProducer,
  type Consumer,
  type EachBatchPayload,
} from '@sps/kafka';
import type { Logger } from '@sps/observability';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ResultsSinkOptions {
  consumer: Consumer;
  db: Database;
  topic: string;
  producer: BatchingProducer;
  jobEventsTopic: string;
  logger: Logger;
  registry: Registry;
  maxBackoffMs?: number;
}

const checkResult = compileContract(ResultMessage);

/**
 * The only writer of results into Postgres. Each fetched batch becomes one multi-row insert;
 * its offsets are committed only after the insert committed. While Postgres is down the sink
 * keeps retrying the same batch with backoff (heartbeating, committing nothing), then resumes.
 */
export class ResultsSink {
  private readonly rows: Counter;
  private readonly dbDown: Gauge;
  private readonly rejected: Counter;

  constructor(private readonly options: ResultsSinkOptions) {
    const registers = [options.registry];
    this.rows = new Counter({
      name: 'sps_sink_rows_inserted_total',
      help: 'request_logs rows inserted',
      registers,
    });
    this.rejected = new Counter({
      name: 'sps_sink_rejected_total',
      help: 'results that broke their contract',
      registers,
    });
    this.dbDown = new Gauge({
      name: 'sps_sink_database_unavailable',
      help: '1 while inserts fail',
      registers,
    });
  }

  async start(): Promise<void> {
    const { consumer, topic } = this.options;
    await startConsumer(consumer, [topic], {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: (payload) => this.writeBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.options.consumer.disconnect();
  }

  private async store(results: ResultMessage[]): Promise<void> {
    const inserted = await this.options.db.transaction().execute(async (trx) => {
      const fresh = await insertResults(trx, results);
      const items = fresh
        .filter((r) => r.job_id)
        .map((r) => ({ jobId: r.job_id!, succeeded: r.status === 'succeeded' }));
      await recordJobProgress(trx, items);
      return fresh;
    });
    this.rows.inc(inserted.length);
    const jobIds = [...new Set(results.flatMap((r) => (r.job_id ? [r.job_id] : [])))];
    const ended = await jobsAwaitingEvent(this.options.db, jobIds);
    if (ended.length === 0) return;
    await Promise.all(
      ended.map((job) =>
        this.options.producer.send(this.options.jobEventsTopic, {
          key: job.id,
          value: jsonValue(jobEvent(job)),
        }),
      ),
    );
    await markEventEmitted(
      this.options.db,
      ended.map((job) => job.id),
    );
  }

  private async writeBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (batch.messages.length === 0) return;
    const results = batch.messages.flatMap((message) => {
      const check = checkResult(safeParse(message.value?.toString('utf8')));
      if (check.ok) return [check.value];
      this.rejected.inc();
      this.options.logger.error(
        { offset: message.offset, errors: check.errors },
        'result breaks its contract; skipped',
      );
      return [];
    });
    for (let attempt = 0; ; attempt++) {
      if (!isRunning() || isStale()) return; // uncommitted: redelivered to whoever owns the partition
      try {
        await this.store(results);
        this.dbDown.set(0);
        break;
      } catch (error) {
        this.dbDown.set(1);
        const backoff = Math.min(200 * 2 ** attempt, this.options.maxBackoffMs ?? 5_000);
        this.options.logger.warn({ err: error, attempt, backoff }, 'insert failed; retrying the batch');
        await heartbeat();
        await sleep(backoff);
      }
    }
    resolveOffset(batch.lastOffset());
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await this.options.consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: next },
    ]);
    await heartbeat();
  }
}

function safeParse(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

function jobEvent(job: {
  id: string;
  tenant_id: string;
  status: string;
  webhook_url: string | null;
  total_items: number;
  completed_items: number;
  failed_items: number;
}): JobEventMessage {
  const status = job.status as JobEventMessage['status'];
  return {
    event_id: randomUUID(),
    type: `job.${status}`,
    job_id: job.id,
    tenant_id: job.tenant_id,
    status,
    ...(job.webhook_url ? { webhook_url: job.webhook_url } : {}),
    summary: { total: job.total_items, successful: job.completed_items, failed: job.failed_items },
    occurred_at: new Date().toISOString(),
  };
}
