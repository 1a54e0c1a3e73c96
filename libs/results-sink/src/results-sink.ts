import { setTimeout as sleep } from 'node:timers/promises';
import { compileContract, ResultMessage } from '@sps/contracts';
import { insertResults, type Database } from '@sps/db';
import type { Consumer, EachBatchPayload } from '@sps/kafka';
import type { Logger } from '@sps/observability';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ResultsSinkOptions {
  consumer: Consumer;
  db: Database;
  topic: string;
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
    this.rows = new Counter({ name: 'sps_sink_rows_inserted_total', help: 'request_logs rows inserted', registers });
    this.rejected = new Counter({ name: 'sps_sink_rejected_total', help: 'results that broke their contract', registers });
    this.dbDown = new Gauge({ name: 'sps_sink_database_unavailable', help: '1 while inserts fail', registers });
  }

  async start(): Promise<void> {
    const { consumer, topic } = this.options;
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: (payload) => this.writeBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.options.consumer.disconnect();
  }

  private async writeBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (batch.messages.length === 0) return;
    const results = batch.messages.flatMap((message) => {
      const check = checkResult(safeParse(message.value?.toString('utf8')));
      if (check.ok) return [check.value];
      this.rejected.inc();
      this.options.logger.error({ offset: message.offset, errors: check.errors }, 'result breaks its contract; skipped');
      return [];
    });
    for (let attempt = 0; ; attempt++) {
      if (!isRunning() || isStale()) return; // uncommitted: redelivered to whoever owns the partition
      try {
        const inserted = await insertResults(this.options.db, results);
        this.rows.inc(inserted.length);
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
    await this.options.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
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
