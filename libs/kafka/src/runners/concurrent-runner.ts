import { shutdownController } from '../backoff.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Registry } from 'prom-client';
import { PartitionOffsetTracker } from '../offset-tracker.js';
import { PermanentError } from '../errors.js';
import { toRawRecord, type ConsumedRecord, type Decoder, type RawRecord } from '../records.js';
import { createGroupConsumer, runGroupConsumer, type GroupOptions } from './consumer-group.js';
import {
  DEFAULT_RETRY,
  refuse,
  runToOutcome,
  type RefusalHandling,
  type RetryPolicy,
} from './record-outcome.js';
import type { DeadLetterReason, DeadLetters } from '../dead-letters.js';
import type { ErrorClass } from '../errors.js';
import { RunnerMetrics } from './runner-metrics.js';
import { inConsumeSpan } from './consume-span.js';

export interface ConcurrentRunnerOptions<T> extends GroupOptions {
  decode: Decoder<T>;
  handle: (record: ConsumedRecord<T>) => Promise<void>;
  deadLetters: DeadLetters;
  onRefused?: (record: RawRecord, reason: DeadLetterReason) => Promise<void>;
  classify?: (error: unknown) => ErrorClass;
  retry?: Partial<RetryPolicy>;
  /** Records being handled at once by this instance, over all its partitions. */
  maxInFlight: number;
  /**
   * Span of uncommitted records per partition (oldest unfinished to newest started): what a crash
   * can make the next owner redo (done work there is mostly answered from the cache). Default:
   * twice maxInFlight, so that one slow record does not stop its partition at once.
   */
  maxUncommittedPerPartition?: number;
  /** Milliseconds before this record may run (delayed retries); the partition waits, unread. */
  holdFor?: (record: RawRecord) => number;
  partitionsConsumedConcurrently?: number;
  commitIntervalMs?: number;
  /** Where consumer lag (per partition) and records in flight are reported; none: not reported. */
  registry?: Registry;
}

interface Paused {
  topic: string;
  partition: number;
}

/**
 * Keeps many records of each partition in flight at once and commits, per partition, only the
 * contiguous prefix of finished offsets: a crash at any instant redelivers at most the uncommitted
 * span and never skips a record. A partition whose uncommitted span is at its bound, or whose next
 * record is not due, is paused unread and resumed when it may go on, so other partitions never wait
 * behind it. Only the instance-wide in-flight bound, which every partition shares, is waited for in
 * the client's callback (heartbeating), so that a freed slot is taken at once.
 */
export class ConcurrentRunner<T> {
  private readonly consumer: Consumer;
  private trackers = new Map<string, PartitionOffsetTracker>();
  private readonly pausedForCapacity = new Map<string, Paused>();
  private readonly holdTimers = new Set<NodeJS.Timeout>();
  private slotFreed: (() => void)[] = [];
  private stopping = false;
  private inFlight = 0;
  private readonly abort = shutdownController();
  private commitTimer: NodeJS.Timeout | undefined;
  private readonly handling: RefusalHandling;
  private readonly maxSpan: number;
  private readonly metrics: RunnerMetrics;

  constructor(private readonly options: ConcurrentRunnerOptions<T>) {
    this.consumer = createGroupConsumer(options);
    this.metrics = new RunnerMetrics(options.registry, options.groupId, true);
    this.maxSpan = options.maxUncommittedPerPartition ?? 2 * options.maxInFlight;
    this.handling = {
      deadLetters: options.deadLetters,
      onRefused: options.onRefused,
      classify: options.classify,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      logger: options.logger,
      signal: this.abort.signal,
    };
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  async start(): Promise<void> {
    const { consumer } = this;
    // Before partitions move, commit what is finished (best effort: the generation may be over).
    consumer.on(consumer.events.REBALANCING, () => void this.commit());
    // A new generation restarts each partition from its committed offset: forget every tracker so
    // that completions of the old generation cannot commit past work that will be redelivered.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.trackers = new Map();
      const paused = [...this.pausedForCapacity.values()];
      this.pausedForCapacity.clear();
      if (paused.length > 0)
        consumer.resume(paused.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
    });
    this.commitTimer = setInterval(() => void this.commit(), this.options.commitIntervalMs ?? 200);
    await runGroupConsumer(consumer, this.options.topics, {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.dispatch(payload),
    });
  }

  /** Stop fetching, let in-flight work finish until the deadline, commit what finished, leave. */
  async stop(deadlineMs: number): Promise<void> {
    const { consumer, options } = this;
    this.stopping = true; // nothing new starts, even in a batch that waits for a slot
    consumer.pause(options.topics.map((topic) => ({ topic })));
    for (const timer of this.holdTimers) clearTimeout(timer);
    const until = Date.now() + deadlineMs;
    while (this.inFlight > 0 && Date.now() < until) await sleep(20);
    // Whatever still runs (a backoff, a slow call) is abandoned to redelivery.
    this.abort.abort();
    for (const wake of this.slotFreed.splice(0)) wake();
    if (this.inFlight > 0)
      options.logger.warn(
        { abandoned: this.inFlight },
        'shutdown deadline passed; unfinished work will be redelivered',
      );
    clearInterval(this.commitTimer);
    await this.commit();
    await consumer.disconnect();
  }

  private async dispatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, pause } = payload;
    const key = `${batch.topic}:${batch.partition}`;
    // Lag as fetched: this batch's records are still to do.
    this.metrics.recordLag(batch.topic, batch.partition, () => batch.offsetLagLow());
    for (const message of batch.messages) {
      if (this.stopping || !isRunning() || isStale()) return;
      const raw = toRawRecord(message, batch.topic, batch.partition);
      const hold = this.options.holdFor?.(raw) ?? 0;
      if (hold > 0) {
        // Unresolved, so the partition is read again from this record once it resumes.
        const resume = pause();
        const timer = setTimeout(() => {
          this.holdTimers.delete(timer);
          resume();
        }, hold);
        this.holdTimers.add(timer);
        return;
      }
      let tracker = this.trackers.get(key);
      if (!tracker) this.trackers.set(key, (tracker = new PartitionOffsetTracker()));
      // Checked before waiting for a slot: only this loop adds to the partition's span, so it can
      // only shrink meanwhile.
      if (tracker.inFlight >= this.maxSpan) {
        pause();
        this.pausedForCapacity.set(key, { topic: batch.topic, partition: batch.partition });
        return;
      }
      // The instance-wide bound is waited for here, heartbeating: every partition shares it, and
      // a slot is taken the moment one frees (pausing would cost a refetch and a fetch-wait).
      const taken =
        this.inFlight < this.options.maxInFlight
          ? this.takeSlot()
          : await this.waitForSlot(heartbeat, () => isRunning() && !isStale());
      if (!taken) return;
      tracker.start(message.offset);
      void this.run(tracker, raw);
      // Resolving moves the fetch position only; the commit follows the finished prefix.
      resolveOffset(message.offset);
    }
    // Every record of the batch started: what remains is past it.
    this.metrics.recordLag(batch.topic, batch.partition, () => batch.offsetLag());
    await heartbeat();
  }

  private async run(tracker: PartitionOffsetTracker, raw: RawRecord): Promise<void> {
    let done = false;
    try {
      // Inside a CONSUMER span, child of the record's traceparent: the handler's spans (and the
      // records it produces) join the producer's trace.
      done = await inConsumeSpan([raw], this.options.groupId, async () => {
        let value: T;
        try {
          value = this.options.decode(raw);
        } catch (error) {
          const code = error instanceof PermanentError ? error.code : 'CONTRACT_VIOLATION';
          return refuse(raw, { code, reason: (error as Error).message, attempts: 1 }, this.handling);
        }
        const record: ConsumedRecord<T> = { ...raw, value };
        return runToOutcome(raw, () => this.options.handle(record), this.handling);
      });
    } catch (error) {
      this.options.logger.error(
        { err: error, offset: raw.offset },
        'runner failure; record left for redelivery',
      );
    } finally {
      if (done) tracker.finish(raw.offset);
      this.inFlight -= 1;
      this.metrics.recordInFlight(this.inFlight);
      this.resumeIfRoom();
    }
  }

  /**
   * Takes a slot, in the same synchronous step as the check that one is free: with an await in
   * between, the loops of several partitions could each see the last free slot and all take it
   * (the bound was overshot by up to partitionsConsumedConcurrently - 1).
   */
  private takeSlot(): true {
    this.inFlight += 1;
    this.metrics.recordInFlight(this.inFlight);
    return true;
  }

  /** Takes a slot once one frees; false if the runner stopped or the partition moved meanwhile. */
  private async waitForSlot(heartbeat: () => Promise<void>, live: () => boolean): Promise<boolean> {
    for (;;) {
      if (this.stopping || !live()) return false;
      if (this.inFlight < this.options.maxInFlight) return this.takeSlot();
      await new Promise<void>((resolve) => {
        this.slotFreed.push(resolve);
        setTimeout(resolve, 1_000).unref();
      });
      await heartbeat().catch(() => undefined);
    }
  }

  /** Resumes partitions paused at their span bound once their span has room (with slack, to avoid refetch churn). */
  private resumeIfRoom(): void {
    const waiters = this.slotFreed.splice(0);
    for (const wake of waiters) wake();
    if (this.pausedForCapacity.size === 0 || this.abort.signal.aborted) return;
    const resumable: Paused[] = [];
    for (const [key, paused] of this.pausedForCapacity) {
      const span = this.trackers.get(key)?.inFlight ?? 0;
      if (span >= Math.ceil(this.maxSpan * 0.75)) continue;
      this.pausedForCapacity.delete(key);
      resumable.push(paused);
    }
    if (resumable.length > 0)
      this.consumer.resume(resumable.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
  }

  private async commit(): Promise<void> {
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const [key, tracker] of this.trackers) {
      const offset = tracker.takeCommit();
      if (offset === undefined) continue;
      const separator = key.lastIndexOf(':');
      offsets.push({ topic: key.slice(0, separator), partition: Number(key.slice(separator + 1)), offset });
    }
    if (offsets.length === 0) return;
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (error) {
      // Usually a rebalance in progress; the next generation restarts from the last good commit.
      this.options.logger.warn({ err: error }, 'offset commit failed');
      for (const { topic, partition, offset } of offsets)
        this.trackers.get(`${topic}:${partition}`)?.commitFailed(offset);
    }
  }
}
