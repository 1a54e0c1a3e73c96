import { randomUUID } from 'node:crypto';
import type { Kafka, Consumer } from 'kafkajs';
import type { Logger } from '@sps/observability';
import { fixedPartitionAssigner } from './fixed-partition-assigner.js';
import { runGroupConsumer } from './runners/consumer-group.js';

export interface ReplyAddress {
  topic: string;
  partition: number;
}

interface Waiter {
  resolve: (value: Buffer | null) => void;
  timer: NodeJS.Timeout;
}

/**
 * The API instance's side of request-reply. The instance owns one partition of the reply topic
 * (its own consumer group, fixed assignment), so replies are never fanned out to every instance
 * and no rebalance moves them. Replies are matched to waiters by correlation id (the record key).
 */
export class ReplyListener {
  private readonly waiters = new Map<string, Waiter>();
  private consumer: Consumer | undefined;
  private address: ReplyAddress | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly logger: Logger,
    private readonly instanceId = randomUUID(),
  ) {}

  get replyAddress(): ReplyAddress {
    if (!this.address) throw new Error('reply listener not started');
    return this.address;
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const metadata = await admin
      .fetchTopicMetadata({ topics: [this.topic] })
      .finally(() => admin.disconnect());
    const partitions = metadata.topics[0]?.partitions.length ?? 1;
    const partition = parseInt(this.instanceId.replace(/-/g, '').slice(0, 8), 16) % partitions;
    this.address = { topic: this.topic, partition };
    this.consumer = this.kafka.consumer({
      groupId: `sps-ingest-replies-${this.instanceId}`,
      partitionAssigners: [fixedPartitionAssigner(this.topic, partition)],
      sessionTimeout: 30_000,
      maxWaitTimeInMs: 100,
      // A broker that is away is waited for: replies must flow again by themselves once it is back.
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
    });
    await runGroupConsumer(
      this.consumer,
      [this.topic],
      {
        autoCommit: false,
        eachMessage: async ({ message }) => {
          const key = message.key?.toString();
          const waiter = key ? this.waiters.get(key) : undefined;
          if (!waiter || !key) return;
          this.waiters.delete(key);
          clearTimeout(waiter.timer);
          waiter.resolve(message.value);
        },
      },
      false,
    );
    this.logger.info({ topic: this.topic, partition }, 'reply listener ready');
  }

  /** Resolves with the reply's value, or `undefined` once `timeoutMs` has passed. */
  waitFor(correlationId: string, timeoutMs: number): Promise<Buffer | null | undefined> {
    this.cancel(correlationId); // one waiter per id: a second wait replaces the first
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(correlationId);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(correlationId, { resolve, timer });
    });
  }

  cancel(correlationId: string): void {
    const waiter = this.waiters.get(correlationId);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.waiters.delete(correlationId);
  }

  get pending(): number {
    return this.waiters.size;
  }

  async stop(): Promise<void> {
    for (const waiter of this.waiters.values()) clearTimeout(waiter.timer);
    await this.consumer?.disconnect();
  }
}
