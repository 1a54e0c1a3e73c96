import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Registry } from 'prom-client';
import { backoffDelay, shutdownController, sleepUnlessAborted } from '../backoff.js';
import type { DeadLetterReason, DeadLetters } from '../dead-letters.js';
import { classifyError, PermanentError, type ErrorClass } from '../errors.js';
import { toRawRecord, type ConsumedRecord, type Decoder, type RawRecord } from '../records.js';
import { createGroupConsumer, runGroupConsumer, type GroupOptions } from './consumer-group.js';
import { DEFAULT_RETRY, describe, refuse, type RefusalHandling, type RetryPolicy } from './record-outcome.js';
import { RunnerMetrics } from './runner-metrics.js';
import { inConsumeSpan } from './consume-span.js';

export interface BatchRunnerOptions<T> extends GroupOptions {
  decode: Decoder<T>;
  /** Stores the records of one partition's batch, all or nothing. */
  handleBatch: (records: ConsumedRecord<T>[]) => Promise<void>;
  deadLetters: DeadLetters;
  onRefused?: (record: RawRecord, reason: DeadLetterReason) => Promise<void>;
  classify?: (error: unknown) => ErrorClass;
  retry?: Partial<RetryPolicy>;
  partitionsConsumedConcurrently?: number;
  /** Told when the dependency goes down (true) and comes back (false). */
  onDependencyDown?: (down: boolean) => void;
  /** Where consumer lag (per partition) is reported; none: not reported. */
  registry?: Registry;
}

/**
 * Hands each fetched batch of a partition to one handler call and commits it once stored.
 * A dependency that is down is waited for (same batch, backoff with jitter, heartbeats, no limit,
 * but never past shutdown). Data the dependency refuses is found by bisection: the batch is split
 * until the refused records stand alone, those go to the DLQ with the reason, the rest is stored.
 */
export class BatchRunner<T> {
  private readonly consumer: Consumer;
  private readonly abort = shutdownController();
  private readonly handling: RefusalHandling;
  private readonly classify: (error: unknown) => ErrorClass;
  private readonly metrics: RunnerMetrics;

  constructor(private readonly options: BatchRunnerOptions<T>) {
    this.consumer = createGroupConsumer(options);
    this.metrics = new RunnerMetrics(options.registry, options.groupId);
    this.classify = options.classify ?? classifyError;
    this.handling = {
      deadLetters: options.deadLetters,
      onRefused: options.onRefused,
      classify: this.classify,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      logger: options.logger,
      signal: this.abort.signal,
    };
  }

  async start(): Promise<void> {
    await runGroupConsumer(this.consumer, this.options.topics, {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.consume(payload),
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.consumer.disconnect();
  }

  private async consume(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    if (batch.messages.length === 0) return;
    // Lag as fetched (this batch still to store), then past it once committed.
    this.metrics.recordLag(batch.topic, batch.partition, () => batch.offsetLagLow());
    const live = () => !this.abort.signal.aborted && isRunning() && !isStale();
    const decoded: ConsumedRecord<T>[] = [];
    const raws = new Map<ConsumedRecord<T>, RawRecord>();
    for (const message of batch.messages) {
      const raw = toRawRecord(message, batch.topic, batch.partition);
      try {
        const record = { ...raw, value: this.options.decode(raw) };
        decoded.push(record);
        raws.set(record, raw);
      } catch (error) {
        const code = error instanceof PermanentError ? error.code : 'CONTRACT_VIOLATION';
        if (!(await refuse(raw, { code, reason: describe(error), attempts: 1 }, this.handling))) return;
      }
    }
    // One CONSUMER span per batch, linked to every record's context (see inConsumeSpan).
    const store = () => this.storeIsolating(decoded, raws, heartbeat, live);
    const stored =
      decoded.length === 0 ? true : await inConsumeSpan([...raws.values()], this.options.groupId, store);
    if (!stored) return; // uncommitted: redelivered to whoever owns the partition next
    resolveOffset(batch.lastOffset());
    await this.consumer.commitOffsets([
      {
        topic: batch.topic,
        partition: batch.partition,
        offset: (BigInt(batch.lastOffset()) + 1n).toString(),
      },
    ]);
    this.metrics.recordLag(batch.topic, batch.partition, () => batch.offsetLag());
    await heartbeat();
  }

  /** True once every record is stored or dead-lettered; false if the runner stopped first. */
  private async storeIsolating(
    records: ConsumedRecord<T>[],
    raws: Map<ConsumedRecord<T>, RawRecord>,
    heartbeat: () => Promise<void>,
    live: () => boolean,
  ): Promise<boolean> {
    if (records.length === 0) return true;
    for (let attempt = 0; ; attempt++) {
      if (!live()) return false;
      try {
        await this.options.handleBatch(records);
        if (attempt > 0) this.options.onDependencyDown?.(false);
        return true;
      } catch (error) {
        const kind = this.classify(error);
        if (kind === 'transient') {
          this.options.onDependencyDown?.(true);
          const wait = backoffDelay(attempt, this.handling.retry);
          this.options.logger.warn(
            { err: error, attempt, wait, records: records.length },
            'dependency down; retrying the batch',
          );
          await heartbeat().catch(() => undefined);
          await sleepUnlessAborted(wait, this.abort.signal);
          continue;
        }
        if (records.length > 1) {
          // Somebody in here is refused: split until the refused ones stand alone.
          const middle = Math.ceil(records.length / 2);
          return (
            (await this.storeIsolating(records.slice(0, middle), raws, heartbeat, live)) &&
            (await this.storeIsolating(records.slice(middle), raws, heartbeat, live))
          );
        }
        if (kind === 'unknown' && attempt + 1 < this.handling.retry.maxAttempts) {
          await sleepUnlessAborted(backoffDelay(attempt, this.handling.retry), this.abort.signal);
          continue;
        }
        const code =
          error instanceof PermanentError
            ? error.code
            : kind === 'permanent'
              ? 'DATA_REFUSED'
              : 'RETRIES_EXHAUSTED';
        return refuse(
          raws.get(records[0]!)!,
          { code, reason: describe(error), attempts: attempt + 1 },
          this.handling,
        );
      }
    }
  }
}
