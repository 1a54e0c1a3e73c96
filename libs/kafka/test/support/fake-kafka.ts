import type {
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  EachBatchPayload,
  EachMessagePayload,
  Kafka,
  KafkaMessage,
  Producer,
  ProducerBatch,
} from 'kafkajs';
import { createLogger } from '@sps/observability';

export const silentLogger = createLogger({ service: 'test', level: 'silent' });

type Listener = (event: { payload: unknown }) => void;

/**
 * A stand-in for the client's consumer in pure unit tests: the test hands batches to the runner's
 * eachBatch (or, for a consumer run with eachMessage, its messages one by one) itself and sees what
 * it resolved, paused, resumed and committed. (Runners are also exercised against the real broker
 * by the integration tests.)
 */
export class FakeConsumer {
  readonly events = { CRASH: 'crash', GROUP_JOIN: 'join', REBALANCING: 'rebalancing' };
  readonly commits: { topic: string; partition: number; offset: string }[] = [];
  readonly paused = new Set<string>();
  readonly resumed: string[] = [];
  readonly resolved = new Map<string, string>();
  private listeners = new Map<string, Listener[]>();
  private eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  private eachMessage: ((payload: EachMessagePayload) => Promise<void>) | undefined;
  disconnected = false;
  /** What the consumer was created with (set by `fakeKafka`). */
  config: ConsumerConfig | undefined;
  /** Every `subscribe` call, in order. */
  readonly subscriptions: { topics: (string | RegExp)[]; fromBeginning?: boolean }[] = [];
  /** The options of `run` (without the callbacks' identity mattering). */
  runConfig: ConsumerRunConfig | undefined;

  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () =>
      this.listeners.set(
        event,
        (this.listeners.get(event) ?? []).filter((l) => l !== listener),
      );
  }
  emit(event: string, payload: unknown = {}) {
    for (const listener of this.listeners.get(event) ?? []) listener({ payload });
  }
  async connect() {}
  async subscribe(subscription?: { topics?: (string | RegExp)[]; topic?: string; fromBeginning?: boolean }) {
    if (!subscription) return;
    const topics = subscription.topics ?? (subscription.topic === undefined ? [] : [subscription.topic]);
    this.subscriptions.push({ topics, fromBeginning: subscription.fromBeginning });
  }
  async run(config: ConsumerRunConfig) {
    this.runConfig = config;
    this.eachBatch = config.eachBatch;
    this.eachMessage = config.eachMessage;
    setImmediate(() => this.emit(this.events.GROUP_JOIN));
  }
  pause(topics: { topic: string; partitions?: number[] }[]) {
    for (const { topic, partitions } of topics)
      for (const p of partitions ?? [-1]) this.paused.add(`${topic}:${p}`);
  }
  resume(topics: { topic: string; partitions: number[] }[]) {
    for (const { topic, partitions } of topics)
      for (const p of partitions) {
        this.paused.delete(`${topic}:${p}`);
        this.resumed.push(`${topic}:${p}`);
      }
  }
  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]) {
    this.commits.push(...offsets);
  }
  async disconnect() {
    this.disconnected = true;
  }
  committed(topic: string, partition: number): string | undefined {
    return this.commits.filter((c) => c.topic === topic && c.partition === partition).at(-1)?.offset;
  }

  /**
   * Hands one batch to the runner, as the client's fetch loop would: to eachBatch, or message by
   * message (each awaited) to eachMessage when the consumer was run with that.
   */
  async deliver(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    if (!this.eachBatch && this.eachMessage) {
      for (const message of messages) await this.deliverMessage(topic, partition, message);
      return;
    }
    if (!this.eachBatch) throw new Error('runner not started');
    const key = `${topic}:${partition}`;
    await this.eachBatch({
      batch: {
        topic,
        partition,
        messages,
        highWatermark: '0',
        isEmpty: () => messages.length === 0,
        firstOffset: () => messages[0]?.offset ?? null,
        lastOffset: () => messages.at(-1)!.offset,
        offsetLag: () => '0',
        offsetLagLow: () => '0',
      },
      resolveOffset: (offset: string) => this.resolved.set(key, offset),
      heartbeat: async () => {},
      pause: () => {
        this.paused.add(key);
        return () => this.resume([{ topic, partitions: [partition] }]);
      },
      commitOffsetsIfNecessary: async () => {},
      uncommittedOffsets: () => ({ topics: [] }),
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }

  /** Hands one message to a consumer run with eachMessage. */
  async deliverMessage(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    if (!this.eachMessage) throw new Error('consumer not run with eachMessage');
    const key = `${topic}:${partition}`;
    await this.eachMessage({
      topic,
      partition,
      message,
      heartbeat: async () => {},
      pause: () => {
        this.paused.add(key);
        return () => this.resume([{ topic, partitions: [partition] }]);
      },
    });
  }
}

/** The admin client's calls the service makes, answered from a table of topics and partition counts. */
export class FakeAdmin {
  connects = 0;
  disconnects = 0;
  readonly metadataRequests: string[][] = [];

  constructor(readonly partitions: Record<string, number> = {}) {}

  async connect() {
    this.connects += 1;
  }
  async disconnect() {
    this.disconnects += 1;
  }
  async fetchTopicMetadata({ topics = [] }: { topics?: string[] } = {}) {
    this.metadataRequests.push(topics);
    return {
      topics: topics
        .filter((topic) => this.partitions[topic] !== undefined)
        .map((topic) => ({
          name: topic,
          partitions: Array.from({ length: this.partitions[topic]! }, (_, partitionId) => ({
            partitionErrorCode: 0,
            partitionId,
            leader: 0,
            replicas: [0],
            isr: [0],
            offlineReplicas: [],
          })),
        })),
    };
  }
  async listTopics() {
    return Object.keys(this.partitions);
  }
}

/**
 * A client whose `consumer(config)` hands out the given fake (or, with a function, the fake it
 * picks for that config, e.g. by group id; several runners sharing one client), recording the
 * config on it, and whose `admin()` is the given FakeAdmin.
 */
export function fakeKafka(
  consumer: FakeConsumer | ((config: ConsumerConfig) => FakeConsumer),
  admin: FakeAdmin = new FakeAdmin(),
): Kafka {
  return {
    consumer: (config: ConsumerConfig) => {
      const chosen = typeof consumer === 'function' ? consumer(config) : consumer;
      chosen.config = config;
      return chosen as unknown as Consumer;
    },
    admin: () => admin,
  } as unknown as Kafka;
}

export function message(
  offset: number,
  value: unknown,
  headers: Record<string, string> = {},
  timestamp = Date.now(),
): KafkaMessage {
  return {
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    timestamp: String(timestamp),
    attributes: 0,
    size: 0,
  } as unknown as KafkaMessage;
}

/** The same message with another key (`null`: no key). */
export function withKey(source: KafkaMessage, key: string | null): KafkaMessage {
  return { ...source, key: key === null ? null : Buffer.from(key) } as KafkaMessage;
}

/** A client producer whose produce requests the test sees, and can make fail. */
export class FakeProducer {
  readonly requests: ProducerBatch[] = [];
  fail: ((batch: ProducerBatch) => Error | undefined) | undefined;
  delayMs = 0;
  async sendBatch(batch: ProducerBatch) {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const error = this.fail?.(batch);
    if (error) throw error;
    this.requests.push(batch);
    return [];
  }
  /**
   * Every record acknowledged so far, with its topic (and its partition, only when the producer
   * named one).
   */
  sent(): {
    topic: string;
    key: string;
    value: string;
    headers: Record<string, string>;
    partition?: number;
  }[] {
    return this.requests.flatMap((r) =>
      (r.topicMessages ?? []).flatMap(({ topic, messages }) =>
        messages.map((m) => ({
          topic,
          key: m.key?.toString() ?? '',
          value: m.value?.toString() ?? '',
          headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
          ...(m.partition === undefined ? {} : { partition: m.partition }),
        })),
      ),
    );
  }

  /** The records acknowledged on one topic. */
  sentTo(topic: string): ReturnType<FakeProducer['sent']> {
    return this.sent().filter((record) => record.topic === topic);
  }
  asProducer(): Producer {
    return this as unknown as Producer;
  }
}

export async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
