import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Logger } from '@sps/observability';
import { PartitionOffsetTracker } from './offset-tracker.js';
import { startConsumer } from './start-consumer.js';

export type MessageHandler = (
  message: KafkaMessage,
  source: { topic: string; partition: number },
) => Promise<void>;

export interface ConcurrentConsumerOptions {
  consumer: Consumer;
  topics: string[];
  /** Messages being handled at once by this instance, over all its partitions. */
  maxInFlight: number;
  handle: MessageHandler;
  logger: Logger;
  commitIntervalMs?: number;
  /** Pause before handling a message again after its handler threw. */
  retryBackoffMs?: number;
  partitionsConsumedConcurrently?: number;
}

/**
 * Keeps many messages of each partition in flight at once and commits, per partition, only the
 * contiguous prefix of finished offsets. A crash at any instant therefore redelivers at most the
 * in-flight messages and never skips one. Handlers are expected to turn failures into outcomes;
 * one that throws is retried (never committed past) until it succeeds or the consumer stops.
 */
export class ConcurrentConsumer {
  private trackers = new Map<string, PartitionOffsetTracker>();
  private inFlight = 0;
  private stopping = false;
  private slotFreed: (() => void) | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private readonly options: Required<ConcurrentConsumerOptions>;

  constructor(options: ConcurrentConsumerOptions) {
    this.options = {
      commitIntervalMs: 200,
      retryBackoffMs: 1_000,
      partitionsConsumedConcurrently: 4,
      ...options,
    };
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  async start(): Promise<void> {
    const { consumer, topics, partitionsConsumedConcurrently } = this.options;
    // A new generation may hand back partitions whose in-flight work will be redelivered from the
    // committed offset: forget every tracker so stale completions can't commit past that work.
    // Before partitions move, commit what is finished (best effort: the generation may already be over).
    consumer.on(consumer.events.REBALANCING, () => void this.commit());
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.trackers = new Map();
    });
    this.commitTimer = setInterval(() => void this.commit(), this.options.commitIntervalMs);
    await startConsumer(consumer, topics, {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch: (payload) => this.dispatchBatch(payload),
    });
  }

  /** Stop fetching, let in-flight work finish until the deadline, commit what finished, leave. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    const { consumer, topics, logger } = this.options;
    consumer.pause(topics.map((topic) => ({ topic })));
    const until = Date.now() + deadlineMs;
    while (this.inFlight > 0 && Date.now() < until) await sleep(50);
    if (this.inFlight > 0)
      logger.warn(
        { abandoned: this.inFlight },
        'shutdown deadline passed; unfinished work will be redelivered',
      );
    clearInterval(this.commitTimer);
    await this.commit();
    await consumer.disconnect();
  }

  private async dispatchBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const key = `${batch.topic}:${batch.partition}`;
    for (const message of batch.messages) {
      if (this.stopping || !isRunning() || isStale()) return;
      await this.waitForSlot(heartbeat);
      if (this.stopping || !isRunning() || isStale()) return;
      let tracker = this.trackers.get(key);
      if (!tracker) this.trackers.set(key, (tracker = new PartitionOffsetTracker()));
      tracker.start(message.offset);
      this.inFlight += 1;
      void this.handleUntilDone(tracker, message, batch.topic, batch.partition);
      // Resolving moves the fetch position only; the commit follows the finished prefix.
      resolveOffset(message.offset);
    }
    await heartbeat();
  }

  private async handleUntilDone(
    tracker: PartitionOffsetTracker,
    message: KafkaMessage,
    topic: string,
    partition: number,
  ): Promise<void> {
    try {
      for (;;) {
        try {
          await this.options.handle(message, { topic, partition });
          tracker.finish(message.offset);
          return;
        } catch (error) {
          this.options.logger.error(
            { err: error, topic, partition, offset: message.offset },
            'handler failed; retrying',
          );
          if (this.stopping) return;
          await sleep(this.options.retryBackoffMs);
        }
      }
    } finally {
      this.inFlight -= 1;
      this.slotFreed?.();
    }
  }

  private async waitForSlot(heartbeat: () => Promise<void>): Promise<void> {
    while (this.inFlight >= this.options.maxInFlight && !this.stopping) {
      await Promise.race([new Promise<void>((resolve) => (this.slotFreed = resolve)), sleep(1_000)]);
      await heartbeat();
    }
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
      await this.options.consumer.commitOffsets(offsets);
    } catch (error) {
      // Usually a rebalance in progress; the next generation restarts from the last good commit.
      this.options.logger.warn({ err: error }, 'offset commit failed');
      for (const { topic, partition, offset } of offsets)
        this.trackers.get(`${topic}:${partition}`)?.commitFailed(offset);
    }
  }
}
